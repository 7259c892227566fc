package graph_test

import (
	"strings"
	"testing"

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
