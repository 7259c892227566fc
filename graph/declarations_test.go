package graph_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	declarationFields = `id declaredOn nothingToDeclare renewBy current user { id }
		interests { organisation kind description from to }`
	declareM = `mutation($in: DeclareConflictsOfInterestInput!) { declareConflictsOfInterest(input: $in) {
		declaration { ` + declarationFields + ` } userErrors { field code message } } }`
)

type interestOut struct {
	Organisation, Kind, Description, From string
	To                                    *string
}

type declarationOut struct {
	ID, DeclaredOn, RenewBy string
	NothingToDeclare        bool
	Current                 bool
	User                    struct{ ID string }
	Interests               []interestOut
}

func declare(t *testing.T, c *testkit.Client, in map[string]any) (*declarationOut, []userErr) {
	t.Helper()
	var out struct {
		DeclareConflictsOfInterest struct {
			Declaration *declarationOut
			UserErrors  []userErr
		}
	}
	c.MustDo(declareM, map[string]any{"in": in}, &out)
	return out.DeclareConflictsOfInterest.Declaration, out.DeclareConflictsOfInterest.UserErrors
}

func TestConflictOfInterestDeclarations(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e) // 2027-01-12
		a, staff := w.a, w.a.staff
		interests := []map[string]any{
			{"organisation": "Kite Pharma (fictional)", "kind": "ADVISORY_BOARD", "description": "Advisory board on CAR-T logistics", "from": "2025-03-01", "to": "2026-02-28"},
			{"organisation": "Novartis (fictional)", "kind": "SPEAKER_FEES", "from": "2026-09-01"},
		}
		d, ue := declare(t, a.trainee, map[string]any{"nothingToDeclare": false, "interests": interests})
		if len(ue) > 0 || d == nil {
			t.Fatalf("declare: %+v", ue)
		}
		if d.DeclaredOn != "2027-01-12" || d.RenewBy != "2028-01-12" || !d.Current || d.NothingToDeclare || d.User.ID != a.traineeID ||
			len(d.Interests) != 2 || d.Interests[0].Kind != "ADVISORY_BOARD" || d.Interests[0].To == nil || *d.Interests[0].To != "2026-02-28" ||
			d.Interests[1].To != nil || d.Interests[1].Description != "" {
			t.Errorf("declaration: %+v", d)
		}
		jana, _ := declare(t, w.jana, map[string]any{"nothingToDeclare": true})
		if jana == nil || !jana.NothingToDeclare || len(jana.Interests) != 0 {
			t.Fatalf("nothing to declare: %+v", jana)
		}

		// Who sees whose declaration: the person, their current co-members, staff.
		latest := func(t *testing.T, c *testkit.Client, user string) string {
			t.Helper()
			var out struct {
				Node *struct {
					LatestDeclaration *struct{ ID string }
					Declarations      *struct{ TotalCount int } `json:"conflictOfInterestDeclarations"`
				}
			}
			r := c.Do(`query($id: ID!) { node(id: $id) { ... on User { latestDeclaration { id }
				conflictOfInterestDeclarations(first: 5) { totalCount } } } }`, map[string]any{"id": user})
			if len(r.Errors) > 0 {
				if r.Code() != "NOT_FOUND" { // a user one may not see at all
					t.Errorf("user %s: %s", user, r.Body)
				}
				return ""
			}
			if err := json.Unmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			if out.Node == nil || out.Node.LatestDeclaration == nil {
				if out.Node != nil && out.Node.Declarations.TotalCount != 0 {
					t.Errorf("no latest declaration but %d in the list", out.Node.Declarations.TotalCount)
				}
				return ""
			}
			return out.Node.LatestDeclaration.ID
		}
		byNode := func(t *testing.T, c *testkit.Client, id string) string {
			t.Helper()
			r := c.Do(`query($id: ID!) { node(id: $id) { ... on ConflictOfInterestDeclaration { id } } }`, map[string]any{"id": id})
			if len(r.Errors) > 0 {
				if r.Code() != "NOT_FOUND" {
					t.Errorf("node %s: %s", id, r.Body)
				}
				return ""
			}
			var out struct{ Node *struct{ ID string } }
			if err := json.Unmarshal(r.Data, &out); err != nil {
				t.Fatal(err)
			}
			if out.Node == nil {
				return ""
			}
			return out.Node.ID
		}
		for _, c := range []struct {
			who         string
			cl          *testkit.Client
			marek, jana bool
		}{
			{"anonymous", a.anon, false, false},
			{"Marek himself", a.trainee, true, true},                // Jana is his co-member in the panel
			{"Jana herself", w.jana, true, true},                    // Marek is her co-member in the panel
			{"Claire, chair of Marek's group", a.host, true, false}, // only invited to the panel
			{"Ioana, chair of another group", a.other, false, false},
			{"Nora, in no group", w.nora, false, false},
			{"staff", staff, true, true},
		} {
			t.Run(c.who, func(t *testing.T) {
				if got := latest(t, c.cl, a.traineeID) == d.ID; got != c.marek {
					t.Errorf("sees Marek's through the user: %v, want %v", got, c.marek)
				}
				if got := byNode(t, c.cl, d.ID) == d.ID; got != c.marek {
					t.Errorf("sees Marek's by node: %v, want %v", got, c.marek)
				}
				if got := latest(t, c.cl, w.janaID) == jana.ID; got != c.jana {
					t.Errorf("sees Jana's through the user: %v, want %v", got, c.jana)
				}
				if got := byNode(t, c.cl, jana.ID) == jana.ID; got != c.jana {
					t.Errorf("sees Jana's by node: %v, want %v", got, c.jana)
				}
			})
		}

		// A new declaration replaces the last as current; the old one stays on record.
		d2, _ := declare(t, a.trainee, map[string]any{"nothingToDeclare": true})
		var mine struct {
			Node struct {
				ConflictOfInterestDeclarations struct {
					Edges []struct{ Node declarationOut }
				}
			}
		}
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on User { conflictOfInterestDeclarations(first: 5, orderBy: {field: DECLARED_ON, direction: DESC}) {
			edges { node { `+declarationFields+` } } } } } }`, map[string]any{"id": a.traineeID}, &mine)
		var current []bool
		for _, e := range mine.Node.ConflictOfInterestDeclarations.Edges {
			current = append(current, e.Node.Current)
		}
		if len(current) != 2 || slices.Equal(current, []bool{true, true}) || latest(t, a.trainee, a.traineeID) != d2.ID {
			t.Errorf("after a second declaration: current %v, latest %s want %s", current, latest(t, a.trainee, a.traineeID), d2.ID)
		}
		// A year and a day later it is no longer current.
		e.Clock.Set(time.Date(2028, 1, 13, 9, 0, 0, 0, time.UTC))
		var later struct{ Node declarationOut }
		e.SignIn("marek.dvorak@example.cz").MustDo(`query($id: ID!) { node(id: $id) { ... on ConflictOfInterestDeclaration { `+declarationFields+` } } }`, map[string]any{"id": d2.ID}, &later)
		if later.Node.Current || later.Node.RenewBy != "2028-01-12" {
			t.Errorf("a year later: %+v", later.Node)
		}
	})
}

func TestConflictOfInterestBadInput(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e) // 2027-01-12
		ok := func() map[string]any {
			return map[string]any{"organisation": "Kite Pharma (fictional)", "kind": "CONSULTANCY", "from": "2026-01-01"}
		}
		with := func(change map[string]any) map[string]any {
			in := ok()
			for k, v := range change {
				in[k] = v
			}
			return map[string]any{"nothingToDeclare": false, "interests": []map[string]any{in}}
		}
		many := make([]map[string]any, 51)
		for i := range many {
			many[i] = ok()
		}
		for _, c := range []struct {
			name  string
			in    map[string]any
			code  string
			field string
		}{
			{"both", map[string]any{"nothingToDeclare": true, "interests": []map[string]any{ok()}}, "INVALID", "input.interests"},
			{"neither", map[string]any{"nothingToDeclare": false}, "REQUIRED", "input.interests"},
			{"too many", map[string]any{"nothingToDeclare": false, "interests": many}, "INVALID", "input.interests"},
			{"no organisation", with(map[string]any{"organisation": " "}), "REQUIRED", "input.interests.0.organisation"},
			{"organisation too long", with(map[string]any{"organisation": strings.Repeat("x", 201)}), "TOO_LONG", "input.interests.0.organisation"},
			{"organisation two lines", with(map[string]any{"organisation": "a\nb"}), "INVALID", "input.interests.0.organisation"},
			{"description too long", with(map[string]any{"description": strings.Repeat("x", 501)}), "TOO_LONG", "input.interests.0.description"},
			{"starts in the future", with(map[string]any{"from": "2027-02-01"}), "INVALID", "input.interests.0.from"},
			{"ends before it starts", with(map[string]any{"to": "2025-12-31"}), "INVALID", "input.interests.0.to"},
		} {
			d, ue := declare(t, a.trainee, c.in)
			if d != nil || len(ue) != 1 || ue[0].Code != c.code || strings.Join(ue[0].Field, ".") != c.field {
				t.Errorf("%s: %+v, want %s on %s", c.name, ue, c.code, c.field)
			}
		}
		// Values the schema refuses never reach the service.
		for name, in := range map[string]map[string]any{
			"unknown kind": with(map[string]any{"kind": "BRIBE"}),
			"bad date":     with(map[string]any{"from": "2026-02-30"}),
		} {
			if r := a.trainee.Do(declareM, map[string]any{"in": in}); len(r.Errors) == 0 {
				t.Errorf("%s accepted: %s", name, r.Body)
			}
		}
		if r := a.anon.Do(declareM, map[string]any{"in": map[string]any{"nothingToDeclare": true}}); r.Code() != "UNAUTHENTICATED" {
			t.Errorf("anonymous: %s", r.Body)
		}
		var out struct {
			Node struct{ ConflictOfInterestDeclarations struct{ TotalCount int } }
		}
		a.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on User { conflictOfInterestDeclarations(first: 1) { totalCount } } } }`, map[string]any{"id": a.traineeID}, &out)
		if n := out.Node.ConflictOfInterestDeclarations.TotalCount; n != 0 {
			t.Errorf("refused declarations wrote %d rows", n)
		}
	})
}

