package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/user"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	requestLink = `mutation($e: String!) { requestLoginLink(input: {email: $e}) { accepted userErrors { field code message } } }`
	redeemLink  = `mutation($t: String!) { redeemLoginLink(input: {token: $t}) { sessionToken expiresAt user { id email roles } userErrors { field code message } } }`
	meQuery     = `{ me { id email name roles disabled } }`
)

var linkRE = regexp.MustCompile(`https?://[^\s"<>]+/signin\?token=[A-Za-z0-9_\-]+`)

type payload struct {
	Accepted     bool
	SessionToken string
	ExpiresAt    string
	User         *struct {
		ID, Email string
		Roles     []string
	}
	UserErrors []struct {
		Field         []string
		Code, Message string
	}
}

func (p payload) code() string {
	if len(p.UserErrors) == 0 {
		return ""
	}
	return p.UserErrors[0].Code
}

func request(t *testing.T, e *testkit.Env, c *testkit.Client, email string) payload {
	t.Helper()
	var out struct{ RequestLoginLink payload }
	c.MustDo(requestLink, map[string]any{"e": email}, &out)
	return out.RequestLoginLink
}

func redeem(t *testing.T, c *testkit.Client, token string) payload {
	t.Helper()
	var out struct{ RedeemLoginLink payload }
	c.MustDo(redeemLink, map[string]any{"t": token}, &out)
	return out.RedeemLoginLink
}

// tokenFromMail extracts the sign-in secret from the link in an email.
func tokenFromMail(t *testing.T, m testkit.ReceivedMessage) string {
	t.Helper()
	link := linkRE.FindString(m.TextBody())
	if link == "" {
		t.Fatalf("no sign-in link in the email:\n%s", m.TextBody())
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestSignInEndToEnd(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		if p := request(t, e, anon, "  Jana.Novakova@FNBrno.example.cz "); !p.Accepted || len(p.UserErrors) != 0 {
			t.Fatalf("request: %+v", p)
		}
		if n := e.DrainOutbox(); n != 1 {
			t.Fatalf("sent %d emails, want 1", n)
		}
		msgs := e.SMTP.WaitForMessages(t, 1, 5*time.Second)
		m := msgs[0]
		if len(m.To) != 1 || m.To[0] != "jana.novakova@fnbrno.example.cz" {
			t.Fatalf("email to %v, want the normalised address", m.To)
		}
		if !strings.Contains(m.Subject, "sign-in link") {
			t.Errorf("subject %q", m.Subject)
		}
		if !strings.Contains(m.HTMLBody(), "/signin?token=") {
			t.Error("HTML part has no sign-in link")
		}
		p := redeem(t, anon, tokenFromMail(t, m))
		if p.SessionToken == "" || p.User == nil || p.User.Email != "jana.novakova@fnbrno.example.cz" {
			t.Fatalf("redeem: %+v", p)
		}
		if strings.Join(p.User.Roles, ",") != "TRAINEE" {
			t.Errorf("new account roles %v, want [TRAINEE]", p.User.Roles)
		}
		var me struct{ Me struct{ ID, Email string } }
		e.AsToken(p.SessionToken).MustDo(meQuery, nil, &me)
		if me.Me.ID != p.User.ID {
			t.Fatalf("me = %+v, want %s", me.Me, p.User.ID)
		}
		// Sign-in and registration are on the audit trail, with the request they came from.
		evs, err := e.DB.Client.AuditEvent.Query().Where(auditevent.ActorID(p.User.ID)).All(e.System())
		if err != nil {
			t.Fatal(err)
		}
		actions := map[string]bool{}
		for _, ev := range evs {
			actions[ev.Action] = true
			if ev.RequestID == "" || ev.IP == "" {
				t.Errorf("audit event %s lacks request id or ip: %+v", ev.Action, ev)
			}
		}
		if !actions["auth.sign_in"] || !actions["user.register"] {
			t.Errorf("audit actions %v, want auth.sign_in and user.register", actions)
		}
	})
}

