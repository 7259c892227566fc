package graph_test

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"

	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/app"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const (
	plcFields     = `id status statusReason startDate endDate offerDeadline sequence proposedStart proposedEnd report evaluation`
	acceptPlcM    = `mutation($in: PlacementIdInput!) { acceptPlacement(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	declinePlcM   = `mutation($in: PlacementReasonInput!) { declinePlacement(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	confirmPlcM   = `mutation($in: PlacementIdInput!) { confirmPlacement(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	cancelPlcM    = `mutation($in: PlacementReasonInput!) { cancelPlacement(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	proposeDatesM = `mutation($in: ProposePlacementDatesInput!) { proposePlacementDates(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	answerDatesM  = `mutation($in: AnswerDateChangeInput!) { answerDateChange(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	reportM       = `mutation($in: PlacementTextInput!) { submitPlacementReport(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
	evaluationM   = `mutation($in: PlacementTextInput!) { submitPlacementEvaluation(input: $in) { placement { ` + plcFields + ` } userErrors { field code message } } }`
)

type plcOut struct {
	ID, Status, StatusReason, StartDate, EndDate, OfferDeadline string
	Sequence                                                    int
	ProposedStart, ProposedEnd, Report, Evaluation              *string
}

type plcPayload struct {
	Placement  *plcOut
	UserErrors []userErr
}

func plc(t *testing.T, c *testkit.Client, query string, in map[string]any) (plcPayload, string) {
	t.Helper()
	r := c.Do(query, map[string]any{"in": in})
	if len(r.Errors) > 0 {
		return plcPayload{}, r.Code()
	}
	var out map[string]plcPayload
	if err := jsonUnmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	for _, p := range out {
		return p, ""
	}
	return plcPayload{}, ""
}

func plcMust(t *testing.T, c *testkit.Client, query string, in map[string]any) plcOut {
	t.Helper()
	p, code := plc(t, c, query, in)
	if code != "" || len(p.UserErrors) > 0 || p.Placement == nil {
		t.Fatalf("%.40s: %s %+v", query, code, p.UserErrors)
	}
	return *p.Placement
}

// placementOf returns the id of an application's newest placement.
func placementOf(t *testing.T, e *testkit.Env, app string) string {
	t.Helper()
	p, err := e.DB.Client.Placement.Query().Where(placement.ApplicationID(pulid.ID(app))).Order(placement.ByCreatedAt()).All(e.System())
	if err != nil || len(p) == 0 {
		t.Fatalf("placement of %s: %v", app, err)
	}
	return string(p[len(p)-1].ID)
}

func maintain(t *testing.T, e *testkit.Env) {
	t.Helper()
	if err := e.App.Jobs.Trigger(app.JobPlacements); err != nil {
		t.Fatal(err)
	}
	if err := e.App.Jobs.RunDue(e.System()); err != nil {
		t.Fatal(err)
	}
}

// mailSince drains the outbox and returns "to: subject" of the messages since *seen.
func mailSince(e *testkit.Env, seen *int) ([]string, []testkit.ReceivedMessage) {
	e.DrainOutbox()
	msgs := e.SMTP.Messages()[*seen:]
	*seen = len(e.SMTP.Messages())
	out := subjects(msgs)
	slices.Sort(out)
	return out, msgs
}

func calendarOf(t *testing.T, m testkit.ReceivedMessage) (string, *ics.VEvent) {
	t.Helper()
	parts, err := m.Parts()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		if p.MediaType == "text/calendar" && p.Disposition == "attachment" {
			cal, err := ics.ParseCalendar(bytes.NewReader(p.Content))
			if err != nil {
				t.Fatal(err)
			}
			for _, cp := range cal.CalendarProperties {
				if cp.IANAToken == "METHOD" {
					return cp.Value, cal.Events()[0]
				}
			}
		}
	}
	return "", nil
}

func TestPlacementLifecycleWaitlistAndCalendar(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var run struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
		amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
		marekC, ioanaC, aoifeC := e.SignIn("marek.dvorak@example.cz"), e.SignIn("ioana.popescu@example.ro"), e.SignIn("aoife.byrne@example.ie")
		claire, lukas := e.SignIn("claire.martin@hopital.example.fr"), e.SignIn("lukas.becker@klinikum-musterstadt.example.de")
		ioana, aoife := placementOf(t, e, r.ioana), placementOf(t, e, r.aoife)
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())

		// Accepting: the trainee only.
		if p, code := plc(t, claire, acceptPlcM, map[string]any{"id": ioana}); code != "FORBIDDEN" {
			t.Errorf("host accepting: %s %+v", code, p)
		}
		if p, _ := plc(t, marekC, acceptPlcM, map[string]any{"id": ioana}); !slices.Equal(codes(p.UserErrors), []string{"NOT_FOUND"}) {
			t.Errorf("another trainee accepting: %+v", p)
		}
		if got := plcMust(t, ioanaC, acceptPlcM, map[string]any{"id": ioana}); got.Status != "ACCEPTED" {
			t.Errorf("accepted: %+v", got)
		}
		if got, _ := mailSince(e, &seen); !slices.Equal(got, []string{"claire.martin@hopital.example.fr: Ioana Popescu accepted the placement at CAR-T Unit, Hôpital Saint-Exemple: please confirm"}) {
			t.Errorf("after accepting: %q", got)
		}
		// Confirming: the host's coordinators (or staff) only; both get the calendar entry.
		if _, code := plc(t, ioanaC, confirmPlcM, map[string]any{"id": ioana}); code != "FORBIDDEN" {
			t.Errorf("trainee confirming: %s", code)
		}
		if p, _ := plc(t, lukas, confirmPlcM, map[string]any{"id": ioana}); !slices.Equal(codes(p.UserErrors), []string{"NOT_FOUND"}) {
			t.Errorf("another host confirming: %+v", p)
		}
		plcMust(t, claire, confirmPlcM, map[string]any{"id": ioana})
		got, msgs := mailSince(e, &seen)
		if want := []string{"claire.martin@hopital.example.fr: Placement confirmed: Ioana Popescu at CAR-T Unit, Hôpital Saint-Exemple, Monday 12 April 2027 to Friday 23 April 2027",
			"ioana.popescu@example.ro: Placement confirmed: Ioana Popescu at CAR-T Unit, Hôpital Saint-Exemple, Monday 12 April 2027 to Friday 23 April 2027"}; !slices.Equal(got, want) {
			t.Errorf("confirmation: %q", got)
		}
		uid := ioana + "@127.0.0.1"
		for _, m := range msgs {
			method, ev := calendarOf(t, m)
			start := ev.GetProperty(ics.ComponentPropertyDtStart)
			if method != "REQUEST" || ev.Id() != uid || ev.GetProperty(ics.ComponentPropertySequence).Value != "0" || start.Value != "20270412" ||
				start.ICalParameters["VALUE"][0] != "DATE" || ev.GetProperty(ics.ComponentPropertyDtEnd).Value != "20270424" || len(ev.Attendees()) != 2 {
				t.Errorf("%s: calendar %s %+v", m.To[0], method, ev.Serialize(nil))
			}
		}
		// The host proposes other dates; the trainee accepts; the calendar entry moves.
		if p, _ := plc(t, claire, proposeDatesM, map[string]any{"id": ioana, "startDate": "2027-04-14"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("not a Monday: %+v", p)
		}
		if p, _ := plc(t, claire, proposeDatesM, map[string]any{"id": ioana, "startDate": "2027-06-28"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("outside the window: %+v", p)
		}
		plcMust(t, claire, proposeDatesM, map[string]any{"id": ioana, "startDate": "2027-04-19"})
		if got, _ := mailSince(e, &seen); len(got) != 1 || !strings.Contains(got[0], "proposes other dates") {
			t.Errorf("proposal: %q", got)
		}
		if _, code := plc(t, claire, answerDatesM, map[string]any{"id": ioana, "accept": true}); code != "FORBIDDEN" {
			t.Errorf("host answering: %s", code)
		}
		moved := plcMust(t, ioanaC, answerDatesM, map[string]any{"id": ioana, "accept": true})
		if moved.StartDate != "2027-04-19" || moved.EndDate != "2027-04-30" || moved.Sequence != 1 || moved.ProposedStart != nil {
			t.Errorf("moved: %+v", moved)
		}
		_, msgs = mailSince(e, &seen)
		for _, m := range msgs {
			method, ev := calendarOf(t, m)
			if method != "REQUEST" || ev.Id() != uid || ev.GetProperty(ics.ComponentPropertySequence).Value != "1" || ev.GetProperty(ics.ComponentPropertyDtStart).Value != "20270419" {
				t.Errorf("%s: moved calendar %s", m.To[0], method)
			}
		}
		if len(msgs) != 2 {
			t.Errorf("date change mails: %q", subjects(msgs))
		}

		// Aoife declines: the place goes to the waiting list (Marek: ranked next at Musterstadt, listed it, holds nothing).
		if p, _ := plc(t, aoifeC, declinePlcM, map[string]any{"id": aoife, "reason": " "}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("decline without a reason: %+v", p)
		}
		plcMust(t, aoifeC, declinePlcM, map[string]any{"id": aoife, "reason": "I cannot travel in April."})
		maintain(t, e)
		maintain(t, e) // idempotent: never two offers for one place
		got, _ = mailSince(e, &seen)
		if want := []string{"aoife.byrne@example.ie: You declined the placement at Zentrum für Zelltherapie, Universitätsklinikum Musterstadt",
			"marek.dvorak@example.cz: A place is free for you at Zentrum für Zelltherapie, Universitätsklinikum Musterstadt, Monday 5 April 2027"}; !slices.Equal(got, want) {
			t.Errorf("after the decline:\n%q\nwant\n%q", got, want)
		}
		offers, err := e.DB.Client.Placement.Query().Where(placement.SlotID(pulid.ID(r.musterSlot)), placement.StatusEQ(placement.StatusOFFERED)).All(e.System())
		if err != nil || len(offers) != 1 || string(offers[0].ApplicationID) != r.marek || !offers[0].FromWaitlist {
			t.Errorf("waitlist offers: %v %+v", err, offers)
		}
		// Marek lets the offer lapse: it expires, and nobody is left to offer it to.
		e.Clock.Set(offers[0].OfferDeadline.Add(time.Minute))
		maintain(t, e)
		got, _ = mailSince(e, &seen)
		if want := []string{"marek.dvorak@example.cz: Your offer at Zentrum für Zelltherapie, Universitätsklinikum Musterstadt has lapsed"}; !slices.Equal(got, want) {
			t.Errorf("expiry: %q", got)
		}
		marekC = e.SignIn("marek.dvorak@example.cz")
		if p, _ := plc(t, marekC, acceptPlcM, map[string]any{"id": string(offers[0].ID)}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("accepting a lapsed offer: %+v", p)
		}

		// Reminders 14 and 2 days before the start (19 April), once each.
		e.Clock.Set(time.Date(2027, 4, 5, 8, 0, 0, 0, time.UTC))
		maintain(t, e)
		maintain(t, e)
		got, _ = mailSince(e, &seen)
		if len(got) != 2 || !strings.Contains(got[0], "In 14 days: Ioana Popescu at CAR-T Unit") {
			t.Errorf("14-day reminders: %q", got)
		}
		e.Clock.Set(time.Date(2027, 4, 17, 8, 0, 0, 0, time.UTC))
		maintain(t, e)
		if got, _ = mailSince(e, &seen); len(got) != 2 || !strings.Contains(got[0], "In 2 days") {
			t.Errorf("2-day reminders: %q", got)
		}
		// Completed after its last day: report and evaluation, each visible to its author and staff.
		e.Clock.Set(time.Date(2027, 5, 1, 8, 0, 0, 0, time.UTC))
		maintain(t, e)
		got, _ = mailSince(e, &seen)
		if want := []string{"claire.martin@hopital.example.fr: Please evaluate Ioana Popescu's observership",
			"ioana.popescu@example.ro: How was your observership at CAR-T Unit, Hôpital Saint-Exemple?"}; !slices.Equal(got, want) {
			t.Errorf("completion: %q", got)
		}
		ioanaC, claire, staff = e.SignIn("ioana.popescu@example.ro"), e.SignIn("claire.martin@hopital.example.fr"), e.SignIn("office@coalition.test")
		if _, code := plc(t, claire, reportM, map[string]any{"id": ioana, "text": "Great"}); code != "FORBIDDEN" {
			t.Errorf("host writing the report: %s", code)
		}
		plcMust(t, ioanaC, reportM, map[string]any{"id": ioana, "text": "Saw apheresis, CRS grading and the cell lab."})
		plcMust(t, claire, evaluationM, map[string]any{"id": ioana, "text": "Engaged and well prepared."})
		read := func(c *testkit.Client) plcOut {
			var out struct{ Node plcOut }
			c.MustDo(`query($id: ID!) { node(id: $id) { ... on Placement { `+plcFields+` } } }`, map[string]any{"id": ioana}, &out)
			return out.Node
		}
		if p := read(ioanaC); p.Status != "COMPLETED" || p.Report == nil || p.Evaluation != nil {
			t.Errorf("trainee reads: %+v", p)
		}
		if p := read(claire); p.Report != nil || p.Evaluation == nil || *p.Evaluation != "Engaged and well prepared." {
			t.Errorf("host reads: %+v", p)
		}
		if p := read(staff); p.Report == nil || p.Evaluation == nil {
			t.Errorf("staff read: %+v", p)
		}

		// Staff exports.
		var exp struct {
			Node struct{ PlacementsCsv, PlacementsIcs string }
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { placementsCsv placementsIcs } } }`, map[string]any{"id": r.call}, &exp)
		rows, err := csv.NewReader(strings.NewReader(exp.Node.PlacementsCsv)).ReadAll()
		if err != nil || len(rows) != 4 || rows[0][0] != "placement_id" {
			t.Errorf("placements CSV: %v %q", err, rows)
		}
		feed, err := ics.ParseCalendar(strings.NewReader(exp.Node.PlacementsIcs))
		if err != nil || len(feed.Events()) != 1 || feed.Events()[0].Id() != uid || len(feed.Events()[0].Attendees()) != 0 {
			t.Errorf("placements feed: %v\n%s", err, exp.Node.PlacementsIcs)
		}
		for who, c := range map[string]*testkit.Client{"trainee": ioanaC, "host": claire} {
			if res := c.Do(`query($id: ID!) { node(id: $id) { ... on Call { placementsCsv } } }`, map[string]any{"id": r.call}); res.Code() != "FORBIDDEN" {
				t.Errorf("%s exports placements: %s", who, res.Body)
			}
		}
	})
}

func TestCancelledConfirmedPlacementCancelsTheCalendarEntry(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var run struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
		amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
		ioanaC, claire := e.SignIn("ioana.popescu@example.ro"), e.SignIn("claire.martin@hopital.example.fr")
		ioana := placementOf(t, e, r.ioana)
		plcMust(t, ioanaC, acceptPlcM, map[string]any{"id": ioana})
		plcMust(t, claire, confirmPlcM, map[string]any{"id": ioana})
		// Nobody withdraws a slot a trainee holds.
		if p := pmutate(t, claire, withdrawM, map[string]any{"id": r.lyonSlot, "reason": "Renovation"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("withdraw a held slot: %+v", p.UserErrors)
		}
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		if _, code := plc(t, ioanaC, cancelPlcM, map[string]any{"id": ioana, "reason": "x"}); code != "FORBIDDEN" {
			t.Errorf("trainee cancelling: %s", code)
		}
		got := plcMust(t, claire, cancelPlcM, map[string]any{"id": ioana, "reason": "The unit closes for renovation."})
		if got.Status != "CANCELLED" || got.Sequence != 1 {
			t.Errorf("cancelled: %+v", got)
		}
		_, msgs := mailSince(e, &seen)
		cancels := 0
		for _, m := range msgs {
			if method, ev := calendarOf(t, m); method == "CANCEL" && ev.Id() == ioana+"@127.0.0.1" &&
				ev.GetProperty(ics.ComponentPropertySequence).Value == "1" && ev.GetProperty(ics.ComponentPropertyStatus).Value == "CANCELLED" {
				cancels++
			}
		}
		if cancels != 2 {
			t.Errorf("calendar cancellations: %d in %q", cancels, subjects(msgs))
		}
		if p, _ := plc(t, claire, cancelPlcM, map[string]any{"id": ioana, "reason": "Again"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("cancel twice: %+v", p)
		}
	})
}

// TestLastPlaceUnderConcurrency: 50 trainees holding offers for the last place of a slot
// accept at the same moment; exactly one gets it, on SQLite and PostgreSQL.
func TestLastPlaceUnderConcurrency(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var run struct {
			StartMatchRun struct{ MatchRun struct{ ID string } }
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &run)
		amust(t, staff, publishRunM, map[string]any{"id": run.StartMatchRun.MatchRun.ID})
		// 50 more offers for Lyon's single place, as if from a waiting list gone wrong.
		sys := e.System()
		const n = 50
		clients := make([]*testkit.Client, n)
		ids := make([]string, n)
		for i := range n {
			u, c := e.NewUser(fmt.Sprintf("trainee%02d@example.pl", i), fmt.Sprintf("Trainee %02d", i), viewer.RoleTrainee)
			a, err := e.DB.Client.Application.Create().SetCallID(pulid.ID(r.call)).SetTraineeID(u.ID).SetStatus("ELIGIBLE").Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			sl, err := e.DB.Client.HostSlot.Get(sys, pulid.ID(r.lyonSlot))
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.DB.Client.Placement.Create().SetCallID(pulid.ID(r.call)).SetSlotID(sl.ID).SetHostCentreID(sl.HostCentreID).
				SetApplicationID(a.ID).SetTraineeID(u.ID).SetStartDate(sl.StartDate).SetEndDate(sl.EndDate).
				SetOfferDeadline(e.Clock.Now().Add(48 * time.Hour)).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			clients[i], ids[i] = c, string(p.ID)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]string, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res := clients[i].Do(acceptPlcM, map[string]any{"in": map[string]any{"id": ids[i]}})
				switch {
				case len(res.Errors) > 0:
					results[i] = "error " + res.Code()
				case strings.Contains(string(res.Data), `"status":"ACCEPTED"`):
					results[i] = "accepted"
				case strings.Contains(string(res.Data), "places have been taken"):
					results[i] = "full"
				default:
					results[i] = string(res.Data)
				}
			}()
		}
		close(start)
		wg.Wait()
		accepted, full := 0, 0
		for _, res := range results {
			switch res {
			case "accepted":
				accepted++
			case "full":
				full++
			default:
				t.Errorf("unexpected answer: %s", res)
			}
		}
		if accepted != 1 || full != n-1 {
			t.Errorf("accepted %d, full %d", accepted, full)
		}
		held, err := e.DB.Client.Placement.Query().Where(placement.SlotID(pulid.ID(r.lyonSlot)), placement.StatusIn(placement.StatusACCEPTED, placement.StatusCONFIRMED)).Count(sys)
		if err != nil || held != 1 {
			t.Errorf("places held in the slot: %d (%v)", held, err)
		}
	})
}
