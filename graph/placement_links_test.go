package graph_test

import (
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// signinPage opens a sign-in link as a browser does: GET shows the page (and uses nothing
// up), POST presses its button.
func signinPage(t *testing.T, e *testkit.Env, method, link string) string {
	t.Helper()
	status, page := e.Browser().SignIn(t, method, link)
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d\n%s", method, link, status, page)
	}
	return html.UnescapeString(page)
}

// offerLinks finds the one email to addr whose subject starts with subject and returns its
// sign-in links (text body) after checking the HTML carries the same ones as buttons.
func emailLinks(t *testing.T, e *testkit.Env, addr, subject string, buttons ...string) (testkit.ReceivedMessage, []string) {
	t.Helper()
	var found []testkit.ReceivedMessage
	for _, m := range messagesTo(e, addr) {
		if strings.HasPrefix(m.Subject, subject) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s received %d emails %q", addr, len(found), subject)
	}
	m := found[0]
	links := linkRE.FindAllString(m.TextBody(), -1)
	body := html.UnescapeString(m.HTMLBody())
	for i, b := range buttons {
		if i >= len(links) || !strings.Contains(body, `href="`+links[i]+`"`) || !strings.Contains(body, ">"+b+"</a>") {
			t.Errorf("%s: button %q with link %d missing from the HTML:\n%s", subject, b, i, body)
		}
	}
	if len(links) != len(buttons) {
		t.Fatalf("%s: %d links, want %d:\n%s", subject, len(links), len(buttons), m.TextBody())
	}
	return m, links
}

// TestOfferEmailButtonsWorkThroughSignIn: the offer email carries "Accept the offer" and
// "Decline the offer" buttons whose links sign the trainee in and answer the offer through
// the real /signin page; the host's "please confirm" email carries a button that confirms.
func TestOfferEmailButtonsWorkThroughSignIn(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var run struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
		amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
		e.DrainOutbox()
		ioana, aoife := placementOf(t, e, r.ioana), placementOf(t, e, r.aoife)
		status := func(id string) string {
			t.Helper()
			var out struct {
				Node struct{ Status, StatusReason string }
			}
			staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Placement { status statusReason } } }`, map[string]any{"id": id}, &out)
			return out.Node.Status
		}

		// Ioana accepts with the button.
		m, links := emailLinks(t, e, "ioana.popescu@example.ro", "Your observership offer", "Accept the offer", "Decline the offer")
		if text := m.TextBody(); !strings.Contains(text, "by Tuesday 2 March 2027, 17:30 (Europe/Brussels)") || !strings.Contains(text, "To accept the offer, open this link") {
			t.Errorf("offer email lacks the deadline or the instructions:\n%s", text)
		}
		if got := m.Header.Get("Reply-To"); got != "office@coalition.test" {
			t.Errorf("offer email Reply-To %q, want the contact address (here MAIL_FROM's)", got)
		}
		accept, decline := links[0], links[1]
		for range 2 { // GET describes, and uses nothing up
			if got := signinPage(t, e, http.MethodGet, accept); !strings.Contains(got, "Sign in and accept the observership at CAR-T Unit, Hôpital Saint-Exemple from 2027-04-12 to 2027-04-23.") {
				t.Errorf("GET accept page:\n%s", got)
			}
		}
		if got := signinPage(t, e, http.MethodGet, decline); !strings.Contains(got, "Sign in and decline the observership") {
			t.Errorf("GET decline page:\n%s", got)
		}
		if s := status(ioana); s != "OFFERED" {
			t.Fatalf("GET changed the placement: %s", s)
		}
		if got := signinPage(t, e, http.MethodPost, accept); !strings.Contains(got, "You are signed in") ||
			!strings.Contains(got, "You accepted the observership at CAR-T Unit, Hôpital Saint-Exemple from 2027-04-12 to 2027-04-23.") {
			t.Errorf("POST accept page:\n%s", got)
		}
		if s := status(ioana); s != "ACCEPTED" {
			t.Errorf("after the accept button: %s", s)
		}
		// The decline link of the same email no longer declines: it signs in and says why.
		if got := signinPage(t, e, http.MethodGet, decline); strings.Contains(got, "decline the observership") {
			t.Errorf("GET decline page after accepting still offers to decline:\n%s", got)
		}
		if got := signinPage(t, e, http.MethodPost, decline); !strings.Contains(got, "This offer is no longer open (the placement is ACCEPTED), so nothing was changed.") {
			t.Errorf("POST decline after accepting:\n%s", got)
		}
		if s := status(ioana); s != "ACCEPTED" {
			t.Errorf("the stale decline link changed the placement: %s", s)
		}

		// Claire is asked to confirm, with a button that does it.
		e.DrainOutbox()
		_, links = emailLinks(t, e, "claire.martin@hopital.example.fr", "Ioana Popescu accepted the placement", "Confirm the placement")
		if got := signinPage(t, e, http.MethodGet, links[0]); !strings.Contains(got, "Sign in and confirm the observership of Ioana Popescu at CAR-T Unit, Hôpital Saint-Exemple") {
			t.Errorf("GET confirm page:\n%s", got)
		}
		if got := signinPage(t, e, http.MethodPost, links[0]); !strings.Contains(got, "You confirmed the observership of Ioana Popescu") {
			t.Errorf("POST confirm page:\n%s", got)
		}
		if s := status(ioana); s != "CONFIRMED" {
			t.Errorf("after the confirm button: %s", s)
		}

		// Aoife declines with the button; her accept link then does nothing.
		_, links = emailLinks(t, e, "aoife.byrne@example.ie", "Your observership offer", "Accept the offer", "Decline the offer")
		if got := signinPage(t, e, http.MethodPost, links[1]); !strings.Contains(got, "You declined the observership at Zentrum") {
			t.Errorf("POST decline page:\n%s", got)
		}
		if s := status(aoife); s != "DECLINED" {
			t.Errorf("after the decline button: %s", s)
		}
		if got := signinPage(t, e, http.MethodPost, links[0]); !strings.Contains(got, "This offer is no longer open (the placement is DECLINED)") {
			t.Errorf("POST accept after declining:\n%s", got)
		}
		if s := status(aoife); s != "DECLINED" {
			t.Errorf("the stale accept link changed the placement: %s", s)
		}
	})
}