func TestLoginLinkIsSingleUseExpiresAndMustMatch(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		request(t, e, anon, "reuse@example.org")
		request(t, e, anon, "late@example.org")
		e.DrainOutbox()
		msgs := e.SMTP.WaitForMessages(t, 2, 5*time.Second)
		tokens := map[string]string{}
		for _, m := range msgs {
			tokens[m.To[0]] = tokenFromMail(t, m)
		}
		if p := redeem(t, anon, tokens["reuse@example.org"]); p.SessionToken == "" {
			t.Fatalf("first redemption failed: %+v", p)
		}
		if p := redeem(t, anon, tokens["reuse@example.org"]); p.code() != "ALREADY_USED" || p.SessionToken != "" {
			t.Fatalf("second redemption: %+v, want ALREADY_USED", p)
		}
		e.Clock.Advance(15*time.Minute + time.Second)
		if p := redeem(t, anon, tokens["late@example.org"]); p.code() != "EXPIRED" {
			t.Fatalf("expired link: %+v, want EXPIRED", p)
		}
		for _, bad := range []string{"not-a-token", strings.Repeat("A", 43), ""} {
			p := redeem(t, anon, bad)
			if p.code() != "INVALID" && p.code() != "REQUIRED" || p.SessionToken != "" {
				t.Errorf("token %q: %+v, want INVALID/REQUIRED", bad, p)
			}
		}
		// Only the one successful redemption created an account.
		n, _ := e.DB.Client.User.Query().Count(e.System())
		if n != 1 {
			t.Errorf("%d users, want 1", n)
		}
	})
}

func TestRequestLoginLinkAnswersTheSameForAnyAddress(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, staff := e.NewUser("office@coalition.test", "Office", viewer.RoleStaff)
		u, _ := e.NewUser("disabled@example.org", "Dee", viewer.RoleTrainee)
		staff.MustDo(`mutation($id: ID!) { setUserDisabled(input: {userId: $id, disabled: true}) { userErrors { code } } }`, map[string]any{"id": u.ID}, nil)
		e.NewUser("known@example.org", "Known", viewer.RoleTrainee)

		anon := e.Anonymous()
		var bodies []string
		for _, addr := range []string{"known@example.org", "unknown@example.org", "disabled@example.org"} {
			bodies = append(bodies, string(anon.Do(requestLink, map[string]any{"e": addr}).Body))
		}
		if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
			t.Fatalf("answers differ:\n%s\n%s\n%s", bodies[0], bodies[1], bodies[2])
		}
		e.DrainOutbox()
		got := map[string]bool{}
		for _, m := range e.SMTP.WaitForMessages(t, 2, 5*time.Second) {
			got[m.To[0]] = true
		}
		if !got["known@example.org"] || !got["unknown@example.org"] || got["disabled@example.org"] {
			t.Errorf("emails went to %v; want known and unknown, not the disabled account", got)
		}
		// The disabled account's email was recorded as suppressed, never sent.
		rows, err := e.DB.Client.OutboxMessage.Query().Where(outboxmessage.Recipient("disabled@example.org")).All(e.System())
		if err != nil || len(rows) != 1 || rows[0].State != outboxmessage.StateSuppressed {
			t.Errorf("outbox rows for the disabled account: %v, %v; want one, suppressed", rows, err)
		}
	})
}

