package graph_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	appFields = `id status statusReason role cartExperienceYears motivation languages focusAreas preferredWeeks
		availability { from to } homeOrganisation { name } hostChoices { name } missing
		documents { id kind filename size downloadUrl } refereeRequests { refereeName refereeEmail waived receivedAt }`
	saveAppM     = `mutation($in: SaveApplicationInput!) { saveApplication(input: $in) { application { ` + appFields + ` } userErrors { field code message } } }`
	submitAppM   = `mutation($in: ApplicationIdInput!) { submitApplication(input: $in) { application { ` + appFields + ` } userErrors { field code message } } }`
	withdrawAppM = `mutation($in: WithdrawApplicationInput!) { withdrawApplication(input: $in) { application { id status statusReason } userErrors { field code message } } }`
	decideM      = `mutation($in: DecideEligibilityInput!) { decideEligibility(input: $in) { application { id status statusReason } userErrors { field code message } } }`
	refereeM     = `mutation($in: RequestRefereeLetterInput!) { requestRefereeLetter(input: $in) { refereeRequest { id refereeName waived expiresAt } userErrors { field code message } } }`
	uploadM      = `mutation($in: UploadDocumentInput!) { uploadDocument(input: $in) { document { id kind filename size } userErrors { field code message } } }`
	removeDocM   = `mutation($in: DocumentIdInput!) { removeDocument(input: $in) { application { id } userErrors { field code message } } }`
)

type appOut struct {
	ID, Status, StatusReason, Role, Motivation string
	CartExperienceYears                        int
	PreferredWeeks                             *int
	Languages, FocusAreas, Missing             []string
	Availability                               []struct{ From, To string }
	HomeOrganisation                           *struct{ Name string }
	HostChoices                                []struct{ Name string }
	Documents                                  []struct {
		ID, Kind, Filename, DownloadURL string
		Size                            int
	}
	RefereeRequests []struct {
		RefereeName, RefereeEmail string
		Waived                    bool
		ReceivedAt                *string
	}
}

type appPayload struct {
	Application *appOut
	Document    *struct{ ID, Kind, Filename string }
	UserErrors  []userErr
}

func amutate(t *testing.T, c *testkit.Client, query string, in map[string]any) appPayload {
	t.Helper()
	var out map[string]appPayload
	c.MustDo(query, map[string]any{"in": in}, &out)
	for _, p := range out {
		return p
	}
	t.Fatalf("no payload")
	return appPayload{}
}

func amust(t *testing.T, c *testkit.Client, query string, in map[string]any) appPayload {
	t.Helper()
	p := amutate(t, c, query, in)
	if len(p.UserErrors) > 0 {
		t.Fatalf("unexpected user errors for %v: %+v", in, p.UserErrors)
	}
	return p
}

func upload(t *testing.T, c *testkit.Client, appID, kind, name string, content []byte) appPayload {
	t.Helper()
	r := c.Upload(uploadM, map[string]any{"in": map[string]any{"applicationId": appID, "kind": kind, "file": nil}},
		map[string]testkit.File{"variables.in.file": {Name: name, Content: content}})
	if len(r.Errors) > 0 {
		t.Fatalf("upload: %s", r.Body)
	}
	var out struct{ UploadDocument appPayload }
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatalf("upload: %v: %s", err, r.Body)
	}
	return out.UploadDocument
}

// openCall is a directory with the pilot call open: approved slots at Lyon (2 weeks from
// 1 March) and Musterstadt (1 week from 5 April).
type openCall struct {
	d                  directory
	call, lyon, muster string
	marekApp           string
}

func newOpenCall(t *testing.T, e *testkit.Env) openCall {
	t.Helper()
	d := newDirectory(t, e)
	staff := d.a.staff
	o := openCall{d: d}
	o.call = pmust(t, staff, createCallM, pilotCall()).Call.ID
	o.lyon = pmust(t, d.a.host, proposeM, map[string]any{"callId": o.call, "hostCentreId": d.centreLyon, "startDate": "2027-03-01", "weeks": 2, "capacity": 2}).Slot.ID
	o.muster = pmust(t, d.coordB, proposeM, map[string]any{"callId": o.call, "hostCentreId": d.centreMusterstadt, "startDate": "2027-04-05", "weeks": 1, "capacity": 1}).Slot.ID
	pmust(t, staff, approveM, map[string]any{"id": o.lyon})
	pmust(t, staff, approveM, map[string]any{"id": o.muster})
	pmust(t, staff, openCallM, map[string]any{"id": o.call})
	return o
}

