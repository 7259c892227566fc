package graph_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// refereeUpload posts a letter through the referee's upload page, as their browser does,
// and returns the HTTP status and page.
func refereeUpload(t *testing.T, e *testkit.Env, token string, content []byte) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("token", token)
	part, err := w.CreateFormFile("letter", "reference.pdf")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = part.Write(content)
	_ = w.Close()
	resp, err := e.Server.Client().Post(e.Server.URL+"/referee", w.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(page)
}

// TestWholeCallThroughTheAPI runs a small call end to end: open → slots → three trainees
// apply with documents and a referee letter → close → eligibility → review → host
// rankings, and checks the emails each party receives.
func TestWholeCallThroughTheAPI(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e) // 2027-01-12; Claire coordinates Lyon, Lukas Musterstadt
		a, staff := d.a, d.a.staff
		_, reviewer := e.NewUser("reviewer@coalition.test", "Rita Reviewer", viewer.RoleStaff)
		_, aoife := e.NewUser("aoife.byrne@example.ie", "Aoife Byrne", viewer.RoleTrainee)
		fundeni := mustMutate(t, staff, createOrgM, map[string]any{"name": "Institutul Clinic Fundeni (fictional)", "kind": "HOSPITAL", "country": "RO", "city": "Bucharest"}).Organisation.ID
		dublin := mustMutate(t, staff, createOrgM, map[string]any{"name": "St Example's Hospital, Dublin (fictional)", "kind": "HOSPITAL", "country": "IE", "city": "Dublin"}).Organisation.ID
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		// Open: staff create the call, hosts offer slots, staff approve and open.
		callID := pmust(t, staff, createCallM, pilotCall()).Call.ID
		lyon := pmust(t, a.host, proposeM, map[string]any{"callId": callID, "hostCentreId": d.centreLyon, "startDate": "2027-03-01", "weeks": 2, "capacity": 2}).Slot.ID
		muster := pmust(t, d.coordB, proposeM, map[string]any{"callId": callID, "hostCentreId": d.centreMusterstadt, "startDate": "2027-04-05", "weeks": 1, "capacity": 1}).Slot.ID
		pmust(t, staff, approveM, map[string]any{"id": lyon})
		pmust(t, staff, approveM, map[string]any{"id": muster})
		pmust(t, staff, openCallM, map[string]any{"id": callID})

		// Three trainees apply.
		type applicant struct {
			name    string
			c       *testkit.Client
			org     string
			hosts   []string
			referee string
			id      string
		}
		applicants := []*applicant{
			{name: "Marek", c: a.trainee, org: d.brno, hosts: []string{d.centreLyon, d.centreMusterstadt}, referee: "eva.horakova@fnbrno.example.cz"},
			{name: "Ioana", c: a.other, org: fundeni, hosts: []string{d.centreLyon}, referee: "radu.ionescu@fundeni.example.ro"},
			{name: "Aoife", c: aoife, org: dublin, hosts: []string{d.centreMusterstadt, d.centreLyon}, referee: "sean.kelly@stexample.example.ie"},
		}
		for _, ap := range applicants {
			draft := with(map[string]any{
				"callId": callID, "homeOrganisationId": ap.org, "role": "Haematology consultant", "cartExperienceYears": 2,
				"motivation": motivation, "languages": []string{"en"}, "focusAreas": []string{"LYMPHOMA"},
				"availability": []map[string]any{{"from": "2027-03-01", "to": "2027-04-30"}}, "preferredWeeks": 1, "hostCentreIds": ap.hosts,
			}, nil)
			ap.id = amust(t, ap.c, saveAppM, draft).Application.ID
			for _, k := range []string{"CV", "MOTIVATION_LETTER", "SUPPORT_LETTER"} {
				if p := upload(t, ap.c, ap.id, k, strings.ToLower(k)+".pdf", testkit.PDF(ap.name+" "+k)); p.Document == nil {
					t.Fatalf("%s upload %s: %+v", ap.name, k, p.UserErrors)
				}
			}
			amust(t, ap.c, refereeM, map[string]any{"applicationId": ap.id, "refereeName": "Referee of " + ap.name, "refereeEmail": ap.referee, "waiveRight": true})
			e.DrainOutbox()
			var link string
			for _, m := range e.SMTP.Messages() {
				if m.To[0] == ap.referee {
					link = refereeLinkRE.FindString(m.TextBody())
				}
			}
			if status, page := refereeUpload(t, e, tokenOf(t, link), testkit.PDF("reference for "+ap.name)); status != http.StatusOK || !strings.Contains(page, "received") {
				t.Fatalf("%s's referee upload: %d\n%s", ap.name, status, page)
			}
			if got := amust(t, ap.c, submitAppM, map[string]any{"id": ap.id}).Application; got.Status != "SUBMITTED" {
				t.Fatalf("%s submit: %+v", ap.name, got)
			}
		}
		marek, ioana, aoifeApp := applicants[0].id, applicants[1].id, applicants[2].id

		// Close, then eligibility.
		e.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
		staff, reviewer = e.SignIn("office@coalition.test"), e.SignIn("reviewer@coalition.test")
		claire, lukas := e.SignIn("claire.martin@hopital.example.fr"), e.SignIn("lukas.becker@klinikum-musterstadt.example.de")
		trainee := e.SignIn("marek.dvorak@example.cz")
		// Before the call closes, hosts see no applications.
		if got := hostSees(t, claire, callID); len(got) != 0 {
			t.Errorf("Claire sees applications before closing: %v", got)
		}
		pmust(t, staff, closeCallM, map[string]any{"id": callID})
		amust(t, staff, decideM, map[string]any{"id": marek, "eligible": true})
		amust(t, staff, decideM, map[string]any{"id": ioana, "eligible": true})
		amust(t, staff, decideM, map[string]any{"id": aoifeApp, "eligible": false, "reason": "Placements need two years of haematology training."})
		pmust(t, staff, reviewM, map[string]any{"id": callID})

		// Review: Rita has a conflict with Marek's application.
		score := func(c *testkit.Client, app string, m, x, i int) appPayload {
			return amutate(t, c, `mutation($in: ScoreApplicationInput!) { scoreApplication(input: $in) { review { id } userErrors { field code message } } }`,
				map[string]any{"applicationId": app, "scores": []map[string]any{{"key": "motivation", "score": m}, {"key": "experience", "score": x}, {"key": "impact", "score": i}}})
		}
		if p := score(staff, marek, 5, 4, 4); len(p.UserErrors) > 0 {
			t.Fatalf("score: %+v", p.UserErrors)
		}
		score(staff, ioana, 3, 3, 3)
		score(reviewer, marek, 1, 1, 1)
		amust(t, reviewer, `mutation($in: DeclareReviewConflictInput!) { declareReviewConflict(input: $in) { review { id } userErrors { field code message } } }`,
			map[string]any{"applicationId": marek, "reason": "Marek trained in my department."})
		if p := score(reviewer, marek, 5, 5, 5); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("conflicted reviewer scoring: %+v", p.UserErrors)
		}
		score(reviewer, ioana, 5, 5, 5)
		if p := score(staff, aoifeApp, 5, 5, 5); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("scoring an ineligible application: %+v", p.UserErrors)
		}
		if p := score(staff, ioana, 6, 3, 3); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("score 6: %+v", p.UserErrors)
		}
		if r := trainee.Do(`mutation($in: ScoreApplicationInput!) { scoreApplication(input: $in) { review { id } } }`,
			map[string]any{"in": map[string]any{"applicationId": ioana, "scores": []map[string]any{}}}); r.Code() != "FORBIDDEN" {
			t.Errorf("trainee scoring: %s", r.Body)
		}
		var ranking struct {
			Node struct {
				ReviewRanking []struct {
					Application struct{ ID string }
					Score       *float64
					Reviews     int
					Rank        *int
				}
			}
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { reviewRanking { application { id } score reviews rank } } } }`, map[string]any{"id": callID}, &ranking)
		rr := ranking.Node.ReviewRanking
		// Marek: only the office's review counts: (5·40 + 4·30 + 4·30)/100 = 4.4; Ioana: (3 + 5)/2 = 4.
		if len(rr) != 2 || rr[0].Application.ID != marek || *rr[0].Score != 4.4 || rr[0].Reviews != 1 || *rr[0].Rank != 1 ||
			rr[1].Application.ID != ioana || *rr[1].Score != 4 || rr[1].Reviews != 2 || *rr[1].Rank != 2 {
			t.Errorf("review ranking: %+v", rr)
		}
		var queue struct {
			Node struct{ ReviewQueue []struct{ ID string } }
		}
		reviewer.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { reviewQueue { id } } } }`, map[string]any{"id": callID}, &queue)
		if len(queue.Node.ReviewQueue) != 0 {
			t.Errorf("Rita's queue: %+v", queue.Node.ReviewQueue)
		}
		// Rita sees only her own review of Marek's application.
		var revs struct {
			Node struct {
				Reviews []struct{ Conflict bool }
			}
		}
		reviewer.MustDo(`query($id: ID!) { node(id: $id) { ... on Application { reviews { conflict } } } }`, map[string]any{"id": marek}, &revs)
		if len(revs.Node.Reviews) != 1 || !revs.Node.Reviews[0].Conflict {
			t.Errorf("conflicted reviewer sees reviews: %+v", revs.Node.Reviews)
		}
		for who, c := range map[string]*testkit.Client{"trainee": trainee, "host": claire} {
			if r := c.Do(`query($id: ID!) { node(id: $id) { ... on Application { score } } }`, map[string]any{"id": marek}); r.Code() != "FORBIDDEN" {
				t.Errorf("%s reads a score: %s", who, r.Body)
			}
		}

		// Hosts see the eligible applications that listed them, not the trainee's choices.
		if got, want := hostSees(t, claire, callID), []string{"Ioana Popescu: choices 0, documents 3", "Marek Dvořák: choices 0, documents 3"}; !slices.Equal(got, want) {
			t.Errorf("Claire sees %v, want %v", got, want)
		}
		if got, want := hostSees(t, lukas, callID), []string{"Marek Dvořák: choices 0, documents 3"}; !slices.Equal(got, want) {
			t.Errorf("Lukas sees %v, want %v", got, want)
		}

		// Host rankings.
		rank := func(c *testkit.Client, centre string, apps ...string) appPayloadRanking {
			t.Helper()
			var out struct{ SubmitHostRanking appPayloadRanking }
			r := c.Do(`mutation($in: SubmitHostRankingInput!) { submitHostRanking(input: $in) { ranking { id } userErrors { field code message } } }`,
				map[string]any{"in": map[string]any{"callId": callID, "hostCentreId": centre, "applicationIds": apps}})
			out.SubmitHostRanking.code = r.Code()
			if len(r.Errors) == 0 {
				if err := jsonUnmarshal(r.Data, &out); err != nil {
					t.Fatal(err)
				}
			}
			return out.SubmitHostRanking
		}
		if p := rank(claire, d.centreLyon, ioana, marek); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("ranking during review: %+v", p)
		}
		pmust(t, staff, rankingM, map[string]any{"id": callID})
		if p := rank(claire, d.centreLyon, ioana, ioana); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("tie: %+v", p)
		}
		if p := rank(claire, d.centreLyon, aoifeApp); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("ranking an ineligible applicant: %+v", p)
		}
		if p := rank(lukas, d.centreLyon, marek); p.code != "FORBIDDEN" {
			t.Errorf("another centre's coordinator: %+v", p)
		}
		if p := rank(trainee, d.centreLyon, marek); p.code != "FORBIDDEN" {
			t.Errorf("trainee ranking: %+v", p)
		}
		if p := rank(claire, d.centreLyon, ioana, marek); len(p.UserErrors) > 0 || len(p.Ranking) != 2 || p.Ranking[0].ID != ioana {
			t.Errorf("Claire's ranking: %+v", p)
		}
		rank(lukas, d.centreMusterstadt, marek)
		hostRanking := func(c *testkit.Client, centre string) []string {
			var out struct {
				Node struct{ HostRanking []struct{ ID string } }
			}
			c.MustDo(`query($id: ID!, $h: ID!) { node(id: $id) { ... on Call { hostRanking(hostCentreId: $h) { id } } } }`, map[string]any{"id": callID, "h": centre}, &out)
			return names(out.Node.HostRanking, func(x struct{ ID string }) string { return x.ID })
		}
		if got := hostRanking(claire, d.centreLyon); !slices.Equal(got, []string{ioana, marek}) {
			t.Errorf("Claire reads Lyon's ranking: %v", got)
		}
		for who, c := range map[string]*testkit.Client{"Lukas": lukas, "Marek": trainee, "anonymous": a.anon} {
			if got := hostRanking(c, d.centreLyon); len(got) != 0 {
				t.Errorf("%s reads Lyon's ranking: %v", who, got)
			}
		}
		if got := hostRanking(staff, d.centreLyon); !slices.Equal(got, []string{ioana, marek}) {
			t.Errorf("staff read Lyon's ranking: %v", got)
		}
		// After the ranking deadline (26 February, 17:00 Brussels) nothing changes.
		e.Clock.Set(time.Date(2027, 2, 26, 16, 0, 0, 0, time.UTC))
		claire = e.SignIn("claire.martin@hopital.example.fr")
		if p := rank(claire, d.centreLyon, marek, ioana); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("ranking after the deadline: %+v", p)
		}

		// The staff export: one row per application, stable columns.
		staff = e.SignIn("office@coalition.test")
		var exp struct {
			Node struct{ ApplicationsCsv string }
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { applicationsCsv } } }`, map[string]any{"id": callID}, &exp)
		rows, err := csv.NewReader(strings.NewReader(exp.Node.ApplicationsCsv)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 4 || rows[0][0] != "application_id" || rows[0][len(rows[0])-1] != "score" {
			t.Fatalf("export: %q", rows)
		}
		byID := map[string][]string{}
		for _, r := range rows[1:] {
			byID[r[0]] = r
		}
		col := func(name string) int { return slices.Index(rows[0], name) }
		if r := byID[marek]; r[col("status")] != "ELIGIBLE" || r[col("trainee_email")] != "marek.dvorak@example.cz" || r[col("choice_1")] != "CAR-T Unit, Hôpital Saint-Exemple" ||
			r[col("referee_letters_received")] != "1" || r[col("score")] != "4.400" || r[col("home_country")] != "CZ" {
			t.Errorf("Marek's row: %q", r)
		}
		if r := byID[aoifeApp]; r[col("status")] != "INELIGIBLE" || r[col("status_reason")] != "Placements need two years of haematology training." {
			t.Errorf("Aoife's row: %q", r)
		}
		for who, c := range map[string]*testkit.Client{"trainee": trainee, "host": claire, "anonymous": a.anon} {
			if r := c.Do(`query($id: ID!) { node(id: $id) { ... on Call { applicationsCsv } } }`, map[string]any{"id": callID}); r.Code() != "FORBIDDEN" && r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s exports: %s", who, r.Body)
			}
		}

		// What each party received.
		e.DrainOutbox()
		got := map[string][]string{}
		for _, m := range e.SMTP.Messages()[seen:] {
			got[m.To[0]] = append(got[m.To[0]], m.Subject)
		}
		want := map[string][]string{
			"claire.martin@hopital.example.fr":             {"Slot approved: CAR-T Unit, Hôpital Saint-Exemple, 2027-03-01 to 2027-03-12"},
			"lukas.becker@klinikum-musterstadt.example.de": {"Slot approved: Zentrum für Zelltherapie, Universitätsklinikum Musterstadt, 2027-04-05 to 2027-04-09"},
			"eva.horakova@fnbrno.example.cz":               {"Marek Dvořák asks you for a reference: Observership pilot, Q1 2027"},
			"radu.ionescu@fundeni.example.ro":              {"Ioana Popescu asks you for a reference: Observership pilot, Q1 2027"},
			"sean.kelly@stexample.example.ie":              {"Aoife Byrne asks you for a reference: Observership pilot, Q1 2027"},
			"marek.dvorak@example.cz": {"Referee of Marek's letter has arrived: Observership pilot, Q1 2027",
				"Application submitted: Observership pilot, Q1 2027", "Your application is eligible: Observership pilot, Q1 2027"},
			"ioana.popescu@example.ro": {"Referee of Ioana's letter has arrived: Observership pilot, Q1 2027",
				"Application submitted: Observership pilot, Q1 2027", "Your application is eligible: Observership pilot, Q1 2027"},
			"aoife.byrne@example.ie": {"Referee of Aoife's letter has arrived: Observership pilot, Q1 2027",
				"Application submitted: Observership pilot, Q1 2027", "Your application is not eligible: Observership pilot, Q1 2027"},
		}
		for to, subjects := range want {
			// Emails queued together may be delivered in any order.
			slices.Sort(subjects)
			slices.Sort(got[to])
			if !slices.Equal(got[to], subjects) {
				t.Errorf("%s received\n%q\nwant\n%q", to, got[to], subjects)
			}
		}
		for to := range got {
			if _, ok := want[to]; !ok {
				t.Errorf("unexpected emails to %s: %q", to, got[to])
			}
		}
	})
}

type appPayloadRanking struct {
	Ranking    []struct{ ID string }
	UserErrors []userErr
	code       string
}

// hostSees lists "trainee: choices N, documents M" for the applications of a call a
// coordinator sees.
func hostSees(t *testing.T, c *testkit.Client, callID string) []string {
	t.Helper()
	var out struct {
		Node struct {
			Applications struct {
				Edges []struct {
					Node struct {
						Trainee     struct{ Name string }
						HostChoices []struct{ Name string }
						Documents   []struct{ Kind string }
					}
				}
			}
		}
	}
	c.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { applications(first: 20) { edges { node {
		trainee { name } hostChoices { name } documents { kind } } } } } } }`, map[string]any{"id": callID}, &out)
	var got []string
	for _, e := range out.Node.Applications.Edges {
		for _, d := range e.Node.Documents {
			if d.Kind == "REFEREE_LETTER" {
				t.Errorf("a host sees a referee letter of %s", e.Node.Trainee.Name)
			}
		}
		got = append(got, e.Node.Trainee.Name+": choices "+itoa(len(e.Node.HostChoices))+", documents "+itoa(len(e.Node.Documents)))
	}
	slices.Sort(got)
	return got
}

func itoa(n int) string { return strconv.Itoa(n) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

var refereeLinkRE = regexp.MustCompile(`https?://[^\s"<>]+/referee\?token=[A-Za-z0-9_\-]+`)
