package auth_test

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/loginlink"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/auth"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// MustIssueLink issues a sign-in link for an existing user as the system (the CLI's path)
// and returns its secret.
func MustIssueLink(tb testing.TB, s *testkit.Services, email string) string {
	tb.Helper()
	var link string
	testkit.MustDo(tb, s, s.System(), func(ctx context.Context, tx *ent.Client) (err error) {
		link, err = s.Auth.IssueLoginLink(ctx, tx, email)
		return err
	})
	return tokenOf(tb, link)
}

func tokenOf(tb testing.TB, link string) string {
	tb.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		tb.Fatalf("no token in %q", link)
	}
	return u.Query().Get("token")
}

// redeem redeems secret from ip and returns the sign-in and the outcome.
func redeem(s *testkit.Services, secret, ip string) (*auth.SignIn, string) {
	var in *auth.SignIn
	err := s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) (err error) {
		in, err = s.Auth.RedeemLoginLink(ctx, tx, secret, ip, "test")
		return err
	})
	return in, testkit.Outcome(err)
}

// request asks for a sign-in link by email from ip.
func request(s *testkit.Services, email, ip string) string {
	return testkit.Outcome(s.Do(s.Anonymous(), func(ctx context.Context, tx *ent.Client) error {
		return s.Auth.RequestLoginLink(ctx, tx, email, ip)
	}))
}

// authenticate is the outcome of presenting bearer, and the viewer.
func authenticate(s *testkit.Services, bearer string) (viewer.Viewer, string) {
	v, err := s.Auth.Authenticate(s.Anonymous(), bearer)
	return v, testkit.Outcome(err)
}

var linkInText = regexp.MustCompile(`https://coalition\.test/signin\?token=[A-Za-z0-9_-]+`)

// emailedToken is the secret of the last sign-in email to addr.
func emailedToken(t *testing.T, s *testkit.Services, addr string) string {
	t.Helper()
	m, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(addr), outboxmessage.TemplateEQ("login_link")).
		Order(ent.Desc(outboxmessage.FieldCreatedAt), ent.Desc(outboxmessage.FieldID)).First(s.System())
	if err != nil {
		t.Fatalf("sign-in email to %s: %v", addr, err)
	}
	return tokenOf(t, linkInText.FindString(m.TextBody))
}

func TestLoginLinkSignsInOnceAndExpires(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		secret := MustIssueLink(t, s, w.Host.Email)
		in, got := redeem(s, secret, "192.0.2.1")
		if got != "ok" || in.Created || in.User.ID != w.Host.ID || in.Token == "" {
			t.Fatalf("redeem: %s, %+v", got, in)
		}
		if !in.ExpiresAt.Equal(s.Clock.Now().Add(30 * 24 * time.Hour)) {
			t.Errorf("session expires %s, want in 30 days", in.ExpiresAt)
		}
		v, got := authenticate(s, in.Token)
		if got != "ok" || v.UserID != string(w.Host.ID) || !v.HasRole(viewer.RoleHostCoordinator) || !v.CanWrite() {
			t.Fatalf("authenticate the session: %s, %+v", got, v)
		}
		if _, got := redeem(s, secret, "192.0.2.1"); got != "ALREADY_USED" {
			t.Errorf("redeem twice: %s, want ALREADY_USED", got)
		}
		for _, tc := range []struct{ name, secret, want string }{
			{"empty", "  ", "REQUIRED"},
			{"unknown", "no-such-link-0123456789", "INVALID"},
		} {
			if _, got := redeem(s, tc.secret, "192.0.2.1"); got != tc.want {
				t.Errorf("redeem an %s link: %s, want %s", tc.name, got, tc.want)
			}
		}
		late := MustIssueLink(t, s, w.Host.Email)
		s.Clock.Advance(15 * time.Minute)
		if _, got := redeem(s, late, "192.0.2.1"); got != "EXPIRED" {
			t.Errorf("redeem after 15 minutes: %s, want EXPIRED", got)
		}
		if n := testkit.Count(s, s.DB.Client.Session.Query()); n != 1 {
			t.Errorf("%d sessions, want 1: refused redemptions create none", n)
		}

		// The session ends with sign-out, or after 30 days.
		signOut := func(ctx context.Context) bool {
			var out bool
			testkit.MustDo(t, s, ctx, func(ctx context.Context, tx *ent.Client) (err error) {
				out, err = s.Auth.SignOut(ctx, tx)
				return err
			})
			return out
		}
		if signOut(viewer.NewContext(s.Anonymous(), v)) != true {
			t.Error("sign out: false")
		}
		if _, got := authenticate(s, in.Token); got != "UNAUTHENTICATED" {
			t.Errorf("a signed-out session: %s, want UNAUTHENTICATED", got)
		}
		if signOut(viewer.NewContext(s.Anonymous(), v)) {
			t.Error("sign out twice: true")
		}
		in2, _ := redeem(s, MustIssueLink(t, s, w.Host.Email), "192.0.2.1")
		s.Clock.Advance(30*24*time.Hour - time.Second)
		if _, got := authenticate(s, in2.Token); got != "ok" {
			t.Errorf("a session on its last second: %s", got)
		}
		s.Clock.Advance(time.Second)
		if _, got := authenticate(s, in2.Token); got != "UNAUTHENTICATED" {
			t.Errorf("a session of 30 days: %s, want UNAUTHENTICATED", got)
		}
		for _, bearer := range []string{"", "cs_forged", "ct_forged", "Bearer x"} {
			if _, got := authenticate(s, bearer); got != "UNAUTHENTICATED" {
				t.Errorf("authenticate %q: %s", bearer, got)
			}
		}
	})
}

