package graph_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	publishTextM = `mutation($in: PublishConsentTextInput!) { publishConsentText(input: $in) {
		consentText { id purpose version body requiresReconsent publishedAt lapsedAt } userErrors { field code message } } }`
	giveConsentM = `mutation($p: ConsentPurpose!) { giveConsent(input: {purpose: $p}) {
		record { id purpose event source consentVersion withdrawnAt text { version } } userErrors { field code message } } }`
	withdrawConsentM = `mutation($p: ConsentPurpose!) { withdrawConsent(input: {purpose: $p}) { withdrawn userErrors { field code message } } }`
	recordConsentM   = `mutation($in: RecordConsentInput!) { recordConsent(input: $in) {
		record { id purpose event source note consentVersion } userErrors { field code message } } }`
	myConsentsQ   = `{ myConsents { purpose status text { version } record { id consentVersion withdrawnAt } } }`
	consentTextsQ = `query($p: ConsentPurpose!) { consentTexts(purpose: $p) { version body requiresReconsent lapsedAt } }`
	coordsQ       = `query($id: ID!) { node(id: $id) { ... on HostCentre { coordinators { id name } } } }`
	profileQ      = `query($id: ID!) { node(id: $id) { ... on User { id name affiliations { position } } } }`
)

type consentRecord struct {
	ID, Purpose, Event, Source, Note, ConsentVersion string
	WithdrawnAt                                      *string
	Text                                             *struct{ Version int }
}

type consentPayload struct {
	ConsentText *struct {
		ID, Purpose, Body string
		Version           int
		RequiresReconsent bool
		LapsedAt          *string
	}
	Record     *consentRecord
	Withdrawn  int
	UserErrors []userErr
}

// consentDo runs a consent mutation and returns its payload (the first field of data).
func consentDo(t *testing.T, c *testkit.Client, query string, vars map[string]any) consentPayload {
	t.Helper()
	var out map[string]consentPayload
	c.MustDo(query, vars, &out)
	for _, p := range out {
		return p
	}
	t.Fatalf("no payload")
	return consentPayload{}
}

func publish(t *testing.T, staff *testkit.Client, purpose, body string, reconsent bool) consentPayload {
	t.Helper()
	p := consentDo(t, staff, publishTextM, map[string]any{"in": map[string]any{"purpose": purpose, "body": body, "requiresReconsent": reconsent}})
	if len(p.UserErrors) > 0 || p.ConsentText == nil {
		t.Fatalf("publish %s: %+v", purpose, p.UserErrors)
	}
	return p
}

func coordinatorNames(t *testing.T, c *testkit.Client, centre string) []string {
	t.Helper()
	var out struct {
		Node struct{ Coordinators []struct{ ID, Name string } }
	}
	c.MustDo(coordsQ, map[string]any{"id": centre}, &out)
	var names []string
	for _, u := range out.Node.Coordinators {
		names = append(names, u.Name)
	}
	return names
}

type myConsent struct {
	Purpose, Status string
	Text            *struct{ Version int }
	Record          *struct {
		ID, ConsentVersion string
		WithdrawnAt        *string
	}
}

func myConsents(t *testing.T, c *testkit.Client) map[string]myConsent {
	t.Helper()
	var out struct{ MyConsents []myConsent }
	c.MustDo(myConsentsQ, nil, &out)
	m := map[string]myConsent{}
	for _, s := range out.MyConsents {
		m[s.Purpose] = s
	}
	return m
}

func errCodes(p consentPayload) string {
	var cs []string
	for _, e := range p.UserErrors {
		cs = append(cs, strings.Join(e.Field, ".")+":"+e.Code)
	}
	return strings.Join(cs, ",")
}