func TestRequestLoginLinkValidatesAndRateLimits(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		for _, bad := range []string{"no-at-sign", "a@b", "Name <a@example.org>", strings.Repeat("x", 250) + "@example.org"} {
			if p := request(t, e, anon, bad); p.Accepted || p.code() != "INVALID" || strings.Join(p.UserErrors[0].Field, ".") != "input.email" {
				t.Errorf("%q: %+v, want INVALID on input.email", bad, p)
			}
		}
		for i := range 5 {
			if p := request(t, e, anon, "eager@example.org"); !p.Accepted {
				t.Fatalf("request %d refused: %+v", i+1, p)
			}
		}
		p := request(t, e, anon, "EAGER@example.org")
		if p.Accepted || p.code() != "RATE_LIMITED" {
			t.Fatalf("6th request: %+v, want RATE_LIMITED", p)
		}
		// Per client address: the 30 requests of the window are used up by distinct addresses.
		for i := range 25 {
			if p := request(t, e, anon, "person"+string(rune('a'+i))+"@example.org"); !p.Accepted {
				t.Fatalf("request from same ip #%d refused: %+v", i, p)
			}
		}
		if p := request(t, e, anon, "someone-new@example.org"); p.code() != "RATE_LIMITED" {
			t.Fatalf("31st request from one address: %+v, want RATE_LIMITED", p)
		}
		queued, _ := e.DB.Client.OutboxMessage.Query().Count(e.System())
		if queued != 30 {
			t.Errorf("%d emails queued, want 30 (refused requests queue nothing)", queued)
		}
		e.Clock.Advance(16 * time.Minute)
		if p := request(t, e, anon, "eager@example.org"); !p.Accepted {
			t.Fatalf("after the window: %+v, want accepted", p)
		}
	})
}

// roles of the authorisation matrix.
type actors struct {
	anon, trainee, other, host, staff   *testkit.Client
	traineeID, otherID, hostID, staffID string
}

func newActors(t *testing.T, e *testkit.Env) actors {
	t.Helper()
	var a actors
	a.anon = e.Anonymous()
	u, c := e.NewUser("marek.dvorak@example.cz", "Marek Dvořák", viewer.RoleTrainee)
	a.trainee, a.traineeID = c, string(u.ID)
	u, c = e.NewUser("ioana.popescu@example.ro", "Ioana Popescu", viewer.RoleTrainee)
	a.other, a.otherID = c, string(u.ID)
	u, c = e.NewUser("claire.martin@hopital.example.fr", "Claire Martin", viewer.RoleHostCoordinator)
	a.host, a.hostID = c, string(u.ID)
	u, c = e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	a.staff, a.staffID = c, string(u.ID)
	return a
}