func TestRequestedLinkCreatesATraineeOnFirstSignIn(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		if got := request(s, "  Dr.Nova@Example.CZ ", "192.0.2.7"); got != "ok" {
			t.Fatalf("request: %s", got)
		}
		in, got := redeem(s, emailedToken(t, s, "dr.nova@example.cz"), "192.0.2.7")
		if got != "ok" || !in.Created || in.User.Email != "dr.nova@example.cz" || !slices.Equal(in.User.Roles, []viewer.Role{viewer.RoleTrainee}) {
			t.Fatalf("first sign-in: %s, %+v", got, in)
		}
		for _, bad := range []string{"", "not an address", "a@b", "ana@exa\u200bmple.cz"} {
			if got := request(s, bad, "192.0.2.7"); got != "INVALID" && got != "REQUIRED" {
				t.Errorf("request for %q: %s, want INVALID or REQUIRED", bad, got)
			}
		}
		if n := testkit.Count(s, s.DB.Client.LoginLink.Query()); n != 1 {
			t.Errorf("%d links, want 1: malformed addresses get none", n)
		}
	})
}

// TestIntentLinksDoNotCountAgainstTheRateLimits: the links emails carry to do something
// (an offer's Accept and Decline, say) were not requested, so a person who received many
// can still ask for a sign-in link.
func TestIntentLinksDoNotCountAgainstTheRateLimits(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		for i := range 6 {
			if err := s.Do(s.System(), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.IssueIntentLink(ctx, tx, w.Trainee, fmt.Sprintf("placement.accept:plc_%d", i), time.Hour)
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if got := request(s, w.Trainee.Email, "192.0.2.1"); got != "ok" {
			t.Errorf("a request after six intent links: %s, want ok", got)
		}
		for range 4 {
			request(s, w.Trainee.Email, "192.0.2.1")
		}
		if got := request(s, w.Trainee.Email, "192.0.2.1"); got != "RATE_LIMITED" {
			t.Errorf("the sixth request: %s, want RATE_LIMITED", got)
		}
	})
}

