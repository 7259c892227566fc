package newsletter_test

import (
	"testing"

	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestNext compares the transition table with an explicit table over every status × event:
// a status or event nobody decided fails.
func TestNext(t *testing.T) {
	const refused = "INVALID_STATE"
	want := map[newsletter.Status]map[newsletter.Event]string{
		newsletter.None: {newsletter.Signup: "UNCONFIRMED", newsletter.Confirm: refused, newsletter.Join: "CONFIRMED", newsletter.Unsubscribe: refused},
		"UNCONFIRMED":   {newsletter.Signup: "UNCONFIRMED", newsletter.Confirm: "CONFIRMED", newsletter.Join: "CONFIRMED", newsletter.Unsubscribe: "UNSUBSCRIBED"},
		"CONFIRMED":     {newsletter.Signup: "CONFIRMED", newsletter.Confirm: "CONFIRMED", newsletter.Join: "CONFIRMED", newsletter.Unsubscribe: "UNSUBSCRIBED"},
		"UNSUBSCRIBED":  {newsletter.Signup: "UNCONFIRMED", newsletter.Confirm: refused, newsletter.Join: "CONFIRMED", newsletter.Unsubscribe: "UNSUBSCRIBED"},
	}
	for _, from := range newsletter.Statuses {
		row, ok := want[from]
		if !ok {
			t.Errorf("status %q: no expected row", from)
			continue
		}
		for _, e := range newsletter.Events {
			exp, ok := row[e]
			if !ok {
				t.Errorf("%q × %s: not decided", from, e)
				continue
			}
			to, err := newsletter.Next(from, e)
			got := string(to)
			if err != nil {
				got = testkit.Outcome(err)
			}
			if got != exp {
				t.Errorf("Next(%q, %s) = %s, want %s", from, e, got, exp)
			}
		}
	}
}