// TestConsentHostContactFromBothSides: a host-centre coordinator is shown to other
// signed-in users only while they consent (HOST_CONTACT) on a version that counts; staff
// publish versions, and one requiring re-consent hides them until they consent again;
// withdrawal hides them; staff record consent only with a reason. Bad input changes nothing.
func TestConsentHostContactFromBothSides(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		texts := func() int { return e.DB.Client.ConsentText.Query().CountX(e.System()) }
		records := func() int { return e.DB.Client.ConsentEvidence.Query().CountX(e.System()) }

		// Publishing: staff only; bad input writes nothing.
		in := map[string]any{"in": map[string]any{"purpose": "HOST_CONTACT", "body": "Show my name as a contact of my centre."}}
		if r := a.anon.Do(publishTextM, in); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous publish: %s", r.Body)
		}
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "host": a.host} {
			if r := c.Do(publishTextM, in); r.Code() != "FORBIDDEN" {
				t.Errorf("%s publish: %s", who, r.Body)
			}
		}
		for name, c := range map[string]struct {
			in   map[string]any
			want string
		}{
			"empty text":           {map[string]any{"purpose": "HOST_CONTACT", "body": "  "}, "input.body:REQUIRED"},
			"newsletter re-ask":    {map[string]any{"purpose": "NEWSLETTER", "body": "News by email.", "requiresReconsent": true}, "input.requiresReconsent:INVALID"},
			"invisible characters": {map[string]any{"purpose": "HOST_CONTACT", "body": "Show\u202emy name"}, "input.body:INVALID"},
		} {
			if p := consentDo(t, a.staff, publishTextM, map[string]any{"in": c.in}); errCodes(p) != c.want || p.ConsentText != nil {
				t.Errorf("%s: user errors %q, want %q", name, errCodes(p), c.want)
			}
		}
		if r := a.staff.Do(publishTextM, map[string]any{"in": map[string]any{"purpose": "MARKETING", "body": "x"}}); len(r.Errors) == 0 || r.Code() == "" {
			t.Errorf("unknown purpose: %s", r.Body)
		}
		if n := texts(); n != 0 {
			t.Fatalf("%d consent texts after refused publications, want 0", n)
		}

		// Without a published text nobody can consent, and coordinators are hidden.
		if p := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"}); errCodes(p) != "input.purpose:NOT_FOUND" {
			t.Errorf("give before any text: %q", errCodes(p))
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 0 {
			t.Errorf("trainee sees coordinators %v before they consent", got)
		}

		v1 := publish(t, a.staff, "HOST_CONTACT", "Show my name as a contact of my centre.", false)
		if v1.ConsentText.Version != 1 || v1.ConsentText.Purpose != "HOST_CONTACT" {
			t.Errorf("first version: %+v", v1.ConsentText)
		}
		var pub struct{ ConsentTexts []struct{ Version int } }
		a.anon.MustDo(consentTextsQ, map[string]any{"p": "HOST_CONTACT"}, &pub)
		if len(pub.ConsentTexts) != 1 || pub.ConsentTexts[0].Version != 1 {
			t.Errorf("anonymous consentTexts: %+v", pub.ConsentTexts)
		}

		// Giving: the person themself, signed in, for a personal purpose.
		if r := a.anon.Do(giveConsentM, map[string]any{"p": "HOST_CONTACT"}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous give: %s", r.Body)
		}
		if r := a.anon.Do(myConsentsQ, nil); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous myConsents: %s", r.Body)
		}
		if p := consentDo(t, a.host, giveConsentM, map[string]any{"p": "NEWSLETTER"}); errCodes(p) != "input.purpose:INVALID" {
			t.Errorf("give NEWSLETTER: %q", errCodes(p))
		}
		if n := records(); n != 0 {
			t.Fatalf("%d consent records after refused gives, want 0", n)
		}
		given := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"})
		if r := given.Record; r == nil || r.Event != "GIVEN" || r.Source != "API" || r.ConsentVersion != "v1" || r.Text == nil || r.Text.Version != 1 {
			t.Fatalf("given: %+v %+v", given.Record, given.UserErrors)
		}
		if again := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"}); again.Record == nil || again.Record.ID != given.Record.ID {
			t.Errorf("giving again made a new record: %+v", again.Record)
		}
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other host": d.coordB, "staff": a.staff} {
			if got := coordinatorNames(t, c, d.centreLyon); len(got) != 1 || got[0] != "Claire Martin" {
				t.Errorf("%s sees coordinators %v, want Claire Martin", who, got)
			}
		}
		if got := coordinatorNames(t, a.anon, d.centreLyon); len(got) != 0 {
			t.Errorf("anonymous sees coordinators %v", got)
		}
		if m := myConsents(t, a.host); m["HOST_CONTACT"].Status != "GIVEN" || m["DIRECTORY_PROFILE"].Status != "NOT_GIVEN" || m["DIRECTORY_PROFILE"].Text != nil {
			t.Errorf("host's consents: %+v", m)
		}

		// The record is the host's and staff's to read, nobody else's.
		const nodeQ = `query($id: ID!) { node(id: $id) { ... on ConsentEvidence { id purpose } } }`
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "other host": d.coordB, "anonymous": a.anon} {
			if r := c.Do(nodeQ, map[string]any{"id": given.Record.ID}); strings.Contains(string(r.Data), given.Record.ID) {
				t.Errorf("%s reads the host's consent record: %s", who, r.Body)
			}
		}
		for who, c := range map[string]*testkit.Client{"host": a.host, "staff": a.staff} {
			if r := c.Do(nodeQ, map[string]any{"id": given.Record.ID}); !strings.Contains(string(r.Data), given.Record.ID) {
				t.Errorf("%s cannot read the record: %s", who, r.Body)
			}
		}

		// A new version that does not ask again keeps the consent; one that does hides the
		// contact until they consent again, and myConsents shows it pending.
		publish(t, a.staff, "HOST_CONTACT", "Show my name and centre as a contact.", false)
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 1 {
			t.Errorf("after v2 (no re-consent) trainee sees %v, want Claire", got)
		}
		v3 := publish(t, a.staff, "HOST_CONTACT", "Show my name, centre and role to signed-in users.", true)
		if v3.ConsentText.Version != 3 || !v3.ConsentText.RequiresReconsent {
			t.Errorf("v3: %+v", v3.ConsentText)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 0 {
			t.Errorf("after v3 (re-consent) trainee sees %v, want nobody", got)
		}
		a.anon.MustDo(consentTextsQ, map[string]any{"p": "HOST_CONTACT"}, &pub)
		if len(pub.ConsentTexts) != 3 || pub.ConsentTexts[0].Version != 3 {
			t.Errorf("consentTexts after v3: %+v", pub.ConsentTexts)
		}
		m := myConsents(t, a.host)
		if s := m["HOST_CONTACT"]; s.Status != "PENDING" || s.Text == nil || s.Text.Version != 3 || s.Record == nil || s.Record.ConsentVersion != "v1" {
			t.Errorf("host's HOST_CONTACT after v3: %+v", s)
		}
		again := consentDo(t, a.host, giveConsentM, map[string]any{"p": "HOST_CONTACT"})
		if again.Record == nil || again.Record.ConsentVersion != "v3" || again.Record.ID == given.Record.ID {
			t.Fatalf("re-consent: %+v", again)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 1 {
			t.Errorf("after re-consent trainee sees %v, want Claire", got)
		}
		if s := myConsents(t, a.host)["HOST_CONTACT"]; s.Status != "GIVEN" {
			t.Errorf("after re-consent: %+v", s)
		}

		// Withdrawal hides the contact at once; withdrawing again is refused.
		if w := consentDo(t, a.host, withdrawConsentM, map[string]any{"p": "HOST_CONTACT"}); w.Withdrawn != 2 || len(w.UserErrors) != 0 {
			t.Errorf("withdraw: %+v (want both standing records, v1 and v3, withdrawn)", w)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 0 {
			t.Errorf("after withdrawal trainee sees %v", got)
		}
		if s := myConsents(t, a.host)["HOST_CONTACT"]; s.Status != "WITHDRAWN" || s.Record == nil || s.Record.WithdrawnAt == nil {
			t.Errorf("after withdrawal: %+v", s)
		}
		if w := consentDo(t, a.host, withdrawConsentM, map[string]any{"p": "HOST_CONTACT"}); errCodes(w) != "input.purpose:INVALID_STATE" {
			t.Errorf("second withdrawal: %q", errCodes(w))
		}
		if r := a.anon.Do(withdrawConsentM, map[string]any{"p": "HOST_CONTACT"}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous withdraw: %s", r.Body)
		}

		// Staff record consent given elsewhere, with a reason; nobody else may.
		rec := map[string]any{"userId": a.hostID, "purpose": "HOST_CONTACT", "reason": "Signed form at the 2027 congress"}
		for who, c := range map[string]*testkit.Client{"trainee": a.trainee, "host": a.host} {
			if r := c.Do(recordConsentM, map[string]any{"in": rec}); r.Code() != "FORBIDDEN" {
				t.Errorf("%s records consent: %s", who, r.Body)
			}
		}
		if r := a.anon.Do(recordConsentM, map[string]any{"in": rec}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous records consent: %s", r.Body)
		}
		before := records()
		for name, c := range map[string]struct {
			in   map[string]any
			want string
		}{
			"no reason":      {map[string]any{"userId": a.hostID, "purpose": "HOST_CONTACT", "reason": " "}, "input.reason:REQUIRED"},
			"unknown person": {map[string]any{"userId": "usr_01J00000000000000000000000", "purpose": "HOST_CONTACT", "reason": "Letter"}, "input.userId:NOT_FOUND"},
			"newsletter":     {map[string]any{"userId": a.hostID, "purpose": "NEWSLETTER", "reason": "Letter"}, "input.purpose:INVALID"},
		} {
			if p := consentDo(t, a.staff, recordConsentM, map[string]any{"in": c.in}); errCodes(p) != c.want {
				t.Errorf("%s: %q, want %q", name, errCodes(p), c.want)
			}
		}
		if n := records(); n != before {
			t.Errorf("refused records wrote %d rows", n-before)
		}
		p := consentDo(t, a.staff, recordConsentM, map[string]any{"in": rec})
		if r := p.Record; r == nil || r.Event != "ATTESTATION" || r.Source != "STAFF" || r.Note != "Signed form at the 2027 congress" || r.ConsentVersion != "v3" {
			t.Fatalf("staff record: %+v %+v", p.Record, p.UserErrors)
		}
		if got := coordinatorNames(t, a.trainee, d.centreLyon); len(got) != 1 {
			t.Errorf("after staff record trainee sees %v, want Claire", got)
		}
		ev, err := e.DB.Client.ConsentEvidence.Query().Where(consentevidence.ID(pulid.ID(p.Record.ID))).Only(e.System())
		if err != nil || ev.UserID == nil || string(*ev.UserID) != a.hostID || ev.ActorID != a.staffID {
			t.Errorf("stored staff record: %+v, %v", ev, err)
		}
	})
}

