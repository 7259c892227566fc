package graph_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	runFields = `id dryRun algorithm version seed inputHash trainees slots places matched blockingPairs publishedAt
		stats { matchRate rankReceived { rank count } }
		assignments { slot { id } applications { id } } unmatched { id } overrides { applicationId slotId kind reason }`
	startRunM   = `mutation($in: StartMatchRunInput!) { startMatchRun(input: $in) { matchRun { ` + runFields + ` } userErrors { field code message } } }`
	publishRunM = `mutation($in: MatchRunIdInput!) { publishMatchRun(input: $in) { matchRun { id publishedAt } userErrors { field code message } } }`
	overrideM   = `mutation($in: SetMatchOverrideInput!) { setMatchOverride(input: $in) { matchOverride { id kind reason } userErrors { field code message } } }`
	unpinM      = `mutation($in: MatchOverrideIdInput!) { removeMatchOverride(input: $in) { matchOverride { id } userErrors { field code message } } }`
	outcomeQ    = `query($id: ID!) { node(id: $id) { ... on Application { outcome {
		placement { id status startDate endDate offerDeadline hostCentre { name } slot { id } }
		explanation { slot { id } code rankedHigher message } } } } }`
)

type runOut struct {
	ID, Algorithm, Version, InputHash                     string
	DryRun                                                bool
	Seed, Trainees, Slots, Places, Matched, BlockingPairs int
	PublishedAt                                           *string
	Stats                                                 struct {
		MatchRate    float64
		RankReceived []struct{ Rank, Count int }
	}
	Assignments []struct {
		Slot         struct{ ID string }
		Applications []struct{ ID string }
	}
	Unmatched []struct{ ID string }
	Overrides []struct{ ApplicationID, SlotID, Kind, Reason string }
}

// summary renders a run as "slot: apps" lines and the unmatched, with names for ids.
func (r runOut) summary(name map[string]string) []string {
	var out []string
	for _, a := range r.Assignments {
		var apps []string
		for _, x := range a.Applications {
			apps = append(apps, name[x.ID])
		}
		out = append(out, name[a.Slot.ID]+": "+strings.Join(apps, ", "))
	}
	var un []string
	for _, x := range r.Unmatched {
		un = append(un, name[x.ID])
	}
	slices.Sort(out)
	return append(out, "unmatched: "+strings.Join(un, ", "))
}

type rankedCall struct {
	d                          directory
	call, lyonSlot, musterSlot string
	marek, ioana, aoife        string
	aoifeC                     *testkit.Client
	name                       map[string]string
}

