package graph_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	stmtF = `statement { id slug status title late publishedVersions
		currentRevision { id number hash }
		signoffs { decision voidedAt revision { number } }
		public { title version versions status bodyHtml withdrawn { reason }
			corrections { version note material }
			coAuthors { organisation country people } endorsers { organisation people }
			authors declarations { person statement } } }
		userErrors { field code message }`
	openStmtM     = `mutation($in: OpenStatementInput!) { openStatement(input: $in) { ` + stmtF + ` } }`
	designateM    = `mutation($in: DesignateStatementSignatoryInput!) { designateStatementSignatory(input: $in) { signatory { id role } userErrors { field code message } } }`
	submitStmtM   = `mutation($id: ID!) { submitStatement(input: {id: $id}) { ` + stmtF + ` } }`
	editStmtM     = `mutation($in: EditStatementInput!) { editStatement(input: $in) { ` + stmtF + ` } }`
	signStmtM     = `mutation($in: SignStatementInput!) { signStatement(input: $in) { ` + stmtF + ` } }`
	endorseStmtM  = `mutation($in: EndorseStatementInput!) { endorseStatement(input: $in) { ` + stmtF + ` } }`
	scheduleStmtM = `mutation($id: ID!, $at: Time!) { scheduleStatement(input: {id: $id, at: $at}) { ` + stmtF + ` } }`
	correctStmtM  = `mutation($in: CorrectStatementInput!) { correctStatement(input: $in) { ` + stmtF + ` } }`
	withdrawStmtM = `mutation($id: ID!, $r: String!) { withdrawStatement(input: {id: $id, reason: $r}) { ` + stmtF + ` } }`
	publishNowM   = `mutation($id: ID!) { publishStatementNow(input: {id: $id}) { ` + stmtF + ` } }`
	stmtBySlugQ   = `query($s: String!) { statement(slug: $s) { id status title } }`
	stmtNodeQ     = `query($id: ID!) { node(id: $id) { id ... on PolicyStatement { status } } }`
	stmtListQ     = `query { statements(first: 50) { totalCount edges { node { slug status } } } }`
	diffQ         = `query($a: ID!, $b: ID!) { statementDiff(from: $a, to: $b) }`
)

type stmtOut struct {
	Statement *struct {
		ID, Slug, Status, Title string
		Late                    bool
		PublishedVersions       int
		CurrentRevision         *struct {
			ID, Hash string
			Number   int
		}
		Signoffs []struct {
			Decision string
			VoidedAt *string
			Revision struct{ Number int }
		}
		Public *struct {
			Title, Status, BodyHTML string
			Version, Versions       int
			Withdrawn               *struct{ Reason string }
			Corrections             []struct {
				Version  int
				Note     string
				Material bool
			}
			CoAuthors []struct {
				Organisation, Country string
				People                []string
			}
			Endorsers []struct {
				Organisation string
				People       []string
			}
			Authors      []string
			Declarations []struct{ Person, Statement string }
		}
	}
	UserErrors []struct {
		Field         []string
		Code, Message string
	}
}

// statementWorld is the cast of the statement tests: staff, an author, two co-authoring
// organisations with a signatory each, an endorsing organisation with its contact, a
// trainee and a host coordinator who take no part.
type statementWorld struct {
	staff, author, sigA, sigB, endorser, trainee, coordinator, anon *testkit.Client
	ids                                                             map[string]string
}