func TestRequestLoginLinkRateLimits(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		// Five per address in 15 minutes, whichever network they come from.
		for i := range 5 {
			if got := request(s, "ana@example.cz", fmt.Sprintf("192.0.2.%d", i)); got != "ok" {
				t.Fatalf("request %d: %s", i+1, got)
			}
		}
		if got := request(s, "ana@example.cz", "198.51.100.1"); got != "RATE_LIMITED" {
			t.Errorf("the sixth request for an address: %s, want RATE_LIMITED", got)
		}
		// Thirty per client address, whatever the addresses.
		for i := range 30 {
			if got := request(s, fmt.Sprintf("person%d@example.cz", i), "203.0.113.9"); got != "ok" {
				t.Fatalf("request %d from one network: %s", i+1, got)
			}
		}
		if got := request(s, "someone.else@example.cz", "203.0.113.9"); got != "RATE_LIMITED" {
			t.Errorf("the 31st request from a network: %s, want RATE_LIMITED", got)
		}
		if n := testkit.Count(s, s.DB.Client.LoginLink.Query()); n != 35 {
			t.Errorf("%d links, want 35: limited requests write none", n)
		}
		if n := testkit.Count(s, s.DB.Client.OutboxMessage.Query()); n != 35 {
			t.Errorf("%d emails, want 35", n)
		}
		s.Clock.Advance(15 * time.Minute)
		if got := request(s, "ana@example.cz", "203.0.113.9"); got != "ok" {
			t.Errorf("a request after the window: %s", got)
		}
	})
}

func TestRedeemFailuresPerNetworkAreLimited(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		for i := range 20 {
			if _, got := redeem(s, fmt.Sprintf("guess-%02d-abcdefghijklmnop", i), "198.51.100.7"); got != "INVALID" {
				t.Fatalf("guess %d: %s", i+1, got)
			}
		}
		good := MustIssueLink(t, s, w.Trainee.Email)
		if _, got := redeem(s, good, "198.51.100.7"); got != "RATE_LIMITED" {
			t.Errorf("a good link after 20 failures from the network: %s, want RATE_LIMITED", got)
		}
		used, err := s.DB.Client.LoginLink.Query().Where(loginlink.UsedAtNotNil()).Count(s.System())
		if err != nil || used != 0 {
			t.Errorf("%d links used by refused attempts (%v), want 0: refused unseen", used, err)
		}
		if _, got := redeem(s, good, "198.51.100.8"); got != "ok" {
			t.Errorf("the same link from another network: %s", got)
		}
		s.Clock.Advance(15 * time.Minute)
		if _, got := redeem(s, MustIssueLink(t, s, w.Trainee.Email), "198.51.100.7"); got != "ok" {
			t.Errorf("after the window: %s", got)
		}
	})
}