func TestQueriesAuthorisation(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)

		// me
		if r := a.anon.Do(meQuery, nil); len(r.Errors) != 0 || string(r.Data) != `{"me":null}` {
			t.Errorf("anonymous me: %s", r.Body)
		}
		for _, c := range []struct {
			cl *testkit.Client
			id string
		}{{a.trainee, a.traineeID}, {a.host, a.hostID}, {a.staff, a.staffID}} {
			var me struct{ Me struct{ ID string } }
			c.cl.MustDo(meQuery, nil, &me)
			if me.Me.ID != c.id {
				t.Errorf("me = %s, want %s", me.Me.ID, c.id)
			}
		}

		// users: staff see everyone, others only themselves, anonymous nobody.
		const users = `{ users(first: 50) { totalCount edges { node { id email } } } }`
		if r := a.anon.Do(users, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous users: %s", r.Body)
		}
		var out struct {
			Users struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID string } }
			}
		}
		for _, c := range []*testkit.Client{a.trainee, a.host} {
			if r := c.Do(users, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("non-staff users: %s, want FORBIDDEN", r.Body)
			}
		}
		a.staff.MustDo(users, nil, &out)
		if out.Users.TotalCount != 4 {
			t.Errorf("staff sees %d users, want 4", out.Users.TotalCount)
		}

		// node(id:) cannot read another user's private data.
		const node = `query($id: ID!) { node(id: $id) { id ... on User { email } } }`
		for _, c := range []*testkit.Client{a.anon, a.other, a.host} {
			r := c.Do(node, map[string]any{"id": a.traineeID})
			if r.Code() != "NOT_FOUND" || strings.Contains(string(r.Body), "marek") {
				t.Errorf("node(trainee) by non-owner: %s, want NOT_FOUND and no data", r.Body)
			}
		}
		for _, c := range []*testkit.Client{a.trainee, a.staff} {
			if r := c.Do(node, map[string]any{"id": a.traineeID}); len(r.Errors) != 0 || !strings.Contains(string(r.Body), "marek.dvorak") {
				t.Errorf("node(trainee) by owner/staff: %s", r.Body)
			}
		}
		// nodes(ids:) mixes found and hidden without leaking.
		r := a.other.Do(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": []string{a.otherID, a.traineeID, "usr_nonsense", "zzz_01JC3W7Q5T8R9XJ6M8F2K4N1PZ"}})
		if strings.Contains(string(r.Body), a.traineeID+`"}`) || !strings.Contains(string(r.Body), a.otherID) {
			t.Errorf("nodes: %s", r.Body)
		}
		for _, er := range r.Errors {
			if er.Extensions["code"] != "NOT_FOUND" {
				t.Errorf("nodes error %v, want NOT_FOUND", er)
			}
		}

		// auditEvents: staff only.
		const audit = `{ auditEvents(first: 10) { totalCount } }`
		if r := a.anon.Do(audit, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous audit: %s", r.Body)
		}
		for _, c := range []*testkit.Client{a.trainee, a.host} {
			if r := c.Do(audit, nil); r.Code() != "FORBIDDEN" {
				t.Errorf("non-staff audit: %s", r.Body)
			}
		}
		var au struct{ AuditEvents struct{ TotalCount int } }
		a.staff.MustDo(audit, nil, &au)
		if au.AuditEvents.TotalCount < 4 { // four sign-ins at least
			t.Errorf("staff sees %d audit events, want ≥ 4", au.AuditEvents.TotalCount)
		}
	})
}

func TestStaffMutationsAuthorisationAndAudit(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		ops := []struct {
			name, query string
			vars        map[string]any
		}{
			{"createUser", `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } userErrors { code } } }`,
				map[string]any{"in": map[string]any{"email": "new.host@klinikum.example.de", "name": "Anna Weber", "roles": []string{"HOST_COORDINATOR"}}}},
			{"setUserDisabled", `mutation($id: ID!) { setUserDisabled(input: {userId: $id, disabled: true}) { user { disabled } userErrors { code } } }`,
				map[string]any{"id": a.otherID}},
			{"grantRole", `mutation($id: ID!) { grantRole(input: {userId: $id, role: HOST_COORDINATOR}) { user { roles } userErrors { code } } }`,
				map[string]any{"id": a.traineeID}},
			{"revokeRole", `mutation($id: ID!) { revokeRole(input: {userId: $id, role: HOST_COORDINATOR}) { user { roles } userErrors { code } } }`,
				map[string]any{"id": a.hostID}},
			{"createApiToken", `mutation($id: ID!) { createApiToken(input: {userId: $id, name: "registry sync", scopes: [READ]}) { secret apiToken { id } userErrors { code } } }`,
				map[string]any{"id": a.hostID}},
		}
		before := snapshot(t, e)
		for _, op := range ops {
			if r := a.anon.Do(op.query, op.vars); r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s anonymous: %s", op.name, r.Body)
			}
			for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "host": a.host} {
				if r := c.Do(op.query, op.vars); r.Code() != "FORBIDDEN" {
					t.Errorf("%s by %s: %s, want FORBIDDEN", op.name, who, r.Body)
				}
			}
		}
		if after := snapshot(t, e); after != before {
			t.Fatalf("denied mutations changed data:\nbefore %s\nafter  %s", before, after)
		}
		for _, op := range ops {
			r := a.staff.Do(op.query, op.vars)
			if len(r.Errors) != 0 || strings.Contains(string(r.Body), `"code"`) {
				t.Errorf("%s by staff: %s", op.name, r.Body)
			}
		}
		// Each staff mutation is on the audit trail, attributed to the staff member.
		evs, err := e.DB.Client.AuditEvent.Query().Where(auditevent.ActorID(a.staffID), auditevent.ActionNEQ("auth.sign_in")).All(e.System())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int{}
		for _, ev := range evs {
			got[ev.Action]++
			if ev.ActorEmail != "office@coalition.test" || ev.ObjectID == "" || ev.RequestID == "" {
				t.Errorf("incomplete audit event %+v", ev)
			}
		}
		if got["user.create"] != 1 || got["user.update"] != 3 || got["api_token.create"] != 1 {
			t.Errorf("audit actions %v, want user.create 1, user.update 3, api_token.create 1", got)
		}
		// The disabled user's session stopped working.
		if r := a.other.Do(meQuery, nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
			t.Errorf("disabled user's session: HTTP %d %s", r.Status, r.Body)
		}
	})
}