func newStatementWorld(t *testing.T, e *testkit.Env) *statementWorld {
	t.Helper()
	w := &statementWorld{ids: map[string]string{}, anon: e.Anonymous()}
	_, w.staff = e.NewUser("office@coalition.test", "Coalition Office", viewer.RoleStaff)
	for _, p := range []struct {
		key, email, name string
		c                **testkit.Client
		role             viewer.Role
	}{
		{"author", "ana@example.org", "Ana Novak", &w.author, viewer.RoleTrainee},
		{"sigA", "sig.a@example.org", "Signe Alpha", &w.sigA, viewer.RoleTrainee},
		{"sigB", "sig.b@example.org", "Sam Beta", &w.sigB, viewer.RoleTrainee},
		{"endorser", "en@example.org", "Edith Gamma", &w.endorser, viewer.RoleTrainee},
		{"trainee", "trainee@example.org", "Tom Trainee", &w.trainee, viewer.RoleTrainee},
		{"coordinator", "host@example.org", "Hana Host", &w.coordinator, viewer.RoleHostCoordinator},
	} {
		u, c := e.NewUser(p.email, p.name, p.role)
		*p.c = c
		w.ids[p.key] = string(u.ID)
	}
	for _, o := range []struct{ key, name, kind, country string }{
		{"A", "European Society Alpha", "SOCIETY", "FR"},
		{"B", "Beta Haematology Association", "SOCIETY", "DE"},
		{"C", "Gamma Patients' Network", "PATIENT_ORGANISATION", "IE"},
	} {
		var out struct {
			CreateOrganisation struct{ Organisation struct{ ID string } }
		}
		w.staff.MustDo(`mutation($in: CreateOrganisationInput!) { createOrganisation(input: $in) { organisation { id } userErrors { message } } }`,
			map[string]any{"in": map[string]any{"name": o.name, "kind": o.kind, "country": o.country}}, &out)
		w.ids[o.key] = out.CreateOrganisation.Organisation.ID
	}
	for person, org := range map[string]string{"sigA": "A", "sigB": "B", "endorser": "C", "author": "A"} {
		w.staff.MustDo(`mutation($in: SetAffiliationInput!) { setAffiliation(input: $in) { userErrors { message } } }`,
			map[string]any{"in": map[string]any{"userId": w.ids[person], "organisationId": w.ids[org], "position": "Member"}}, nil)
	}
	var d struct{ DeclareConflictsOfInterest struct{ UserErrors []any } }
	w.author.MustDo(`mutation { declareConflictsOfInterest(input: {nothingToDeclare: false, interests: [{organisation: "Acme Cell Therapies", kind: ADVISORY_BOARD, description: "CAR-T advisory board", from: "2026-01-01"}]}) { userErrors { message } } }`, nil, &d)
	if len(d.DeclareConflictsOfInterest.UserErrors) > 0 {
		t.Fatalf("declare: %v", d.DeclareConflictsOfInterest.UserErrors)
	}
	return w
}

// open opens a statement by slug with the author, A and B co-authoring and C endorsing,
// and designates the signatories.
func (w *statementWorld) open(t *testing.T, slug, body string) stmtOut {
	t.Helper()
	var out struct{ OpenStatement stmtOut }
	w.staff.MustDo(openStmtM, map[string]any{"in": map[string]any{
		"slug": slug, "title": "Proportionate risk management for autologous CAR-T", "summary": "What the coalition asks of regulators.",
		"body": body, "topics": []string{"car-t", "soho-regulation"}, "authorIds": []string{w.ids["author"]},
		"coAuthorIds": []string{w.ids["A"], w.ids["B"]}, "endorserIds": []string{w.ids["C"]},
	}}, &out)
	if out.OpenStatement.Statement == nil {
		t.Fatalf("open: %+v", out.OpenStatement.UserErrors)
	}
	for person, org := range map[string]string{"sigA": "A", "sigB": "B", "endorser": "C"} {
		var d struct {
			DesignateStatementSignatory struct{ UserErrors []any }
		}
		w.staff.MustDo(designateM, map[string]any{"in": map[string]any{"id": out.OpenStatement.Statement.ID, "organisationId": w.ids[org], "userId": w.ids[person]}}, &d)
		if len(d.DesignateStatementSignatory.UserErrors) > 0 {
			t.Fatalf("designate %s: %v", person, d.DesignateStatementSignatory.UserErrors)
		}
	}
	return out.OpenStatement
}

func mustStmt(t *testing.T, c *testkit.Client, m string, vars map[string]any, name string) stmtOut {
	t.Helper()
	var raw map[string]stmtOut
	c.MustDo(m, vars, &raw)
	out := raw[name]
	if out.Statement == nil || len(out.UserErrors) > 0 {
		t.Fatalf("%s: %+v", name, out.UserErrors)
	}
	return out
}

func stmtErrors(t *testing.T, c *testkit.Client, m string, vars map[string]any, name string) []string {
	t.Helper()
	var raw map[string]stmtOut
	c.MustDo(m, vars, &raw)
	var codes []string
	for _, u := range raw[name].UserErrors {
		codes = append(codes, u.Code+"@"+strings.Join(u.Field, "."))
	}
	return codes
}