func TestAPITokensActWithTheirScopes(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		mint := func(ctx context.Context, in auth.CreateAPITokenInput) (*ent.ApiToken, string, string) {
			var tok *ent.ApiToken
			var secret string
			err := s.Do(ctx, func(ctx context.Context, tx *ent.Client) (err error) {
				tok, secret, err = s.Auth.CreateAPIToken(ctx, tx, in)
				return err
			})
			return tok, secret, testkit.Outcome(err)
		}
		staff := s.As(w.Staff)
		past := s.Clock.Now().Add(-time.Hour)
		for _, tc := range []struct {
			name string
			in   auth.CreateAPITokenInput
			want string
		}{
			{"no name", auth.CreateAPITokenInput{UserID: w.Host.ID, Scopes: []viewer.Scope{viewer.ScopeRead}}, "REQUIRED"},
			{"no scopes", auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Sync"}, "REQUIRED"},
			{"expired", auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Sync", Scopes: []viewer.Scope{viewer.ScopeRead}, ExpiresAt: &past}, "INVALID"},
			{"no such user", auth.CreateAPITokenInput{UserID: w.CentreA.ID, Name: "Sync", Scopes: []viewer.Scope{viewer.ScopeRead}}, "NOT_FOUND"},
		} {
			if _, _, got := mint(staff, tc.in); got != tc.want {
				t.Errorf("mint with %s: %s, want %s", tc.name, got, tc.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.ApiToken.Query()); n != 0 {
			t.Fatalf("refused mints wrote %d tokens", n)
		}
		in := time.Hour
		exp := s.Clock.Now().Add(in)
		read, readSecret, got := mint(staff, auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Reports", Scopes: []viewer.Scope{viewer.ScopeRead}, ExpiresAt: &exp})
		if got != "ok" || read.CreatedByID != w.Staff.ID {
			t.Fatalf("mint a READ token: %s, created by %s", got, read.CreatedByID)
		}
		_, writeSecret, _ := mint(staff, auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Sync", Scopes: []viewer.Scope{viewer.ScopeWrite, viewer.ScopeRead}})
		if v, got := authenticate(s, readSecret); got != "ok" || v.CanWrite() || v.UserID != string(w.Host.ID) || v.TokenID != string(read.ID) {
			t.Errorf("READ token: %s, %+v; want the host, no writes", got, v)
		}
		if v, got := authenticate(s, writeSecret); got != "ok" || !v.CanWrite() {
			t.Errorf("WRITE token: %s, can write %v", got, v.CanWrite())
		}
		s.Clock.Advance(in)
		if _, got := authenticate(s, readSecret); got != "UNAUTHENTICATED" {
			t.Errorf("an expired token: %s, want UNAUTHENTICATED", got)
		}
		// Revoking a token ends it; revoking again changes nothing.
		var writeTok *ent.ApiToken
		v, _ := authenticate(s, writeSecret)
		for range 2 {
			testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) (err error) {
				writeTok, err = s.Auth.RevokeAPIToken(ctx, tx, pulid.ID(v.TokenID))
				return err
			})
		}
		if _, got := authenticate(s, writeSecret); got != "UNAUTHENTICATED" || writeTok.RevokedAt == nil {
			t.Errorf("a revoked token: %s, want UNAUTHENTICATED", got)
		}
	})
}

func TestDisablingEndsEveryCredential(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		in, _ := redeem(s, MustIssueLink(t, s, w.Host.Email), "192.0.2.1")
		unused := MustIssueLink(t, s, w.Host.Email)
		var secret string
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			_, secret, err = s.Auth.CreateAPIToken(ctx, tx, auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Sync", Scopes: []viewer.Scope{viewer.ScopeRead}})
			return err
		})
		setDisabled := func(ctx context.Context, id pulid.ID, disabled bool) string {
			return testkit.Outcome(s.Do(ctx, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.SetUserDisabled(ctx, tx, id, disabled)
				return err
			}))
		}
		if got := setDisabled(s.As(w.Staff), w.Staff.ID, true); got != "INVALID_STATE" {
			t.Errorf("staff disable themselves: %s, want INVALID_STATE", got)
		}
		if got := setDisabled(s.As(w.Staff), w.Host.ID, true); got != "ok" {
			t.Fatalf("disable: %s", got)
		}
		check := func(when string) {
			t.Helper()
			if _, got := authenticate(s, in.Token); got != "UNAUTHENTICATED" {
				t.Errorf("%s: the session: %s", when, got)
			}
			if _, got := authenticate(s, secret); got != "UNAUTHENTICATED" {
				t.Errorf("%s: the API token: %s", when, got)
			}
		}
		check("disabled")
		if _, got := redeem(s, unused, "192.0.2.1"); got != "ALREADY_USED" { // used up by the disabling
			t.Errorf("an unused link of a disabled account: %s, want ALREADY_USED", got)
		}
		// A disabled account asks for a link: the same answer, and the email is only recorded.
		if got := request(s, w.Host.Email, "192.0.2.1"); got != "ok" {
			t.Errorf("request as a disabled account: %s", got)
		}
		m, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient(w.Host.Email)).Only(s.System())
		if err != nil || m.State != outboxmessage.StateSuppressed {
			t.Errorf("the disabled account's email: %v, %v; want one, suppressed", m, err)
		}
		if _, got := redeem(s, emailedToken(t, s, w.Host.Email), "192.0.2.1"); got != "INVALID" {
			t.Errorf("redeem as a disabled account: %s, want INVALID", got)
		}
		if got := setDisabled(s.As(w.Staff), w.Host.ID, false); got != "ok" {
			t.Fatalf("enable: %s", got)
		}
		check("enabled again")
		if _, got := redeem(s, unused, "192.0.2.1"); got != "ALREADY_USED" {
			t.Errorf("a link from before the disabling: %s, want ALREADY_USED", got)
		}
	})
}