func TestDeclarationReminders(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newWorld(t, e) // 2027-01-12: current members Marek, Jana, Claire, Ioana
		a := w.a
		declare(t, a.trainee, map[string]any{"nothingToDeclare": true})
		declare(t, a.host, map[string]any{"nothingToDeclare": true})
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		run := func() []string {
			t.Helper()
			if err := e.App.Jobs.Trigger(app.JobDeclarationReminder); err != nil {
				t.Fatal(err)
			}
			if err := e.App.Jobs.RunDue(e.System()); err != nil {
				t.Fatal(err)
			}
			e.DrainOutbox()
			msgs := e.SMTP.Messages()
			var out []string
			for _, m := range msgs[seen:] {
				if strings.Contains(m.Subject, "interests") {
					out = append(out, m.To[0]+": "+m.Subject)
				}
			}
			seen = len(msgs)
			slices.Sort(out)
			return out
		}
		want := []string{
			"ioana.popescu@example.ro: Please declare your interests",
			"jana.novakova@fnbrno.example.cz: Please declare your interests",
		}
		if got := run(); !slices.Equal(got, want) {
			t.Errorf("first run: %q, want %q", got, want)
		}
		if got := run(); len(got) != 0 {
			t.Errorf("second run: %q", got)
		}
		body := ""
		for _, m := range e.SMTP.Messages() {
			if m.To[0] == "jana.novakova@fnbrno.example.cz" && strings.Contains(m.Subject, "interests") {
				body = m.TextBody()
			}
		}
		if !strings.Contains(body, "Your groups: Delphi Expert Panel.") {
			t.Errorf("reminder:\n%s", body)
		}
		// 30 days before the renewal: Marek (still in the panel) and Claire.
		e.Clock.Set(time.Date(2027, 12, 13, 8, 0, 0, 0, time.UTC))
		want = []string{
			"claire.martin@hopital.example.fr: Please renew your declaration of interests by 2028-01-12",
			"marek.dvorak@example.cz: Please renew your declaration of interests by 2028-01-12",
		}
		if got := run(); !slices.Equal(got, want) {
			t.Errorf("renewal run: %q, want %q", got, want)
		}
		if got := run(); len(got) != 0 {
			t.Errorf("renewal run again: %q", got)
		}
		// Claire renews; a year later, with no run in between, hers has expired. Marek is
		// no longer in any group and is not reminded.
		claire := e.SignIn("claire.martin@hopital.example.fr")
		declare(t, claire, map[string]any{"nothingToDeclare": true})
		e.Clock.Set(time.Date(2028, 12, 20, 8, 0, 0, 0, time.UTC)) // renew by 2028-12-13; her term runs to 2028-12-31
		if got, want := run(), []string{"claire.martin@hopital.example.fr: Your declaration of interests has expired"}; !slices.Equal(got, want) {
			t.Errorf("expired run: %q, want %q", got, want)
		}
	})
}