// TestStatementEndToEnd: draft → review → two organisations sign → an edit voids the
// sign-offs (and emails the signatories) → re-sign → endorsement → schedule → the job
// publishes at the instant (injected clock), once → the public reads it → a material
// correction is announced over SMTP to the statements list → withdrawal.
func TestStatementEndToEnd(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newStatementWorld(t, e)
		st := w.open(t, "car-t-risk", "We ask for **proportionate** rules.\n\n<script>alert(1)</script><iframe src=\"https://evil.example\"></iframe>\n\n[click](javascript:alert(1))")
		id := st.Statement.ID
		rev1 := st.Statement.CurrentRevision

		// Invisible to the public and to people who take no part, everywhere.
		for name, c := range map[string]*testkit.Client{"anonymous": w.anon, "trainee": w.trainee, "coordinator": w.coordinator} {
			var q struct{ Statement *struct{ ID string } }
			c.MustDo(stmtBySlugQ, map[string]any{"s": "car-t-risk"}, &q)
			if q.Statement != nil {
				t.Errorf("%s reads the draft by slug", name)
			}
			if r := c.Do(stmtNodeQ, map[string]any{"id": id}); r.Code() != "NOT_FOUND" {
				t.Errorf("%s: node(id:) of the draft = %s", name, r.Body)
			}
			var l struct{ Statements struct{ TotalCount int } }
			c.MustDo(stmtListQ, nil, &l)
			if l.Statements.TotalCount != 0 {
				t.Errorf("%s lists %d statements before publication", name, l.Statements.TotalCount)
			}
		}

		mustStmt(t, w.staff, submitStmtM, map[string]any{"id": id}, "submitStatement")
		sign := func(c *testkit.Client, org string, rev *struct {
			ID, Hash string
			Number   int
		}) stmtOut {
			return mustStmt(t, c, signStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids[org], "revisionId": rev.ID, "hash": rev.Hash, "decision": "APPROVE"}}, "signStatement")
		}
		if got := sign(w.sigA, "A", rev1).Statement.Status; got != "IN_REVIEW" {
			t.Fatalf("after A signed: %s, want IN_REVIEW", got)
		}
		// Participants read each other (the people beside the statement), outsiders nobody.
		for name, c := range map[string]*testkit.Client{"signatory of B": w.sigB, "author": w.author, "endorser": w.endorser} {
			var people struct {
				Node struct {
					Signoffs    []struct{ User struct{ Name string } }
					Signatories []struct {
						User         struct{ Name string }
						Organisation struct{ Name string }
					}
				}
			}
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on PolicyStatement { signoffs { user { name } } signatories { user { name } organisation { name } } } } }`, map[string]any{"id": id}, &people)
			if len(people.Node.Signoffs) != 1 || people.Node.Signoffs[0].User.Name != "Signe Alpha" || len(people.Node.Signatories) != 3 {
				t.Errorf("%s reads the sign-offs as %+v", name, people.Node)
			}
		}
		// Nobody signs for an organisation they are not a designated signatory of.
		if r := w.sigA.Do(signStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["B"], "revisionId": rev1.ID, "decision": "APPROVE"}}); r.Code() != "FORBIDDEN" {
			t.Fatalf("A's signatory signs for B: %s", r.Body)
		}

		// The author edits: the sign-off on revision 1 is voided and its signatory told.
		ed := mustStmt(t, w.author, editStmtM, map[string]any{"in": map[string]any{"id": id, "baseRevisionId": rev1.ID,
			"title": "Proportionate risk management for autologous CAR-T", "summary": "What the coalition asks of regulators.",
			"body": "We ask for **proportionate** rules, reviewed yearly.\n\n<script>alert(1)</script><iframe src=\"https://evil.example\"></iframe>\n\n[click](javascript:alert(1))"}}, "editStatement")
		rev2 := ed.Statement.CurrentRevision
		if rev2.Number != 2 || rev2.Hash == rev1.Hash {
			t.Fatalf("edit made revision %d hash %s", rev2.Number, rev2.Hash)
		}
		if len(ed.Statement.Signoffs) != 1 || ed.Statement.Signoffs[0].VoidedAt == nil {
			t.Fatalf("sign-offs after the edit: %+v, want A's voided", ed.Statement.Signoffs)
		}
		// A racing edit based on revision 1 loses, and changes nothing.
		if r := w.staff.Do(editStmtM, map[string]any{"in": map[string]any{"id": id, "baseRevisionId": rev1.ID, "title": "Other", "body": "Other text"}}); r.Code() != "CONFLICT" {
			t.Fatalf("racing edit: %s", r.Body)
		}
		// Signing the stale revision is refused.
		if got := stmtErrors(t, w.sigB, signStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["B"], "revisionId": rev1.ID, "decision": "APPROVE"}}, "signStatement"); strings.Join(got, ",") != "INVALID_STATE@input.revisionId" {
			t.Fatalf("stale sign-off: %v", got)
		}
		e.DrainOutbox()
		voided := 0
		for _, m := range e.SMTP.Messages() {
			if strings.HasPrefix(m.Subject, "Sign-off needed again") {
				voided++
				if m.To[0] != "sig.a@example.org" || !strings.Contains(m.TextBody(), rev2.Hash) {
					t.Errorf("voided sign-off email to %v: %s", m.To, m.TextBody())
				}
			}
		}
		if voided != 1 {
			t.Fatalf("%d voided-sign-off emails, want 1 (to A's signatory)", voided)
		}

		sign(w.sigA, "A", rev2)
		if got := sign(w.sigB, "B", rev2).Statement.Status; got != "APPROVED" {
			t.Fatalf("after both signed revision 2: %s, want APPROVED", got)
		}
		mustStmt(t, w.endorser, endorseStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids["C"], "revisionId": rev2.ID, "hash": rev2.Hash}}, "endorseStatement")

		// An embargo in the past is refused; one an hour ahead is kept by the job.
		if got := stmtErrors(t, w.staff, scheduleStmtM, map[string]any{"id": id, "at": e.Clock.Now().Add(-time.Minute).Format(time.RFC3339)}, "scheduleStatement"); strings.Join(got, ",") != "INVALID@input.at" {
			t.Fatalf("embargo in the past: %v", got)
		}
		at := e.Clock.Now().Add(time.Hour).Truncate(time.Second)
		mustStmt(t, w.staff, scheduleStmtM, map[string]any{"id": id, "at": at.Format(time.RFC3339)}, "scheduleStatement")
		release := func() int {
			t.Helper()
			n, err := e.App.Statements.Run(context.Background())
			if err != nil {
				t.Fatalf("publication job: %v", err)
			}
			return n
		}
		e.Clock.Set(at.Add(-time.Second))
		if n := release(); n != 0 {
			t.Fatalf("published %d before the embargo", n)
		}
		e.Clock.Set(at)
		if n := release(); n != 1 {
			t.Fatalf("published %d at the embargo, want 1", n)
		}
		if n := release(); n != 0 {
			t.Fatalf("published %d again", n)
		}

		// The public reads it, with the signers and declarations it was published with.
		var pub struct{ Statement *struct{ ID, Status string } }
		w.anon.MustDo(stmtBySlugQ, map[string]any{"s": "car-t-risk"}, &pub)
		if pub.Statement == nil || pub.Statement.Status != "PUBLISHED" {
			t.Fatalf("anonymous after publication: %+v", pub.Statement)
		}
		p, err := e.App.Statements.PublicGet(context.Background(), "car-t-risk", 0)
		if err != nil {
			t.Fatal(err)
		}
		if p.Version != 1 || len(p.CoAuthors) != 2 || len(p.Endorsers) != 1 || p.Endorsers[0].People[0] != "Edith Gamma" ||
			len(p.Declarations) != 1 || !strings.Contains(p.Declarations[0].Statement, "Acme Cell Therapies") {
			t.Fatalf("public version: %+v", p)
		}
		for _, bad := range []string{"<script", "<iframe", "javascript:"} {
			if strings.Contains(string(p.BodyHTML), bad) {
				t.Errorf("body HTML keeps %s: %s", bad, p.BodyHTML)
			}
		}
		if !strings.Contains(string(p.BodyHTML), "<strong>proportionate</strong>") {
			t.Errorf("body HTML: %s", p.BodyHTML)
		}
		// The statements list was made on first use, public; a reader subscribes.
		var lists struct {
			Subscribe struct{ UserErrors []any }
		}
		w.anon.MustDo(subscribeM, map[string]any{"in": map[string]any{"email": "reader@example.org", "lists": []string{"statements"}}}, &lists)
		if len(lists.Subscribe.UserErrors) > 0 {
			t.Fatalf("subscribe to statements: %v", lists.Subscribe.UserErrors)
		}
		e.DrainOutbox()
		token := ""
		for _, m := range e.SMTP.Messages() {
			if mm := confirmLinkRE.FindStringSubmatch(m.TextBody()); mm != nil && m.To[0] == "reader@example.org" {
				token = mm[1]
			}
		}
		if token == "" {
			t.Fatal("no confirmation link for the reader")
		}
		w.anon.MustDo(confirmM, map[string]any{"t": token}, nil)

		// A material correction: a new public version with its note, announced by email.
		co := mustStmt(t, w.staff, correctStmtM, map[string]any{"in": map[string]any{"id": id, "baseRevisionId": rev2.ID,
			"title": "Proportionate risk management for autologous CAR-T", "summary": "What the coalition asks of regulators.",
			"body": "We ask for **proportionate** rules, reviewed every two years.", "note": "The review interval is two years, not one.", "material": true}}, "correctStatement")
		if co.Statement.Status != "CORRECTED" || co.Statement.Public == nil || co.Statement.Public.Version != 2 ||
			len(co.Statement.Public.Corrections) != 1 || !co.Statement.Public.Corrections[0].Material {
			t.Fatalf("correction: %+v", co.Statement)
		}
		for range 3 {
			if _, _, err := e.App.Campaigns.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			e.DrainOutbox()
		}
		got := 0
		for _, m := range e.SMTP.Messages() {
			if m.To[0] == "reader@example.org" && strings.HasPrefix(m.Subject, "Correction to policy statement") {
				got++
				if !strings.Contains(m.TextBody(), "/statements/car-t-risk") {
					t.Errorf("announcement without the link: %s", m.TextBody())
				}
			}
		}
		if got != 1 {
			t.Fatalf("%d correction announcements to the reader, want 1", got)
		}

		// The diff between revisions 2 and 3 shows the change.
		var diff struct{ StatementDiff string }
		w.staff.MustDo(diffQ, map[string]any{"a": rev2.ID, "b": co.Statement.CurrentRevision.ID}, &diff)
		if !strings.Contains(diff.StatementDiff, "+We ask for **proportionate** rules, reviewed every two years.") {
			t.Fatalf("diff: %s", diff.StatementDiff)
		}

		wd := mustStmt(t, w.staff, withdrawStmtM, map[string]any{"id": id, "r": "Superseded by the 2028 statement."}, "withdrawStatement")
		if wd.Statement.Status != "WITHDRAWN" || wd.Statement.Public == nil || wd.Statement.Public.Withdrawn == nil {
			t.Fatalf("withdrawal: %+v", wd.Statement)
		}
		// Still readable, marked; every wrong step refused.
		if got := stmtErrors(t, w.staff, withdrawStmtM, map[string]any{"id": id, "r": "again"}, "withdrawStatement"); strings.Join(got, ",") != "INVALID_STATE@input.id" {
			t.Fatalf("withdraw twice: %v", got)
		}
		p, err = e.App.Statements.PublicGet(context.Background(), "car-t-risk", 1)
		if err != nil || p.Withdrawn == nil || p.Version != 1 || p.Versions != 2 {
			t.Fatalf("version 1 after withdrawal: %+v %v", p, err)
		}
	})
}

// approved opens a statement and takes it to APPROVED (both co-authors sign).
func (w *statementWorld) approved(t *testing.T, slug string) stmtOut {
	t.Helper()
	st := w.open(t, slug, "Text of "+slug+".")
	id, rev := st.Statement.ID, st.Statement.CurrentRevision
	mustStmt(t, w.staff, submitStmtM, map[string]any{"id": id}, "submitStatement")
	var out stmtOut
	for _, sg := range []struct {
		c   *testkit.Client
		org string
	}{{w.sigA, "A"}, {w.sigB, "B"}} {
		out = mustStmt(t, sg.c, signStmtM, map[string]any{"in": map[string]any{"id": id, "organisationId": w.ids[sg.org], "revisionId": rev.ID, "hash": rev.Hash, "decision": "APPROVE"}}, "signStatement")
	}
	if out.Statement.Status != "APPROVED" {
		t.Fatalf("%s: %s, want APPROVED", slug, out.Statement.Status)
	}
	return out
}

// TestStatementPublicationJob: two runs of the job at once (as two serve processes would)
// publish a due statement once and announce it once; a statement whose embargo passed by
// more than the late delay is left SCHEDULED and marked late for staff, who publish it by
// hand; the review reminder goes to staff once per review-by date.
func TestStatementPublicationJob(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		w := newStatementWorld(t, e)
		due := w.approved(t, "due")
		late := w.approved(t, "late")
		at := e.Clock.Now().Add(time.Hour).Truncate(time.Second)
		mustStmt(t, w.staff, scheduleStmtM, map[string]any{"id": due.Statement.ID, "at": at.Format(time.RFC3339)}, "scheduleStatement")
		mustStmt(t, w.staff, scheduleStmtM, map[string]any{"id": late.Statement.ID, "at": at.Add(-30 * time.Minute).Format(time.RFC3339)}, "scheduleStatement")
		// The late one's embargo passed more than an hour (the default delay) ago.
		e.Clock.Set(at.Add(31 * time.Minute))

		start := make(chan struct{})
		results := make(chan int, 2)
		for range 2 {
			go func() {
				<-start
				n, err := e.App.Statements.Run(context.Background())
				if err != nil {
					t.Errorf("job: %v", err)
				}
				results <- n
			}()
		}
		close(start)
		if total := <-results + <-results; total != 1 {
			t.Fatalf("two runs published %d statements, want 1", total)
		}
		var c struct {
			Campaigns struct{ TotalCount int }
		}
		w.staff.MustDo(`query { campaigns(first: 10) { totalCount } }`, nil, &c)
		if c.Campaigns.TotalCount != 1 {
			t.Fatalf("%d announcement campaigns, want 1", c.Campaigns.TotalCount)
		}
		var q struct {
			Node struct {
				Status string
				Late   bool
			}
		}
		w.staff.MustDo(`query($id: ID!) { node(id: $id) { ... on PolicyStatement { status late } } }`, map[string]any{"id": late.Statement.ID}, &q)
		if q.Node.Status != "SCHEDULED" || !q.Node.Late {
			t.Fatalf("the late statement: %+v, want SCHEDULED and late", q.Node)
		}
		if n, _ := e.App.Statements.Run(context.Background()); n != 0 {
			t.Fatalf("the job published %d later", n)
		}
		e.DrainOutbox()
		lateMails := 0
		for _, m := range e.SMTP.Messages() {
			if strings.HasPrefix(m.Subject, "Policy statement not published") {
				lateMails++
			}
		}
		if lateMails != 1 {
			t.Fatalf("%d late emails, want 1 (to the one member of staff, once)", lateMails)
		}
		if got := mustStmt(t, w.staff, publishNowM, map[string]any{"id": late.Statement.ID}, "publishStatementNow"); got.Statement.Status != "PUBLISHED" || got.Statement.Late {
			t.Fatalf("staff publish the late one: %+v", got.Statement)
		}

		// Review reminders: once per review-by date, to staff.
		reviewBy := e.Clock.Now().Add(24 * time.Hour)
		var s struct{ UpdateStatementSettings stmtOut }
		w.staff.MustDo(`mutation($in: UpdateStatementSettingsInput!) { updateStatementSettings(input: $in) { `+stmtF+` } }`,
			map[string]any{"in": map[string]any{"id": due.Statement.ID, "reviewBy": reviewBy.Format(time.RFC3339)}}, &s)
		remind := func() int {
			n, err := e.App.Statements.RemindReviews(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := remind(); n != 0 {
			t.Fatalf("reminded %d before the date", n)
		}
		e.Clock.Set(reviewBy)
		if n := remind(); n != 1 {
			t.Fatalf("reminded %d at the date, want 1", n)
		}
		if n := remind(); n != 0 {
			t.Fatalf("reminded %d again", n)
		}
		e.DrainOutbox()
		got := 0
		for _, m := range e.SMTP.Messages() {
			if strings.HasPrefix(m.Subject, "Policy statement due for review") {
				got++
				if m.To[0] != "office@coalition.test" {
					t.Errorf("review reminder to %v", m.To)
				}
			}
		}
		if got != 1 {
			t.Fatalf("%d review reminders, want 1 (to the one member of staff)", got)
		}
	})
}