// TestConsentDirectoryProfile: a person's directory profile (name and affiliations) is
// shown to other signed-in users only while they consent (DIRECTORY_PROFILE), never to
// anonymous viewers.
func TestConsentDirectoryProfile(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a := d.a
		type profile struct {
			Node *struct {
				ID, Name     string
				Affiliations []struct{ Position string }
			}
		}
		read := func(c *testkit.Client) profile {
			t.Helper()
			var out profile
			r := c.Do(profileQ, map[string]any{"id": a.traineeID})
			if len(r.Data) > 0 {
				if err := json.Unmarshal(r.Data, &out); err != nil {
					t.Fatalf("decode %s: %v", r.Body, err)
				}
			}
			return out
		}
		publish(t, a.staff, "DIRECTORY_PROFILE", "Show my name and affiliations to signed-in members.", false)
		for who, c := range map[string]*testkit.Client{"other trainee": a.other, "anonymous": a.anon} {
			if p := read(c); p.Node != nil {
				t.Errorf("%s sees the profile before consent: %+v", who, p.Node)
			}
		}
		if g := consentDo(t, a.trainee, giveConsentM, map[string]any{"p": "DIRECTORY_PROFILE"}); g.Record == nil {
			t.Fatalf("give: %+v", g.UserErrors)
		}
		for who, c := range map[string]*testkit.Client{"other trainee": a.other, "host": a.host} {
			p := read(c)
			if p.Node == nil || p.Node.Name != "Marek Dvořák" || len(p.Node.Affiliations) != 1 || p.Node.Affiliations[0].Position != "Consultant haematologist" {
				t.Errorf("%s after consent: %+v, want Marek with his Brno affiliation (the inactive organisation's hidden)", who, p.Node)
			}
		}
		if p := read(a.anon); p.Node != nil {
			t.Errorf("anonymous sees the profile: %+v", p.Node)
		}
		consentDo(t, a.trainee, withdrawConsentM, map[string]any{"p": "DIRECTORY_PROFILE"})
		if p := read(a.other); p.Node != nil {
			t.Errorf("other trainee sees the profile after withdrawal: %+v", p.Node)
		}
		if p := read(a.trainee); p.Node == nil || len(p.Node.Affiliations) != 1 {
			t.Errorf("the person no longer sees their own profile: %+v", p.Node)
		}
	})
}