// newRankedCall is a call in RANKING (clock: Friday 2027-02-26, 17:30 in Brussels): a slot at
// Lyon (2 weeks from 12 April, 1 place) and one at Musterstadt (1 week from 5 April, 1
// place); Marek chose Lyon then Musterstadt, Ioana Lyon, Aoife Musterstadt; Lyon ranks
// Ioana then Marek, Musterstadt Aoife then Marek. The match: Ioana at Lyon, Aoife at
// Musterstadt, Marek unmatched (both slots full with applicants ranked higher).
func newRankedCall(t *testing.T, e *testkit.Env) rankedCall {
	t.Helper()
	d := newDirectory(t, e)
	a, staff := d.a, d.a.staff
	_, aoife := e.NewUser("aoife.byrne@example.ie", "Aoife Byrne", viewer.RoleTrainee)
	fundeni := mustMutate(t, staff, createOrgM, map[string]any{"name": "Institutul Clinic Fundeni (fictional)", "kind": "HOSPITAL", "country": "RO", "city": "Bucharest"}).Organisation.ID
	dublin := mustMutate(t, staff, createOrgM, map[string]any{"name": "St Example's Hospital, Dublin (fictional)", "kind": "HOSPITAL", "country": "IE", "city": "Dublin"}).Organisation.ID
	r := rankedCall{d: d, aoifeC: aoife}
	r.call = pmust(t, staff, createCallM, with(pilotCall(), map[string]any{"requiredDocuments": []string{}, "refereeLetters": 0})).Call.ID
	r.lyonSlot = pmust(t, a.host, proposeM, map[string]any{"callId": r.call, "hostCentreId": d.centreLyon, "startDate": "2027-04-12", "weeks": 2, "capacity": 1}).Slot.ID
	r.musterSlot = pmust(t, d.coordB, proposeM, map[string]any{"callId": r.call, "hostCentreId": d.centreMusterstadt, "startDate": "2027-04-05", "weeks": 1, "capacity": 1}).Slot.ID
	pmust(t, staff, approveM, map[string]any{"id": r.lyonSlot})
	pmust(t, staff, approveM, map[string]any{"id": r.musterSlot})
	pmust(t, staff, openCallM, map[string]any{"id": r.call})
	apply := func(c *testkit.Client, org string, hosts ...string) string {
		id := amust(t, c, saveAppM, map[string]any{
			"callId": r.call, "homeOrganisationId": org, "role": "Haematology consultant", "motivation": motivation,
			"languages": []string{"en"}, "availability": []map[string]any{{"from": "2027-03-01", "to": "2027-06-30"}},
			"preferredWeeks": 1, "hostCentreIds": hosts,
		}).Application.ID
		amust(t, c, submitAppM, map[string]any{"id": id})
		return id
	}
	r.marek = apply(a.trainee, d.brno, d.centreLyon, d.centreMusterstadt)
	r.ioana = apply(a.other, fundeni, d.centreLyon)
	r.aoife = apply(aoife, dublin, d.centreMusterstadt)
	e.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
	staff = e.SignIn("office@coalition.test")
	pmust(t, staff, closeCallM, map[string]any{"id": r.call})
	for _, id := range []string{r.marek, r.ioana, r.aoife} {
		amust(t, staff, decideM, map[string]any{"id": id, "eligible": true})
	}
	pmust(t, staff, reviewM, map[string]any{"id": r.call})
	pmust(t, staff, rankingM, map[string]any{"id": r.call})
	rank := func(c *testkit.Client, centre string, apps ...string) {
		t.Helper()
		var out struct{ SubmitHostRanking appPayloadRanking }
		c.MustDo(`mutation($in: SubmitHostRankingInput!) { submitHostRanking(input: $in) { ranking { id } userErrors { field code message } } }`,
			map[string]any{"in": map[string]any{"callId": r.call, "hostCentreId": centre, "applicationIds": apps}}, &out)
		if len(out.SubmitHostRanking.UserErrors) > 0 {
			t.Fatalf("ranking: %+v", out.SubmitHostRanking.UserErrors)
		}
	}
	rank(e.SignIn("claire.martin@hopital.example.fr"), d.centreLyon, r.ioana, r.marek)
	rank(e.SignIn("lukas.becker@klinikum-musterstadt.example.de"), d.centreMusterstadt, r.aoife, r.marek)
	e.Clock.Set(time.Date(2027, 2, 26, 16, 30, 0, 0, time.UTC)) // Friday 17:30 in Brussels
	r.name = map[string]string{r.marek: "Marek", r.ioana: "Ioana", r.aoife: "Aoife", r.lyonSlot: "Lyon", r.musterSlot: "Musterstadt"}
	return r
}