const motivation = "I lead the new CAR-T programme of our haematology department and want to see how an experienced " +
	"centre organises apheresis, bridging therapy and the management of cytokine release syndrome."

func fullDraft(o openCall) map[string]any {
	return map[string]any{
		"callId": o.call, "homeOrganisationId": o.d.brno, "role": "Haematology consultant", "cartExperienceYears": 3,
		"motivation": motivation, "languages": []string{"cs", "EN"}, "focusAreas": []string{"LYMPHOMA"},
		"availability":   []map[string]any{{"from": "2027-03-01", "to": "2027-03-26"}, {"from": "2027-04-05", "to": "2027-04-09"}},
		"preferredWeeks": 2, "hostCentreIds": []string{o.d.centreLyon, o.d.centreMusterstadt},
	}
}

// receiveLetter uploads a referee letter the way the referee's upload page does.
func receiveLetter(t *testing.T, e *testkit.Env, token string, content []byte) error {
	t.Helper()
	ctx := context.Background()
	tx, err := e.DB.Client.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ctx = ent.NewTxContext(viewer.NewContext(ctx, viewer.Viewer{Kind: viewer.Anonymous}), tx)
	err = e.App.Programme.ReceiveRefereeLetter(ctx, tx.Client(), token, "reference.pdf", strings.NewReader(string(content)))
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

func TestApplicationFromDraftToEligibility(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		o := newOpenCall(t, e)
		a, staff := o.d.a, o.d.a.staff
		p := amust(t, a.trainee, saveAppM, fullDraft(o))
		myApp := p.Application
		if myApp.Status != "DRAFT" || myApp.HomeOrganisation.Name != "Fakultní nemocnice Brno (fictional)" || !slices.Equal(myApp.Languages, []string{"cs", "en"}) ||
			len(myApp.HostChoices) != 2 || myApp.HostChoices[0].Name != "CAR-T Unit, Hôpital Saint-Exemple" || *myApp.PreferredWeeks != 2 {
			t.Errorf("draft: %+v", myApp)
		}
		wantMissing := []string{"Upload your CV (PDF).", "Upload your motivation letter (PDF).", "Upload your head of department's support letter (PDF).",
			"0 of 1 referee letters have arrived; ask your referees to upload theirs."}
		if !slices.Equal(myApp.Missing, wantMissing) {
			t.Errorf("missing:\n%q\nwant\n%q", myApp.Missing, wantMissing)
		}
		// Submitting now lists everything missing and changes nothing.
		if p := amutate(t, a.trainee, submitAppM, map[string]any{"id": myApp.ID}); p.Application != nil || len(p.UserErrors) != 4 {
			t.Errorf("incomplete submit: %+v", p.UserErrors)
		}
		// Documents: PDFs only, checked by content, replaced by kind.
		if p := upload(t, a.trainee, myApp.ID, "CV", "cv.pdf", []byte("<html>not a pdf</html>")); p.Document != nil || !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("non-PDF: %+v", p)
		}
		if p := upload(t, a.trainee, myApp.ID, "REFEREE_LETTER", "ref.pdf", testkit.PDF("self-made reference")); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("own referee letter: %+v", p)
		}
		upload(t, a.trainee, myApp.ID, "CV", "old-cv.pdf", testkit.PDF("old cv"))
		cv := upload(t, a.trainee, myApp.ID, "CV", `C:\Users\marek\CV "final".PDF`, testkit.PDF("cv"))
		if cv.Document == nil || cv.Document.Filename != "CV final.PDF" {
			t.Errorf("cv: %+v", cv)
		}
		if r := a.other.Upload(uploadM, map[string]any{"in": map[string]any{"applicationId": myApp.ID, "kind": "CV", "file": nil}},
			map[string]testkit.File{"variables.in.file": {Name: "x.pdf", Content: testkit.PDF("x")}}); !strings.Contains(string(r.Body), "NOT_FOUND") {
			t.Errorf("another trainee uploading to Marek's application: %s", r.Body)
		}
		upload(t, a.trainee, myApp.ID, "MOTIVATION_LETTER", "motivation.pdf", testkit.PDF("motivation"))
		support := upload(t, a.trainee, myApp.ID, "SUPPORT_LETTER", "support.pdf", testkit.PDF("support")).Document
		amust(t, a.trainee, removeDocM, map[string]any{"id": support.ID})
		upload(t, a.trainee, myApp.ID, "SUPPORT_LETTER", "support.pdf", testkit.PDF("support"))

		// A referee letter, with the right to read it waived.
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		amust(t, a.trainee, refereeM, map[string]any{"applicationId": myApp.ID, "refereeName": "Prof. Eva Horáková", "refereeEmail": "eva.horakova@fnbrno.example.cz", "waiveRight": true})
		if p := amutate(t, a.trainee, refereeM, map[string]any{"applicationId": myApp.ID, "refereeName": "Eva again", "refereeEmail": "EVA.horakova@fnbrno.example.cz", "waiveRight": false}); !slices.Equal(codes(p.UserErrors), []string{"TAKEN"}) {
			t.Errorf("same referee twice: %+v", p.UserErrors)
		}
		e.DrainOutbox()
		msgs := e.SMTP.Messages()[seen:]
		if len(msgs) != 1 || msgs[0].To[0] != "eva.horakova@fnbrno.example.cz" || msgs[0].Subject != "Marek Dvořák asks you for a reference: Observership pilot, Q1 2027" ||
			!strings.Contains(msgs[0].TextBody(), "has waived the right to read your letter") {
			t.Fatalf("referee email: %q", subjects(msgs))
		}
		link := refereeLinkRE.FindString(msgs[0].TextBody())
		if err := receiveLetter(t, e, tokenOf(t, link), []byte("not a pdf")); err == nil {
			t.Errorf("referee's non-PDF accepted")
		}
		if err := receiveLetter(t, e, tokenOf(t, link), testkit.PDF("reference")); err != nil {
			t.Fatalf("referee letter: %v", err)
		}
		if err := receiveLetter(t, e, tokenOf(t, link), testkit.PDF("second reference")); err == nil || !strings.Contains(err.Error(), "received already") {
			t.Errorf("second letter through the same link: %v", err)
		}

		// Marek never sees the letter he waived; staff do.
		var mine struct{ Node appOut }
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Application { `+appFields+` } } }`, map[string]any{"id": myApp.ID}, &mine)
		kinds := names(mine.Node.Documents, func(d struct {
			ID, Kind, Filename, DownloadURL string
			Size                            int
		}) string {
			return d.Kind
		})
		slices.Sort(kinds)
		if !slices.Equal(kinds, []string{"CV", "MOTIVATION_LETTER", "SUPPORT_LETTER"}) || len(mine.Node.Missing) != 0 ||
			len(mine.Node.RefereeRequests) != 1 || mine.Node.RefereeRequests[0].ReceivedAt == nil {
			t.Errorf("Marek's view: kinds %v, missing %v, referees %+v", kinds, mine.Node.Missing, mine.Node.RefereeRequests)
		}
		var theirs struct{ Node appOut }
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Application { `+appFields+` } } }`, map[string]any{"id": myApp.ID}, &theirs)
		if len(theirs.Node.Documents) != 4 {
			t.Errorf("staff see %d documents, want 4", len(theirs.Node.Documents))
		}

		// Nobody else sees the application, its choices or its documents.
		for who, c := range map[string]*testkit.Client{"anonymous": a.anon, "another trainee": a.other, "a chosen host": a.host, "another host": o.d.coordB} {
			if r := c.Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": myApp.ID}); r.Code() != "NOT_FOUND" {
				t.Errorf("%s reads the application: %s", who, r.Body)
			}
			if r := c.Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": cv.Document.ID}); r.Code() != "NOT_FOUND" {
				t.Errorf("%s reads the CV: %s", who, r.Body)
			}
			var calls struct {
				Node struct {
					Applications struct{ TotalCount int }
				}
			}
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { applications(first: 5) { totalCount } } } }`, map[string]any{"id": o.call}, &calls)
			if calls.Node.Applications.TotalCount != 0 {
				t.Errorf("%s counts %d applications of the call", who, calls.Node.Applications.TotalCount)
			}
		}

		// Submitted, with a summary by email.
		e.DrainOutbox()
		seen = len(e.SMTP.Messages())
		sub := amust(t, a.trainee, submitAppM, map[string]any{"id": myApp.ID}).Application
		if sub.Status != "SUBMITTED" {
			t.Errorf("submitted: %+v", sub)
		}
		e.DrainOutbox()
		msgs = e.SMTP.Messages()[seen:]
		if len(msgs) != 1 || msgs[0].Subject != "Application submitted: Observership pilot, Q1 2027" {
			t.Fatalf("submission emails: %q", subjects(msgs))
		}
		body := msgs[0].TextBody()
		for _, want := range []string{"1. CAR-T Unit, Hôpital Saint-Exemple", "2. Zentrum für Zelltherapie", "CV: CV final.PDF",
			"referee letter: reference.pdf", "2027-03-01 to 2027-03-26; 2027-04-05 to 2027-04-09", "Fakultní nemocnice Brno (fictional) (CZ)"} {
			if !strings.Contains(body, want) {
				t.Errorf("summary lacks %q:\n%s", want, body)
			}
		}
		// A submitted application no longer changes.
		if p := amutate(t, a.trainee, saveAppM, map[string]any{"callId": o.call, "role": "Other"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("change after submitting: %+v", p.UserErrors)
		}
		if p := amutate(t, a.trainee, submitAppM, map[string]any{"id": myApp.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("submit twice: %+v", p.UserErrors)
		}

		// Ioana starts a draft and is reminded 7 days and 1 day before the deadline (2027-02-15 17:00 Brussels).
		ioana := amust(t, a.other, saveAppM, map[string]any{"callId": o.call, "role": "Haematology registrar"}).Application
		run := func(at time.Time) []string {
			t.Helper()
			e.Clock.Set(at)
			if err := e.App.Jobs.Trigger(app.JobDeadlineReminder); err != nil {
				t.Fatal(err)
			}
			if err := e.App.Jobs.RunDue(e.System()); err != nil {
				t.Fatal(err)
			}
			e.DrainOutbox()
			var out []string
			for _, m := range e.SMTP.Messages()[seen:] {
				if strings.Contains(m.Subject, "deadline") {
					out = append(out, m.To[0]+": "+m.Subject)
				}
			}
			seen = len(e.SMTP.Messages())
			return out
		}
		if got := run(time.Date(2027, 2, 8, 15, 0, 0, 0, time.UTC)); len(got) != 0 {
			t.Errorf("8 days before: %q", got)
		}
		want := []string{"ioana.popescu@example.ro: In 7 days: the deadline of Observership pilot, Q1 2027, and your application is not submitted"}
		if got := run(time.Date(2027, 2, 8, 16, 0, 0, 0, time.UTC)); !slices.Equal(got, want) {
			t.Errorf("7 days before: %q, want %q", got, want)
		}
		if got := run(time.Date(2027, 2, 9, 16, 0, 0, 0, time.UTC)); len(got) != 0 {
			t.Errorf("again: %q", got)
		}
		want = []string{"ioana.popescu@example.ro: Tomorrow: the deadline of Observership pilot, Q1 2027, and your application is not submitted"}
		if got := run(time.Date(2027, 2, 14, 20, 0, 0, 0, time.UTC)); !slices.Equal(got, want) {
			t.Errorf("1 day before: %q, want %q", got, want)
		}

		// After the deadline nothing can be submitted or changed.
		e.Clock.Set(time.Date(2027, 2, 15, 16, 0, 0, 0, time.UTC))
		ioanaC, marek, staff2 := e.SignIn("ioana.popescu@example.ro"), e.SignIn("marek.dvorak@example.cz"), e.SignIn("office@coalition.test")
		if p := amutate(t, ioanaC, saveAppM, map[string]any{"callId": o.call, "role": "Late"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("save after the deadline: %+v", p.UserErrors)
		}
		if p := amutate(t, ioanaC, submitAppM, map[string]any{"id": ioana.ID}); !slices.Contains(codes(p.UserErrors), "INVALID_STATE") {
			t.Errorf("submit after the deadline: %+v", p.UserErrors)
		}

		// Eligibility: staff, after the call closes; the trainee is told.
		if p := amutate(t, staff2, decideM, map[string]any{"id": myApp.ID, "eligible": true}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("decide while open: %+v", p.UserErrors)
		}
		pmust(t, staff2, closeCallM, map[string]any{"id": o.call})
		if r := marek.Do(decideM, map[string]any{"in": map[string]any{"id": myApp.ID, "eligible": true}}); r.Code() != "FORBIDDEN" {
			t.Errorf("trainee deciding: %s", r.Body)
		}
		if p := amutate(t, staff2, decideM, map[string]any{"id": myApp.ID, "eligible": false}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("ineligible without a reason: %+v", p.UserErrors)
		}
		if p := amutate(t, staff2, decideM, map[string]any{"id": ioana.ID, "eligible": true}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("decide a draft: %+v", p.UserErrors)
		}
		amust(t, staff2, decideM, map[string]any{"id": myApp.ID, "eligible": true})
		e.DrainOutbox()
		msgs = e.SMTP.Messages()[seen:]
		if len(msgs) != 1 || msgs[0].Subject != "Your application is eligible: Observership pilot, Q1 2027" {
			t.Errorf("eligibility emails: %q", subjects(msgs))
		}
		seen = len(e.SMTP.Messages())
		if got := amust(t, marek, withdrawAppM, map[string]any{"id": myApp.ID, "reason": "Cannot travel in March."}).Application; got.Status != "WITHDRAWN" {
			t.Errorf("withdrawn: %+v", got)
		}
		e.DrainOutbox()
		if msgs = e.SMTP.Messages()[seen:]; len(msgs) != 1 || msgs[0].Subject != "Application withdrawn: Observership pilot, Q1 2027" ||
			!strings.Contains(msgs[0].TextBody(), "(Cannot travel in March.)") {
			t.Errorf("withdrawal emails: %q", subjects(msgs))
		}
		if p := amutate(t, marek, withdrawAppM, map[string]any{"id": myApp.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("withdraw twice: %+v", p.UserErrors)
		}
	})
}

func TestApplicationBadInputChangesNothing(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		o := newOpenCall(t, e)
		a := o.d.a
		for who, want := range map[*testkit.Client]string{a.anon: "UNAUTHENTICATED", a.host: "FORBIDDEN", a.staff: "FORBIDDEN"} {
			if r := who.Do(saveAppM, map[string]any{"in": fullDraft(o)}); r.Code() != want {
				t.Errorf("saveApplication: %s, want %s", r.Body, want)
			}
		}
		for _, c := range []struct {
			name   string
			change map[string]any
			code   string
			field  string
		}{
			{"unknown call", map[string]any{"callId": "cal_01J0000000000000000000000"}, "NOT_FOUND", "input.callId"},
			{"home centre in France", map[string]any{"homeOrganisationId": o.d.lyon}, "INVALID", "input.homeOrganisationId"},
			{"unknown organisation", map[string]any{"homeOrganisationId": "org_01J0000000000000000000000"}, "NOT_FOUND", "input.homeOrganisationId"},
			{"role two lines", map[string]any{"role": "a\nb"}, "INVALID", "input.role"},
			{"role too long", map[string]any{"role": strings.Repeat("r", 201)}, "TOO_LONG", "input.role"},
			{"negative experience", map[string]any{"cartExperienceYears": -1}, "INVALID", "input.cartExperienceYears"},
			{"motivation too long", map[string]any{"motivation": strings.Repeat("m", 3001)}, "TOO_LONG", "input.motivation"},
			{"bad language", map[string]any{"languages": []string{"czech"}}, "INVALID", "input.languages.0"},
			{"availability outside the window", map[string]any{"availability": []map[string]any{{"from": "2027-02-22", "to": "2027-03-05"}}}, "INVALID", "input.availability.0"},
			{"availability backwards", map[string]any{"availability": []map[string]any{{"from": "2027-03-10", "to": "2027-03-05"}}}, "INVALID", "input.availability.0"},
			{"overlapping ranges", map[string]any{"availability": []map[string]any{{"from": "2027-03-01", "to": "2027-03-10"}, {"from": "2027-03-08", "to": "2027-03-20"}}}, "INVALID", "input.availability"},
			{"three weeks", map[string]any{"preferredWeeks": 3}, "INVALID", "input.preferredWeeks"},
			{"host without a slot", map[string]any{"hostCentreIds": []string{o.d.centreMilano}}, "INVALID", "input.hostCentreIds.0"},
			{"host twice", map[string]any{"hostCentreIds": []string{o.d.centreLyon, o.d.centreLyon}}, "INVALID", "input.hostCentreIds.1"},
			{"too many hosts", map[string]any{"hostCentreIds": []string{o.d.centreLyon, o.d.centreMusterstadt, o.d.centreMilano, o.d.centreClosed}}, "INVALID", "input.hostCentreIds"},
		} {
			p := amutate(t, a.trainee, saveAppM, with(fullDraft(o), c.change))
			if p.Application != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != c.code || strings.Join(p.UserErrors[0].Field, ".") != c.field {
				t.Errorf("%s: %+v, want %s on %s", c.name, p.UserErrors, c.code, c.field)
			}
		}
		var out struct {
			Me struct{ Applications struct{ TotalCount int } }
		}
		a.trainee.MustDo(`{ me { applications(first: 1) { totalCount } } }`, nil, &out)
		if out.Me.Applications.TotalCount != 0 {
			t.Errorf("refused drafts were written: %d", out.Me.Applications.TotalCount)
		}
		// Referee requests: checked too.
		draft := amust(t, a.trainee, saveAppM, fullDraft(o)).Application
		for _, c := range []struct {
			name, refName, email, code, field string
		}{
			{"no name", " ", "eva@example.cz", "REQUIRED", "input.refereeName"},
			{"bad address", "Eva", "eva at example", "INVALID", "input.refereeEmail"},
			{"own address", "Me", "marek.dvorak@example.cz", "INVALID", "input.refereeEmail"},
		} {
			p := amutate(t, a.trainee, refereeM, map[string]any{"applicationId": draft.ID, "refereeName": c.refName, "refereeEmail": c.email, "waiveRight": false})
			if len(p.UserErrors) != 1 || p.UserErrors[0].Code != c.code || strings.Join(p.UserErrors[0].Field, ".") != c.field {
				t.Errorf("%s: %+v", c.name, p.UserErrors)
			}
		}
		if r := a.other.Do(refereeM, map[string]any{"in": map[string]any{"applicationId": draft.ID, "refereeName": "X", "refereeEmail": "x@example.org", "waiveRight": false}}); !strings.Contains(string(r.Body), "NOT_FOUND") {
			t.Errorf("another trainee asking for a letter on Marek's application: %s", r.Body)
		}
	})
}

// subjects lists "to: subject" of messages, for failure messages.
func subjects(msgs []testkit.ReceivedMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, m.To[0]+": "+m.Subject)
	}
	return out
}

func TestReplacedAndRemovedDocumentsAreDeleted(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		o := newOpenCall(t, e)
		a := o.d.a
		draft := amust(t, a.trainee, saveAppM, fullDraft(o)).Application
		stored := func() int {
			t.Helper()
			n := 0
			err := filepath.WalkDir(e.App.Config.DocumentsDir(), func(path string, d fs.DirEntry, err error) error {
				if err == nil && d.Type().IsRegular() && len(d.Name()) == 64 {
					n++
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		upload(t, a.trainee, draft.ID, "CV", "cv-2026.pdf", testkit.PDF("old cv"))
		upload(t, a.trainee, draft.ID, "CV", "cv-2027.pdf", testkit.PDF("new cv")) // replaces the old one
		letter := upload(t, a.trainee, draft.ID, "MOTIVATION_LETTER", "motivation.pdf", testkit.PDF("motivation")).Document
		amust(t, a.trainee, removeDocM, map[string]any{"id": letter.ID})
		// Another trainee's identical file shares the stored copy and keeps it.
		other := amust(t, a.other, saveAppM, map[string]any{"callId": o.call}).Application
		upload(t, a.other, other.ID, "CV", "cv.pdf", testkit.PDF("new cv"))
		if n := stored(); n != 3 {
			t.Fatalf("%d files stored before collecting, want 3", n)
		}
		// testkit's clock is ahead of the files' real times, so they are past the grace period.
		if err := e.App.Jobs.Trigger(app.JobDocumentsGC); err != nil {
			t.Fatal(err)
		}
		if err := e.App.Jobs.RunDue(e.System()); err != nil {
			t.Fatal(err)
		}
		if n := stored(); n != 1 {
			t.Errorf("%d files stored after collecting, want 1 (the current CV)", n)
		}
		var mine struct{ Node appOut }
		a.trainee.MustDo(`query($id: ID!) { node(id: $id) { ... on Application { `+appFields+` } } }`, map[string]any{"id": draft.ID}, &mine)
		if len(mine.Node.Documents) != 1 || mine.Node.Documents[0].Filename != "cv-2027.pdf" {
			t.Errorf("documents after collecting: %+v", mine.Node.Documents)
		}
	})
}
