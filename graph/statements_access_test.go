package graph_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// outcomeOf writes a GraphQL answer as the permission tables do: the error code, or the
// payload's user-error codes, or "ok".
func outcomeOf(t *testing.T, r *testkit.Response, payload string) string {
	t.Helper()
	if len(r.Errors) > 0 {
		return r.Code()
	}
	if payload == "" {
		return "ok"
	}
	var raw map[string]struct {
		UserErrors []struct{ Code string }
	}
	if err := json.Unmarshal(r.Data, &raw); err != nil {
		t.Fatalf("decode %s: %v", r.Data, err)
	}
	var codes []string
	for _, u := range raw[payload].UserErrors {
		codes = append(codes, u.Code)
	}
	if len(codes) == 0 {
		return "ok"
	}
	return strings.Join(codes, "+")
}

// TestStatementPermissions asks every operation on a statement in review as anonymous, an
// author, a signatory of another organisation, an endorser, a trainee, a host coordinator
// and staff: refusals change nothing, and before publication the statement is invisible to
// everyone but its participants and staff (by slug, in lists and through node(id:)).
func TestStatementPermissions(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newStatementWorld(t, e)
		st := w.open(t, "permissions", "Text.")
		id := st.Statement.ID
		rev := st.Statement.CurrentRevision
		mustStmt(t, w.staff, submitStmtM, map[string]any{"id": id}, "submitStatement")

		actors := []struct {
			name string
			c    *testkit.Client
		}{
			{"anonymous", w.anon}, {"author", w.author}, {"signatory of B", w.sigB}, {"endorser", w.endorser},
			{"trainee", w.trainee}, {"coordinator", w.coordinator}, {"staff", w.staff},
		}
		type op struct {
			name, query, payload string
			vars                 map[string]any
			// want per actor, in the order above.
			want [7]string
		}
		const (
			unauth = "UNAUTHENTICATED"
			forbid = "FORBIDDEN"
			hidden = "NOT_FOUND"
		)
		staffOnly := [7]string{unauth, forbid, forbid, forbid, forbid, forbid, ""}
		ops := []op{
			{"read by slug", stmtBySlugQ, "", map[string]any{"s": "permissions"}, [7]string{"null", "ok", "ok", "ok", "null", "null", "ok"}},
			{"node(id:)", stmtNodeQ, "", map[string]any{"id": id}, [7]string{hidden, "ok", "ok", "ok", hidden, hidden, "ok"}},
			{"list", `query { statements(first: 10) { totalCount } }`, "", nil, [7]string{"0", "1", "1", "1", "0", "0", "1"}},
			{"open", openStmtM, "openStatement", map[string]any{"in": map[string]any{"slug": "other", "title": "T", "body": "B", "authorIds": []string{w.ids["author"]}}}, staffOnly},
			{"designate", designateM, "designateStatementSignatory", map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["A"], "userId": w.ids["author"]}}, staffOnly},
			{"edit", editStmtM, "editStatement", map[string]any{"in": map[string]any{"id": id, "baseRevisionId": rev.ID, "title": "T2", "body": "B2"}}, [7]string{unauth, "", forbid, forbid, hidden, hidden, ""}},
			{"submit", submitStmtM, "submitStatement", map[string]any{"id": id}, staffOnly},
			{"sign for A", signStmtM, "signStatement", map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["A"], "revisionId": rev.ID, "decision": "APPROVE"}}, [7]string{unauth, forbid, forbid, forbid, hidden, hidden, forbid}},
			{"endorse for C", endorseStmtM, "endorseStatement", map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["C"], "revisionId": rev.ID}}, [7]string{unauth, forbid, forbid, "INVALID_STATE", hidden, hidden, forbid}},
			{"schedule", scheduleStmtM, "scheduleStatement", map[string]any{"id": id, "at": e.Clock.Now().Add(time.Hour).Format(time.RFC3339)}, staffOnly},
			{"publish now", publishNowM, "publishStatementNow", map[string]any{"id": id}, staffOnly},
			{"correct", correctStmtM, "correctStatement", map[string]any{"in": map[string]any{"id": id, "baseRevisionId": rev.ID, "title": "T", "body": "B", "note": "n", "material": false}}, staffOnly},
			{"withdraw", withdrawStmtM, "withdrawStatement", map[string]any{"id": id, "r": "r"}, staffOnly},
		}
		for _, o := range ops {
			for i, a := range actors {
				want := o.want[i]
				if want == "" {
					continue // allowed: the end-to-end test takes these steps
				}
				r := a.c.Do(o.query, o.vars)
				got := outcomeOf(t, r, o.payload)
				switch o.name {
				case "read by slug":
					if got == "ok" && strings.Contains(string(r.Data), `"statement":null`) {
						got = "null"
					}
				case "list":
					var l struct{ Statements struct{ TotalCount int } }
					if err := json.Unmarshal(r.Data, &l); err == nil && got == "ok" {
						got = string(rune('0' + l.Statements.TotalCount))
					}
				}
				if got != want {
					t.Errorf("%s as %s = %s, want %s (%s)", o.name, a.name, got, want, r.Body)
				}
			}
		}
		// Nothing the refusals asked for happened.
		var after struct {
			Node struct {
				Status          string
				CurrentRevision struct{ Number int }
				Signoffs        []any
				Signatories     []any
			}
		}
		w.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on PolicyStatement { status currentRevision { number } signoffs { id } signatories { id } } } }`, map[string]any{"id": id}, &after)
		if after.Node.Status != "IN_REVIEW" || after.Node.CurrentRevision.Number != 1 || len(after.Node.Signoffs) != 0 || len(after.Node.Signatories) != 3 {
			t.Fatalf("after the refusals: %+v", after.Node)
		}
		var l struct{ Statements struct{ TotalCount int } }
		w.staff.MustDo(`query { statements(first: 10) { totalCount } }`, nil, &l)
		if l.Statements.TotalCount != 1 {
			t.Fatalf("staff list %d statements, want 1 (the refused open wrote nothing)", l.Statements.TotalCount)
		}
	})
}

// TestStatementBadInput: a slug collision (also with a withdrawn statement's), a bad slug,
// Markdown over the size limit, a signatory not affiliated with the organisation, an
// organisation that takes no part, an author without a current declaration at
// publication: each a user error, changing nothing.
func TestStatementBadInput(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newStatementWorld(t, e)
		st := w.open(t, "taken", "Text.")
		id := st.Statement.ID
		open := func(slug, body string) []string {
			return stmtErrors(t, w.staff, openStmtM, map[string]any{"in": map[string]any{"slug": slug, "title": "T", "body": body, "authorIds": []string{w.ids["author"]}}}, "openStatement")
		}
		for _, c := range []struct {
			name, slug, body, want string
		}{
			{"slug collision", "taken", "B", "TAKEN@input.slug"},
			{"bad slug", "Not A Slug", "B", "INVALID@input.slug"},
			{"empty body", "fine", "  ", "REQUIRED@input.body"},
			{"Markdown over the limit", "fine", strings.Repeat("x", 20001), "TOO_LONG@input.body"},
		} {
			if got := strings.Join(open(c.slug, c.body), ","); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		if got := stmtErrors(t, w.author, editStmtM, map[string]any{"in": map[string]any{"id": id, "baseRevisionId": st.Statement.CurrentRevision.ID, "title": "T", "body": strings.Repeat("é", 20001)}}, "editStatement"); strings.Join(got, ",") != "TOO_LONG@input.body" {
			t.Errorf("edit over the limit: %v", got)
		}
		var d struct {
			DesignateStatementSignatory stmtOut
		}
		w.staff.MustDo(designateM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["B"], "userId": w.ids["trainee"]}}, &d)
		if u := d.DesignateStatementSignatory.UserErrors; len(u) != 1 || u[0].Code != "INVALID" || strings.Join(u[0].Field, ".") != "input.userId" {
			t.Errorf("a signatory not affiliated: %+v", u)
		}
		// Publication needs every author's current declaration: the trainee never declared.
		var s struct{ UpdateStatementSettings stmtOut }
		w.staff.MustDo(`mutation($in: UpdateStatementSettingsInput!) { updateStatementSettings(input: $in) { `+stmtF+` } }`,
			map[string]any{"in": map[string]any{"id": id, "authorIds": []string{w.ids["author"], w.ids["trainee"]}}}, &s)
		mustStmt(t, w.staff, submitStmtM, map[string]any{"id": id}, "submitStatement")
		for _, sg := range []struct {
			c   *testkit.Client
			org string
		}{{w.sigA, "A"}, {w.sigB, "B"}} {
			mustStmt(t, sg.c, signStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids[sg.org], "revisionId": st.Statement.CurrentRevision.ID, "decision": "APPROVE"}}, "signStatement")
		}
		if got := stmtErrors(t, w.staff, publishNowM, map[string]any{"id": id}, "publishStatementNow"); strings.Join(got, ",") != "REQUIRED@input.id" {
			t.Errorf("publish without a declaration: %v", got)
		}
		var q struct{ Statement *struct{ ID string } }
		w.anon.MustDo(stmtBySlugQ, map[string]any{"s": "taken"}, &q)
		if q.Statement != nil {
			t.Error("the refused publication published")
		}
	})
}