func TestMatchRunsOverridesAndPublication(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		marekC, ioanaC := e.SignIn("marek.dvorak@example.cz"), e.SignIn("ioana.popescu@example.ro")
		claire, lukas := e.SignIn("claire.martin@hopital.example.fr"), e.SignIn("lukas.becker@klinikum-musterstadt.example.de")
		run := func(dry bool) runOut {
			t.Helper()
			var out struct {
				StartMatchRun struct {
					MatchRun   *runOut
					UserErrors []userErr
				}
			}
			staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": dry}}, &out)
			if out.StartMatchRun.MatchRun == nil {
				t.Fatalf("run: %+v", out.StartMatchRun.UserErrors)
			}
			return *out.StartMatchRun.MatchRun
		}
		publish := func(id string) appPayload {
			return amutate(t, staff, publishRunM, map[string]any{"id": id})
		}
		// Only staff run the match.
		for who, want := range map[*testkit.Client]string{e.Anonymous(): "UNAUTHENTICATED", marekC: "FORBIDDEN", claire: "FORBIDDEN"} {
			if res := who.Do(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": true}}); res.Code() != want {
				t.Errorf("start a run: %s, want %s", res.Body, want)
			}
		}
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		dry := run(true)
		want := []string{"Lyon: Ioana", "Musterstadt: Aoife", "unmatched: Marek"}
		if got := dry.summary(r.name); !slices.Equal(got, want) || !dry.DryRun || dry.BlockingPairs != 0 || dry.Trainees != 3 || dry.Slots != 2 ||
			dry.Places != 2 || dry.Matched != 2 || len(dry.InputHash) != 64 || dry.Version == "" || !strings.Contains(dry.Algorithm, "deferred acceptance") {
			t.Errorf("dry run: %v %+v", got, dry)
		}
		if dry.Stats.MatchRate < 0.66 || dry.Stats.MatchRate > 0.67 || len(dry.Stats.RankReceived) != 1 || dry.Stats.RankReceived[0].Count != 2 {
			t.Errorf("stats: %+v", dry.Stats)
		}
		var expl struct {
			Node struct {
				MatchRuns []struct {
					Explanation []struct {
						Slot         struct{ ID string }
						Code         string
						RankedHigher int
						Message      string
					}
				}
			}
		}
		staff.MustDo(`query($id: ID!, $app: ID!) { node(id: $id) { ... on Call { matchRuns { explanation(applicationId: $app) { slot { id } code rankedHigher message } } } } }`,
			map[string]any{"id": r.call, "app": r.marek}, &expl)
		if x := expl.Node.MatchRuns[0].Explanation; len(x) != 2 || x[0].Slot.ID != r.lyonSlot || x[0].Code != "FULL" || x[0].RankedHigher != 1 ||
			x[1].Slot.ID != r.musterSlot || x[1].Code != "FULL" || !strings.Contains(x[0].Message, "ranked higher") {
			t.Errorf("Marek's explanation: %+v", x)
		}
		// A dry run changes nothing: no placements, no emails, the call still ranking.
		if p := publish(dry.ID); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("publish a dry run: %+v", p.UserErrors)
		}
		var st struct {
			Node struct {
				Status     string
				Placements struct{ TotalCount int }
			}
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { status placements(first: 10) { totalCount } } } }`, map[string]any{"id": r.call}, &st)
		if st.Node.Status != "RANKING" || st.Node.Placements.TotalCount != 0 {
			t.Errorf("after a dry run: %+v", st.Node)
		}
		e.DrainOutbox()
		if n := len(e.SMTP.Messages()) - seen; n != 0 {
			t.Errorf("a dry run sent %d emails", n)
		}

		// A pin moves Marek into Musterstadt, and Aoife out.
		var pin struct {
			SetMatchOverride struct {
				MatchOverride *struct{ ID string }
				UserErrors    []userErr
			}
		}
		staff.MustDo(overrideM, map[string]any{"in": map[string]any{"callId": r.call, "applicationId": r.marek, "slotId": r.musterSlot, "kind": "PIN", "reason": "Paediatric focus agreed with both centres."}}, &pin)
		if pin.SetMatchOverride.MatchOverride == nil {
			t.Fatalf("pin: %+v", pin.SetMatchOverride.UserErrors)
		}
		for _, bad := range []map[string]any{
			{"callId": r.call, "applicationId": r.marek, "slotId": r.musterSlot, "kind": "EXCLUDE", "reason": "Twice"},
			{"callId": r.call, "applicationId": r.marek, "slotId": r.lyonSlot, "kind": "PIN", "reason": "A second pin"},
			{"callId": r.call, "applicationId": r.ioana, "slotId": r.lyonSlot, "kind": "EXCLUDE", "reason": " "},
		} {
			var out struct {
				SetMatchOverride struct{ UserErrors []userErr }
			}
			staff.MustDo(overrideM, map[string]any{"in": bad}, &out)
			if len(out.SetMatchOverride.UserErrors) != 1 {
				t.Errorf("override %v: %+v", bad, out.SetMatchOverride.UserErrors)
			}
		}
		pinned := run(false)
		if got, want := pinned.summary(r.name), []string{"Lyon: Ioana", "Musterstadt: Marek", "unmatched: Aoife"}; !slices.Equal(got, want) || pinned.InputHash == dry.InputHash {
			t.Errorf("pinned run: %v", got)
		}
		if o := pinned.Overrides; len(o) != 1 || o[0].Kind != "PIN" || o[0].ApplicationID != r.marek || o[0].SlotID != r.musterSlot ||
			o[0].Reason != "Paediatric focus agreed with both centres." || len(dry.Overrides) != 0 {
			t.Errorf("overrides shown in the runs: pinned %+v, dry %+v", o, dry.Overrides)
		}
		var cmp struct {
			CompareMatchRuns []struct {
				Application struct{ ID string }
				FromSlot    *struct{ ID string }
				ToSlot      *struct{ ID string }
			}
		}
		staff.MustDo(`query($a: ID!, $b: ID!) { compareMatchRuns(a: $a, b: $b) { application { id } fromSlot { id } toSlot { id } } }`,
			map[string]any{"a": dry.ID, "b": pinned.ID}, &cmp)
		var moves []string
		for _, m := range cmp.CompareMatchRuns {
			from, to := "-", "-"
			if m.FromSlot != nil {
				from = r.name[m.FromSlot.ID]
			}
			if m.ToSlot != nil {
				to = r.name[m.ToSlot.ID]
			}
			moves = append(moves, r.name[m.Application.ID]+": "+from+" → "+to)
		}
		slices.Sort(moves)
		if want := []string{"Aoife: Musterstadt → -", "Marek: - → Musterstadt"}; !slices.Equal(moves, want) {
			t.Errorf("moves: %v, want %v", moves, want)
		}
		if res := marekC.Do(`query($a: ID!, $b: ID!) { compareMatchRuns(a: $a, b: $b) { application { id } } }`, map[string]any{"a": dry.ID, "b": pinned.ID}); res.Code() != "FORBIDDEN" {
			t.Errorf("trainee compares runs: %s", res.Body)
		}
		// Removing the pin: the pinned run no longer matches the preferences.
		staff.MustDo(unpinM, map[string]any{"in": map[string]any{"id": pin.SetMatchOverride.MatchOverride.ID}}, nil)
		if p := publish(pinned.ID); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("publish a stale run: %+v", p.UserErrors)
		}

		// The real run, published: offers with a deadline of 48 hours not counting the weekend.
		real := run(false)
		if real.InputHash != dry.InputHash {
			t.Errorf("the same preferences hash differently: %s vs %s", real.InputHash, dry.InputHash)
		}
		seen = len(e.SMTP.Messages())
		if p := publish(real.ID); len(p.UserErrors) > 0 {
			t.Fatalf("publish: %+v", p.UserErrors)
		}
		if p := publish(real.ID); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("publish twice: %+v", p.UserErrors)
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { status placements(first: 10) { totalCount } } } }`, map[string]any{"id": r.call}, &st)
		if st.Node.Status != "MATCHED" || st.Node.Placements.TotalCount != 2 {
			t.Errorf("after publishing: %+v", st.Node)
		}
		type outcomeOut struct {
			Node struct {
				Outcome *struct {
					Placement *struct {
						ID, Status, StartDate, EndDate, OfferDeadline string
						HostCentre                                    struct{ Name string }
					}
					Explanation []struct{ Code string }
				}
			}
		}
		var io outcomeOut
		ioanaC.MustDo(outcomeQ, map[string]any{"id": r.ioana}, &io)
		if p := io.Node.Outcome; p == nil || p.Placement == nil || p.Placement.Status != "OFFERED" || p.Placement.StartDate != "2027-04-12" ||
			p.Placement.EndDate != "2027-04-23" || p.Placement.OfferDeadline != "2027-03-02T16:30:00Z" {
			t.Errorf("Ioana's outcome: %+v", io.Node.Outcome)
		}
		var mo outcomeOut
		marekC.MustDo(outcomeQ, map[string]any{"id": r.marek}, &mo)
		if o := mo.Node.Outcome; o == nil || o.Placement != nil || len(o.Explanation) != 2 || o.Explanation[0].Code != "FULL" {
			t.Errorf("Marek's outcome: %+v", mo.Node.Outcome)
		}
		// Nobody else reads an outcome: other trainees cannot see the application, hosts get null.
		if res := ioanaC.Do(outcomeQ, map[string]any{"id": r.marek}); res.Code() != "NOT_FOUND" {
			t.Errorf("Ioana reads Marek's outcome: %s", res.Body)
		}
		var ho outcomeOut
		claire.MustDo(outcomeQ, map[string]any{"id": r.ioana}, &ho)
		if ho.Node.Outcome != nil {
			t.Errorf("a host reads an outcome: %+v", ho.Node.Outcome)
		}
		// Hosts see their placements only; staff see all; trainees their own.
		placements := func(c *testkit.Client) []string {
			var out struct {
				Node struct {
					Placements struct {
						Edges []struct {
							Node struct {
								Trainee    struct{ Name string }
								HostCentre struct{ Name string }
							}
						}
					}
				}
			}
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { placements(first: 10) { edges { node { trainee { name } hostCentre { name } } } } } } }`, map[string]any{"id": r.call}, &out)
			var got []string
			for _, e := range out.Node.Placements.Edges {
				got = append(got, e.Node.Trainee.Name+" @ "+strings.Fields(e.Node.HostCentre.Name)[0])
			}
			slices.Sort(got)
			return got
		}
		for who, c := range map[string]struct {
			cl   *testkit.Client
			want []string
		}{
			"Claire": {claire, []string{"Ioana Popescu @ CAR-T"}}, "Lukas": {lukas, []string{"Aoife Byrne @ Zentrum"}},
			"Ioana": {ioanaC, []string{"Ioana Popescu @ CAR-T"}}, "Marek": {marekC, nil},
			"staff": {staff, []string{"Aoife Byrne @ Zentrum", "Ioana Popescu @ CAR-T"}},
		} {
			if got := placements(c.cl); !slices.Equal(got, c.want) {
				t.Errorf("%s sees placements %v, want %v", who, got, c.want)
			}
		}
		if res := marekC.Do(`query($id: ID!) { node(id: $id) { ... on Call { matchRuns { id } } } }`, map[string]any{"id": r.call}); res.Code() != "FORBIDDEN" {
			t.Errorf("trainee reads the runs: %s", res.Body)
		}
		// The emails, all queued in the publishing transaction.
		e.DrainOutbox()
		got := map[string][]string{}
		for _, m := range e.SMTP.Messages()[seen:] {
			got[m.To[0]] = append(got[m.To[0]], m.Subject)
		}
		wantMail := map[string][]string{
			"ioana.popescu@example.ro":                     {"Your observership offer: CAR-T Unit, Hôpital Saint-Exemple, Monday 12 April 2027"},
			"aoife.byrne@example.ie":                       {"Your observership offer: Zentrum für Zelltherapie, Universitätsklinikum Musterstadt, Monday 5 April 2027"},
			"marek.dvorak@example.cz":                      {"No placement this time: Observership pilot, Q1 2027"},
			"claire.martin@hopital.example.fr":             {"Observers coming to CAR-T Unit, Hôpital Saint-Exemple from Monday 12 April 2027"},
			"lukas.becker@klinikum-musterstadt.example.de": {"Observers coming to Zentrum für Zelltherapie, Universitätsklinikum Musterstadt from Monday 5 April 2027"},
		}
		for to, subjects := range wantMail {
			if !slices.Equal(got[to], subjects) {
				t.Errorf("%s received %q, want %q", to, got[to], subjects)
			}
		}
		if len(got) != len(wantMail) {
			t.Errorf("emails went to %v", keys(got))
		}
		for _, m := range e.SMTP.Messages()[seen:] {
			switch m.To[0] {
			case "ioana.popescu@example.ro":
				if !strings.Contains(m.TextBody(), "by Tuesday 2 March 2027, 17:30 (Europe/Brussels)") {
					t.Errorf("offer:\n%s", m.TextBody())
				}
			case "marek.dvorak@example.cz":
				if !strings.Contains(m.TextBody(), "went to applicants the centre ranked higher (1)") {
					t.Errorf("unmatched:\n%s", m.TextBody())
				}
			case "claire.martin@hopital.example.fr":
				if !strings.Contains(m.TextBody(), "Ioana Popescu (Institutul Clinic Fundeni (fictional))") {
					t.Errorf("host:\n%s", m.TextBody())
				}
			}
		}
	})
}