// TestUserAdministrationPermissions is the table of users and tokens administration:
// every operation × every kind of caller (testkit.World's, and the read-only system viewer
// of viewer.ForFacts, which never writes) → the answer, through the service as that
// caller. Each row runs in a transaction that is rolled back; a refusal must write
// nothing, and an "ok" must write.
func TestUserAdministrationPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		var tok *ent.ApiToken
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			tok, _, err = s.Auth.CreateAPIToken(ctx, tx, auth.CreateAPITokenInput{UserID: w.Host.ID, Name: "Registry sync", Scopes: []viewer.Scope{viewer.ScopeRead}})
			if err != nil {
				return err
			}
			_, err = s.Auth.SetUserDisabled(ctx, tx, w.OtherTrainee.ID, true)
			return err
		})
		staffOnly := map[string]string{
			"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "FORBIDDEN",
			"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok", "facts (read-only system)": "FORBIDDEN",
		}
		staffAnswers := func(staff string) map[string]string {
			m := maps.Clone(staffOnly)
			m["staff"] = staff
			return m
		}
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
			want map[string]string
		}{
			{"createUser", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.CreateUser(ctx, tx, auth.CreateUserInput{Email: "new@example.cz", Name: "New", Roles: []viewer.Role{viewer.RoleStaff}})
				return err
			}, staffOnly},
			{"createUser with a taken address", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.CreateUser(ctx, tx, auth.CreateUserInput{Email: w.OtherTrainee.Email, Name: "Ioana", Roles: []viewer.Role{viewer.RoleTrainee}})
				return err
			}, staffAnswers("TAKEN")},
			{"grantRole", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.GrantRole(ctx, tx, w.Trainee.ID, viewer.RoleStaff)
				return err
			}, staffOnly},
			{"grantRole back to the former host", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.GrantRole(ctx, tx, w.FormerHost.ID, viewer.RoleHostCoordinator)
				return err
			}, staffOnly},
			{"revokeRole", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.RevokeRole(ctx, tx, w.Host.ID, viewer.RoleHostCoordinator)
				return err
			}, staffOnly},
			{"revokeRole of one's own staff role", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.RevokeRole(ctx, tx, w.Staff.ID, viewer.RoleStaff)
				return err
			}, staffAnswers("INVALID_STATE")},
			{"disable", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.SetUserDisabled(ctx, tx, w.Host.ID, true)
				return err
			}, staffOnly},
			{"disable oneself", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.SetUserDisabled(ctx, tx, w.Staff.ID, true)
				return err
			}, staffAnswers("INVALID_STATE")},
			{"enable again", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.SetUserDisabled(ctx, tx, w.OtherTrainee.ID, false)
				return err
			}, staffOnly},
			{"createApiToken", func(ctx context.Context, tx *ent.Client) error {
				_, _, err := s.Auth.CreateAPIToken(ctx, tx, auth.CreateAPITokenInput{UserID: w.Trainee.ID, Name: "Mine", Scopes: []viewer.Scope{viewer.ScopeWrite}})
				return err
			}, staffOnly},
			{"revokeApiToken", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Auth.RevokeAPIToken(ctx, tx, tok.ID)
				return err
			}, staffOnly},
		}
		actors := append(w.Actors(s), testkit.Actor{Name: "facts (read-only system)", Ctx: viewer.ForFacts(s.As(w.Staff))})
		for _, op := range ops {
			for _, a := range actors {
				got, wrote := s.TryWrites(a.Ctx, op.run)
				if got != op.want[a.Name] {
					t.Errorf("%s as %s: %s, want %s", op.name, a.Name, got, op.want[a.Name])
				}
				if wrote != (got == "ok") {
					t.Errorf("%s as %s: answered %s and wrote %v", op.name, a.Name, got, wrote)
				}
			}
		}
	})
}