// snapshot summarises what the staff mutations could change.
func snapshot(t *testing.T, e *testkit.Env) string {
	t.Helper()
	us, err := e.DB.Client.User.Query().Order(user.ByEmail()).All(e.System())
	if err != nil {
		t.Fatal(err)
	}
	toks, _ := e.DB.Client.ApiToken.Query().Count(e.System())
	b, _ := json.Marshal(struct {
		Users  any
		Tokens int
	}{us, toks})
	return string(b)
}

func TestStaffMutationsRejectBadInputAndChangeNothing(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		const create = `mutation($in: CreateUserInput!) { createUser(input: $in) { user { id } userErrors { field code } } }`
		cases := []struct {
			in    map[string]any
			field string
			code  string
		}{
			{map[string]any{"email": "not-an-address", "name": "X", "roles": []string{"TRAINEE"}}, "input.email", "INVALID"},
			{map[string]any{"email": "MAREK.DVORAK@example.cz", "name": "X", "roles": []string{"TRAINEE"}}, "input.email", "TAKEN"},
			{map[string]any{"email": "a@example.org", "name": "  ", "roles": []string{"TRAINEE"}}, "input.name", "REQUIRED"},
			{map[string]any{"email": "a@example.org", "name": strings.Repeat("n", 201), "roles": []string{"TRAINEE"}}, "input.name", "TOO_LONG"},
			{map[string]any{"email": "a@example.org", "name": "A", "roles": []string{}}, "input.roles", "REQUIRED"},
		}
		before := snapshot(t, e)
		for _, c := range cases {
			var out struct {
				CreateUser struct {
					User       *struct{ ID string }
					UserErrors []struct {
						Field []string
						Code  string
					}
				}
			}
			a.staff.MustDo(create, map[string]any{"in": c.in}, &out)
			ue := out.CreateUser.UserErrors
			if out.CreateUser.User != nil || len(ue) == 0 || strings.Join(ue[0].Field, ".") != c.field || ue[0].Code != c.code {
				t.Errorf("%v: got %+v, want %s on %s", c.in, out.CreateUser, c.code, c.field)
			}
		}
		// An unknown enum value is refused by the schema itself.
		if r := a.staff.Do(create, map[string]any{"in": map[string]any{"email": "b@example.org", "name": "B", "roles": []string{"ADMIN"}}}); r.Code() != "BAD_REQUEST" {
			t.Errorf("unknown role: %s", r.Body)
		}
		// Lock-out protection and unknown targets.
		for _, q := range []struct{ query, code string }{
			{`mutation($id: ID!) { setUserDisabled(input: {userId: $id, disabled: true}) { userErrors { code } } }`, "INVALID_STATE"},
			{`mutation($id: ID!) { revokeRole(input: {userId: $id, role: STAFF}) { userErrors { code } } }`, "INVALID_STATE"},
		} {
			if r := a.staff.Do(q.query, map[string]any{"id": a.staffID}); !strings.Contains(string(r.Body), q.code) {
				t.Errorf("self-lockout: %s, want %s", r.Body, q.code)
			}
		}
		if r := a.staff.Do(`mutation { grantRole(input: {userId: "usr_01JC3W7Q5T8R9XJ6M8F2K4N1PZ", role: STAFF}) { userErrors { code } } }`, nil); !strings.Contains(string(r.Body), "NOT_FOUND") {
			t.Errorf("unknown user: %s", r.Body)
		}
		if r := a.staff.Do(`mutation($id: ID!) { createApiToken(input: {userId: $id, name: "", scopes: [], expiresAt: "2020-01-01T00:00:00Z"}) { userErrors { field code } } }`, map[string]any{"id": a.hostID}); !strings.Contains(string(r.Body), "input\",\"name") || !strings.Contains(string(r.Body), "scopes") || !strings.Contains(string(r.Body), "expiresAt") {
			t.Errorf("bad token input: %s", r.Body)
		}
		if after := snapshot(t, e); after != before {
			t.Fatalf("refused mutations changed data")
		}
	})
}

