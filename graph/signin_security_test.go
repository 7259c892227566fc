package graph_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestInvisibleCharactersInAddressesAndNamesAreRefused: an address with a zero-width space,
// a text-direction override or NUL in it is not a new account; it is refused with a user
// error and nothing is written (no sign-in link, no email, no user).
func TestInvisibleCharactersInAddressesAndNamesAreRefused(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		anon := e.Anonymous()
		links := func() int {
			n, err := e.DB.Client.LoginLink.Query().Count(e.System())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		linksBefore, usersBefore := links(), snapshot(t, e)
		for _, bad := range []string{
			"marek.dvorak@example.cz\u200b", // zero-width space after an existing address
			"new.person@example.org\u200b",
			"ma\u202erek@example.cz", // right-to-left override
			"marek@example.cz\x00",   // NUL
			"\ufeffmarek@example.cz", // byte-order mark
		} {
			p := request(t, e, anon, bad)
			if p.Accepted || p.code() != "INVALID" || !strings.Contains(p.UserErrors[0].Message, "invisible") {
				t.Errorf("requestLoginLink(%q): %+v, want INVALID saying why", bad, p)
			}
		}
		if n := links(); n != linksBefore {
			t.Errorf("sign-in links: %d, want %d", n, linksBefore)
		}
		if n := e.DrainOutbox(); n != 0 {
			t.Errorf("%d emails sent for refused addresses", n)
		}
		// A domain in Unicode and one in ASCII (IDNA) are the same address.
		if p := request(t, e, anon, "anna@Bücher.example"); !p.Accepted {
			t.Fatalf("IDN address: %+v", p)
		}
		if n, err := e.DB.Client.LoginLink.Query().Where(loginlink.Email("anna@xn--bcher-kva.example")).Count(e.System()); err != nil || n != 1 {
			t.Fatalf("links of the IDN address in ASCII: %d, %v", n, err)
		}

		const create = `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } userErrors { field code message } } }`
		usersBefore = snapshot(t, e)
		for _, c := range []struct {
			email, name, field string
		}{
			{"marek.dvorak@example.cz\u200b", "Marek Again", "input.email"},
			{"new.coordinator@example.org", "Claire\u202e Martin", "input.name"},
			{"new.coordinator@example.org", "Claire\x00", "input.name"},
			{"new.coordinator@example.org", "Claire\u200bMartin", "input.name"},
			{"new.coordinator@example.org", "Claire\nMartin", "input.name"},
		} {
			var out struct {
				CreateUser struct {
					User       *struct{ ID string }
					UserErrors []userErr
				}
			}
			a.staff.MustDo(create, map[string]any{"in": map[string]any{"email": c.email, "name": c.name, "roles": []string{"HOST_COORDINATOR"}}}, &out)
			ue := out.CreateUser.UserErrors
			if out.CreateUser.User != nil || len(ue) == 0 || ue[0].Code != "INVALID" || strings.Join(ue[0].Field, ".") != c.field {
				t.Errorf("createUser(%q, %q): %+v, want INVALID on %s", c.email, c.name, out.CreateUser, c.field)
			}
		}
		if after := snapshot(t, e); after != usersBefore {
			t.Errorf("refused input changed the users:\n%s\n%s", usersBefore, after)
		}
	})
}

// aliasedRedeems is one request redeeming each token under its own alias t0, t1, ….
func aliasedRedeems(tokens ...string) string {
	var b strings.Builder
	b.WriteString("mutation {")
	for i, tok := range tokens {
		fmt.Fprintf(&b, ` t%d: redeemLoginLink(input: {token: %q}) { sessionToken userErrors { code } }`, i, tok)
	}
	b.WriteString(" }")
	return b.String()
}

// redeemCodes runs aliasedRedeems and returns each alias's first user error code, or "OK"
// for a sign-in.
func redeemCodes(t *testing.T, c *testkit.Client, tokens ...string) []string {
	t.Helper()
	var out map[string]struct {
		SessionToken *string
		UserErrors   []struct{ Code string }
	}
	c.MustDo(aliasedRedeems(tokens...), nil, &out)
	codes := make([]string, len(tokens))
	for i := range tokens {
		p := out[fmt.Sprintf("t%d", i)]
		switch {
		case p.SessionToken != nil:
			codes[i] = "OK"
		case len(p.UserErrors) > 0:
			codes[i] = p.UserErrors[0].Code
		}
	}
	return codes
}

// TestAliasedSignInGuessesAreLimited: a request naming redeemLoginLink hundreds of times is
// refused whole before anything runs; failed redemptions count per client address, one by
// one, so once the budget (20 per 15 minutes) is spent the remaining aliases of a request
// are refused unseen (RATE_LIMITED), a valid link among them included (and not used up),
// until the window has passed.
func TestAliasedSignInGuessesAreLimited(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		guess := func(i int) string { return fmt.Sprintf("guess-%03d", i) }
		many := make([]string, 200)
		for i := range many {
			many[i] = guess(i)
		}
		r := anon.Do(aliasedRedeems(many...), nil)
		if r.Code() != "BAD_REQUEST" || r.Errors[0].Extensions["reason"] != "FIELD_REPEATED" || string(r.Data) != "" && string(r.Data) != "null" {
			t.Fatalf("200 aliases: %s, want BAD_REQUEST FIELD_REPEATED and no data", r.Body)
		}
		// Nothing of that request was evaluated: the whole budget is left.
		for round := range 3 {
			codes := redeemCodes(t, anon, guess(5*round), guess(5*round+1), guess(5*round+2), guess(5*round+3), guess(5*round+4))
			if strings.Join(codes, " ") != "INVALID INVALID INVALID INVALID INVALID" {
				t.Fatalf("round %d: %v, want every guess evaluated", round, codes)
			}
		}
		e.NewUser("real.person@example.org", "Real Person")
		link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "real.person@example.org")
		if err != nil {
			t.Fatal(err)
		}
		valid := tokenOf(t, link)
		// 15 failures so far: the next 5 are evaluated, the rest refused unseen.
		codes := redeemCodes(t, anon, guess(15), guess(16), guess(17), guess(18), guess(19))
		if strings.Join(codes, " ") != "INVALID INVALID INVALID INVALID INVALID" {
			t.Fatalf("up to the limit: %v", codes)
		}
		codes = redeemCodes(t, anon, guess(20), valid)
		if strings.Join(codes, " ") != "RATE_LIMITED RATE_LIMITED" {
			t.Fatalf("past the limit: %v, want every alias refused", codes)
		}
		// The valid link was not looked at: it is still unused.
		if n, err := e.DB.Client.LoginLink.Query().Where(loginlink.Email("real.person@example.org"), loginlink.UsedAtIsNil()).Count(e.System()); err != nil || n != 1 {
			t.Fatalf("the valid link was used up by a refused attempt: %d unused, %v", n, err)
		}
		// The window passes: attempts are evaluated again.
		e.Clock.Advance(15*time.Minute + time.Second)
		link2, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "real.person@example.org")
		if err != nil {
			t.Fatal(err)
		}
		codes = redeemCodes(t, anon, guess(21), tokenOf(t, link2))
		if strings.Join(codes, " ") != "INVALID OK" {
			t.Fatalf("after the window: %v", codes)
		}
	})
}
