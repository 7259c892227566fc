package graph_test

import (
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestContactAddressAndReplyTo: COALITION_CONTACT_EMAIL is the address of every email's
// footer and the Reply-To of emails a person may answer; a sign-in link has no Reply-To.
func TestContactAddressAndReplyTo(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		var out struct{ RequestLoginLink struct{ Accepted bool } }
		a.anon.MustDo(requestLink, map[string]any{"e": "marek.dvorak@example.cz"}, &out)
		pharm := gmust(t, a.staff, createGroupM, map[string]any{"name": "Pharmacist Working Group", "workPackage": "STANDARDS_OF_CARE", "visibility": "PUBLIC"}).WorkingGroup.ID
		invite(t, a.staff, pharm, a.traineeID, "MEMBER", "2027-02-01", "2029-01-31")
		e.DrainOutbox()
		msgs := e.SMTP.Messages()[seen:]
		if len(msgs) != 2 {
			t.Fatalf("messages: %q", subjects(msgs))
		}
		for _, m := range msgs {
			invitation := strings.HasPrefix(m.Subject, "Invitation to")
			want := ""
			if invitation {
				want = "help@coalition.test"
			}
			if got := m.Header.Get("Reply-To"); got != want {
				t.Errorf("%s: Reply-To %q, want %q", m.Subject, got, want)
			}
			if !strings.Contains(m.TextBody(), "Questions? Write to help@coalition.test.") || !strings.Contains(m.HTMLBody(), "mailto:help@coalition.test") {
				t.Errorf("%s: footer does not name the contact address:\n%s", m.Subject, m.TextBody())
			}
			if m.Header.Get("From") != `"CAR-T Coalition" <office@coalition.test>` && !strings.Contains(m.Header.Get("From"), "<office@coalition.test>") {
				t.Errorf("%s: From %q", m.Subject, m.Header.Get("From"))
			}
		}
	}, testkit.WithConfig(func(c *config.Config) { c.ContactEmail = "help@coalition.test" }))
}