func TestAPITokensScopesAndRevocation(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		mint := func(scopes string, expires string) (string, string) {
			var out struct {
				CreateApiToken struct {
					Secret   string
					APIToken struct{ ID string } `json:"apiToken"`
				}
			}
			exp := ""
			if expires != "" {
				exp = `, expiresAt: "` + expires + `"`
			}
			a.staff.MustDo(`mutation($id: ID!) { createApiToken(input: {userId: $id, name: "sync", scopes: [`+scopes+`]`+exp+`}) { secret apiToken { id } } }`, map[string]any{"id": a.hostID}, &out)
			return out.CreateApiToken.Secret, out.CreateApiToken.APIToken.ID
		}
		readOnly, _ := mint("READ", "")
		readWrite, rwID := mint("READ, WRITE", "")
		shortLived, _ := mint("READ", e.Clock.Now().Add(time.Hour).Format(time.RFC3339))

		var me struct{ Me struct{ ID string } }
		e.AsToken(readOnly).MustDo(meQuery, nil, &me)
		if me.Me.ID != a.hostID {
			t.Fatalf("read token acts as %q, want the host", me.Me.ID)
		}
		if r := e.AsToken(readOnly).Do(`mutation { signOut { signedOut } }`, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("mutation with READ token: %s, want FORBIDDEN", r.Body)
		}
		if r := e.AsToken(readWrite).Do(`mutation { signOut { signedOut } }`, nil); len(r.Errors) != 0 || !strings.Contains(string(r.Body), `"signedOut":false`) {
			t.Errorf("mutation with WRITE token: %s", r.Body)
		}
		// The owner sees their token (without its secret); another user cannot.
		const tok = `query($id: ID!) { node(id: $id) { id ... on ApiToken { name hint scopes } } }`
		if r := a.host.Do(tok, map[string]any{"id": rwID}); len(r.Errors) != 0 || !strings.Contains(string(r.Body), `"hint":"ct_`) {
			t.Errorf("owner reads token: %s", r.Body)
		}
		if r := a.trainee.Do(tok, map[string]any{"id": rwID}); r.Code() != "NOT_FOUND" {
			t.Errorf("other user reads token: %s", r.Body)
		}
		// Revoked and expired tokens stop working.
		a.staff.MustDo(`mutation($id: ID!) { revokeApiToken(input: {id: $id}) { apiToken { revokedAt } } }`, map[string]any{"id": rwID}, nil)
		if r := e.AsToken(readWrite).Do(meQuery, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("revoked token: HTTP %d", r.Status)
		}
		e.Clock.Advance(time.Hour + time.Second)
		if r := e.AsToken(shortLived).Do(meQuery, nil); r.Status != http.StatusUnauthorized {
			t.Errorf("expired token: HTTP %d", r.Status)
		}
		for _, h := range []string{"Basic Zm9vOmJhcg==", "Bearer", "Bearer ct_garbage"} {
			c := e.Anonymous()
			c.Header = http.Header{"Authorization": {h}}
			if r := c.Do(meQuery, nil); r.Status != http.StatusUnauthorized || r.Code() != "UNAUTHENTICATED" {
				t.Errorf("Authorization %q: HTTP %d %s", h, r.Status, r.Body)
			}
		}
	})
}

