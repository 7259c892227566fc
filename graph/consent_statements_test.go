package graph_test

import (
	"fmt"
	"testing"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// The consent reads with every field selected, including the edges a front end could ask
// for (a record's text and subscription).
const (
	myConsentsAllQ = `{ myConsents { purpose status
		text { id purpose version body requiresReconsent publishedAt lapsedAt }
		record { id purpose event source consentText consentVersion at withdrawnAt
			text { id version lapsedAt } subscription { id } } } }`
	consentTextsAllQ = `query($p: ConsentPurpose!) { consentTexts(purpose: $p) { id purpose version body requiresReconsent publishedAt lapsedAt } }`
)

// The SQL statements a consent read may send, whatever the number of texts and records.
// Signing in costs 2 (the session with its user). myConsents: the person's records and
// their texts (2), the current texts (1), and the subscription edge of the record shown for
// each of the two personal purposes (2: null for them, but each is one look-up, per
// purpose and not per record). consentTexts: the texts (1).
const (
	signedInStatements         = 2
	myConsentsBudget           = signedInStatements + 5
	consentTextsBudget         = 1
	consentTextsSignedInBudget = signedInStatements + consentTextsBudget
)

// TestConsentStatementsDoNotGrow: myConsents and consentTexts send the same number of
// statements, within their budgets, when staff have published 3 versions of each personal
// purpose's text and the person has 4 consent records per purpose as when there are 30
// versions and 40 records per purpose (and another person's records alike): the records
// and the versions are each read in one statement.
func TestConsentStatementsDoNotGrow(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		purposes := []string{"DIRECTORY_PROFILE", "HOST_CONTACT"}
		give := func(c *testkit.Client, p string) {
			t.Helper()
			if r := consentDo(t, c, giveConsentM, map[string]any{"p": p}); len(r.UserErrors) > 0 || r.Record == nil {
				t.Fatalf("give %s: %+v", p, r.UserErrors)
			}
		}
		withdraw := func(c *testkit.Client, p string) {
			t.Helper()
			if r := consentDo(t, c, withdrawConsentM, map[string]any{"p": p}); len(r.UserErrors) > 0 || r.Withdrawn == 0 {
				t.Fatalf("withdraw %s: %+v", p, r.UserErrors)
			}
		}
		// Each version asks again (so the one before lapses); both trainees consent to it,
		// and every third time the trainee withdraws and consents again.
		versions, records := 0, 0
		seed := func(n int) {
			for ; versions < n; versions++ {
				for _, p := range purposes {
					publish(t, a.staff, p, fmt.Sprintf("Version %d of the %s text.", versions+1, p), versions > 0)
					give(a.trainee, p)
					give(a.other, p)
					if versions%3 == 2 {
						withdraw(a.trainee, p)
						give(a.trainee, p)
					}
				}
				records++
				if versions%3 == 2 {
					records++
				}
			}
		}
		measure := func() (mine, texts, anonTexts int64) {
			t.Helper()
			a.trainee.MustDo(`{ me { id } }`, nil, nil) // warm up (last_used_at)
			var out struct {
				MyConsents []struct {
					Purpose, Status string
					Text            *struct{ Version int }
					Record          *struct {
						ConsentVersion string
						Text           *struct{ Version int }
					}
				}
			}
			mine, _ = counted(t, e, a.trainee, myConsentsAllQ, nil, &out)
			if len(out.MyConsents) != len(purposes) {
				t.Fatalf("myConsents: %+v", out.MyConsents)
			}
			for _, c := range out.MyConsents {
				if c.Status != "GIVEN" || c.Text == nil || c.Text.Version != versions || c.Record == nil || c.Record.Text == nil ||
					c.Record.Text.Version != versions || c.Record.ConsentVersion != fmt.Sprintf("v%d", versions) {
					t.Fatalf("myConsents after %d versions: %+v", versions, c)
				}
			}
			var list struct{ ConsentTexts []struct{ Version int } }
			texts, _ = counted(t, e, a.trainee, consentTextsAllQ, map[string]any{"p": "HOST_CONTACT"}, &list)
			if len(list.ConsentTexts) != versions || list.ConsentTexts[0].Version != versions {
				t.Fatalf("consentTexts after %d versions: %+v", versions, list.ConsentTexts)
			}
			list.ConsentTexts = nil
			anonTexts, _ = counted(t, e, a.anon, consentTextsAllQ, map[string]any{"p": "DIRECTORY_PROFILE"}, &list)
			if len(list.ConsentTexts) != versions {
				t.Fatalf("consentTexts (anonymous) after %d versions: %d", versions, len(list.ConsentTexts))
			}
			return mine, texts, anonTexts
		}

		seed(3)
		m3, t3, x3 := measure()
		if records != 4 {
			t.Fatalf("%d records per purpose, want 4", records)
		}
		seed(30)
		m30, t30, x30 := measure()
		if records != 40 {
			t.Fatalf("%d records per purpose, want 40", records)
		}
		for _, c := range []struct {
			name            string
			small, large, b int64
		}{
			{"myConsents", m3, m30, myConsentsBudget},
			{"consentTexts (signed in)", t3, t30, consentTextsSignedInBudget},
			{"consentTexts (anonymous)", x3, x30, consentTextsBudget},
		} {
			t.Logf("%s: %d statements with 3 versions, %d with 30 (budget %d)", c.name, c.small, c.large, c.b)
			if c.small != c.large || c.large > c.b {
				t.Errorf("%s: %d statements with 3 versions and 4 records per purpose, %d with 30 and 40; want the same, at most %d",
					c.name, c.small, c.large, c.b)
			}
		}
	})
}