func TestSignOutEndsTheSession(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		_, c := e.NewUser("out@example.org", "Out", viewer.RoleTrainee)
		var out struct{ SignOut struct{ SignedOut bool } }
		c.MustDo(`mutation { signOut { signedOut } }`, nil, &out)
		if !out.SignOut.SignedOut {
			t.Fatal("signOut returned false")
		}
		if r := c.Do(meQuery, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("session after sign-out: HTTP %d %s", r.Status, r.Body)
		}
		if r := e.Anonymous().Do(`mutation { signOut { signedOut } }`, nil); !strings.Contains(string(r.Body), `"signedOut":false`) {
			t.Errorf("anonymous signOut: %s", r.Body)
		}
	})
}

func TestHostileQueriesAreRejectedBeforeAnySQL(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		for name, q := range map[string]string{
			"missing first":      `{ users { totalCount } }`,
			"page too large":     `{ users(first: 1000) { totalCount } }`,
			"node budget":        `{ users(first: 100) { edges { node { apiTokens(first: 100) { edges { node { id } } } } } } }`,
			"nested plain lists": `{ calls(first: 100) { edges { node { reviewQueue { reviews { scores { key } } } } } } }`,
			"too deep":           `{ me { apiTokens(first: 1) { edges { node { user { apiTokens(first: 1) { edges { node { user { apiTokens(first: 1) { edges { node { user { id } } } } } } } } } } } } } }`,
		} {
			e.Queries.Reset()
			r := anon.Do(q, nil)
			if r.Code() != "BAD_REQUEST" || r.Data != nil && string(r.Data) != "null" {
				t.Errorf("%s: %s, want BAD_REQUEST and no data", name, r.Body)
			}
			if n := e.Queries.Count(); n != 0 {
				t.Errorf("%s: %d SQL statements ran, want 0", name, n)
			}
		}
	})
}

func TestMalformedRequestsGet4xxWithoutPanic(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		anon := e.Anonymous()
		for name, body := range map[string][]byte{
			"malformed json": []byte(`{"query": "{ me { id }"`),
			"batch array":    []byte(`[{"query": "{ me { id } }"}, {"query": "{ me { id } }"}]`),
			"2 MiB body":     append(append([]byte(`{"query": "{ me { id } }", "variables": {"pad": "`), bytes.Repeat([]byte("x"), 2<<20)...), []byte(`"}}`)...),
			"not graphql":    []byte(`{"query": "SELECT * FROM users"}`),
		} {
			r := anon.Post(body)
			if r.Status < 400 || r.Status > 499 {
				t.Errorf("%s: HTTP %d %s, want 4xx", name, r.Status, r.Body)
			}
		}
		if logs := e.Logs.String(); strings.Contains(logs, "panic") {
			t.Errorf("a panic was logged:\n%s", logs)
		}
	})
}

// A long non-ASCII User-Agent is stored cut on a character boundary: PostgreSQL refuses
// invalid UTF-8, so a byte cut would make the sign-in fail.
func TestSignInWithLongNonASCIIUserAgent(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		e.NewUser("zofia.wisniewska@example.pl", "Zofia Wiśniewska", viewer.RoleTrainee)
		link, err := e.App.Auth.IssueLoginLink(e.System(), e.DB.Client, "zofia.wisniewska@example.pl")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(link)
		c := e.Anonymous()
		c.Header = http.Header{"User-Agent": {"x" + strings.Repeat("ą", 300)}} // 601 bytes: byte 512 falls inside an ą
		if p := redeem(t, c, u.Query().Get("token")); p.SessionToken == "" {
			t.Fatalf("redeem: %+v", p)
		}
	})
}
