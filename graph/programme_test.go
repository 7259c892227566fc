package graph_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

const (
	callFields = `id title status statusReason opensAt closesAt opensLocal closesLocal timeZone placementStart placementEnd
		placementWeeks eligibleCountries maxPreferences fundedPlaces requiredDocuments refereeLetters
		reviewCriteria { key name weight } offerResponseHours minLeadDays onePlacementPerTrainee noRepeatMonths
		rankingDeadline acceptingApplications descriptionHtml`
	createCallM = `mutation($in: CreateCallInput!) { createCall(input: $in) { call { ` + callFields + ` } userErrors { field code message } } }`
	updateCallM = `mutation($in: UpdateCallInput!) { updateCall(input: $in) { call { ` + callFields + ` } userErrors { field code message } } }`
	openCallM   = `mutation($in: CallIdInput!) { openCall(input: $in) { call { id status } userErrors { field code message } } }`
	closeCallM  = `mutation($in: CloseCallInput!) { closeCall(input: $in) { call { id status statusReason } userErrors { field code message } } }`
	reviewM     = `mutation($in: CallIdInput!) { startReview(input: $in) { call { id status } userErrors { field code message } } }`
	rankingM    = `mutation($in: CallIdInput!) { startRanking(input: $in) { call { id status } userErrors { field code message } } }`
	completeM   = `mutation($in: CallIdInput!) { completeCall(input: $in) { call { id status } userErrors { field code message } } }`
	cancelCallM = `mutation($in: CancelCallInput!) { cancelCall(input: $in) { call { id status statusReason } userErrors { field code message } } }`
	slotFields  = `id status statusReason startDate endDate weeks capacity languages focusAreas note noteHtml hostCentre { id name } call { id }`
	proposeM    = `mutation($in: ProposeSlotInput!) { proposeSlot(input: $in) { slot { ` + slotFields + ` } userErrors { field code message } } }`
	approveM    = `mutation($in: SlotIdInput!) { approveSlot(input: $in) { slot { ` + slotFields + ` } userErrors { field code message } } }`
	rejectM     = `mutation($in: SlotReasonInput!) { rejectSlot(input: $in) { slot { ` + slotFields + ` } userErrors { field code message } } }`
	withdrawM   = `mutation($in: SlotReasonInput!) { withdrawSlot(input: $in) { slot { ` + slotFields + ` } userErrors { field code message } } }`
)

type callOut struct {
	ID, Title, Status, StatusReason, OpensAt, ClosesAt, OpensLocal, ClosesLocal, TimeZone string
	PlacementStart, PlacementEnd                                                          string
	PlacementWeeks                                                                        []int
	EligibleCountries                                                                     []string
	MaxPreferences, FundedPlaces, RefereeLetters, OfferResponseHours, MinLeadDays         int
	NoRepeatMonths                                                                        int
	RequiredDocuments                                                                     []string
	ReviewCriteria                                                                        []struct {
		Key, Name string
		Weight    int
	}
	OnePlacementPerTrainee, AcceptingApplications bool
	RankingDeadline                               *string
	DescriptionHTML                               string
}

type slotOut struct {
	ID, Status, StatusReason, StartDate, EndDate, Note, NoteHTML string
	Weeks, Capacity                                              int
	Languages, FocusAreas                                        []string
	HostCentre                                                   struct{ ID, Name string }
	Call                                                         struct{ ID string }
}

type progPayload struct {
	Call       *callOut
	Slot       *slotOut
	UserErrors []userErr
}

func pmutate(t *testing.T, c *testkit.Client, query string, in map[string]any) progPayload {
	t.Helper()
	var out map[string]progPayload
	c.MustDo(query, map[string]any{"in": in}, &out)
	for _, p := range out {
		return p
	}
	t.Fatalf("no payload")
	return progPayload{}
}

func pmust(t *testing.T, c *testkit.Client, query string, in map[string]any) progPayload {
	t.Helper()
	p := pmutate(t, c, query, in)
	if len(p.UserErrors) > 0 {
		t.Fatalf("unexpected user errors for %v: %+v", in, p.UserErrors)
	}
	return p
}

// pilotCall is the input of a call like the coalition's pilot (testkit's clock: 2027-01-12).
func pilotCall() map[string]any {
	return map[string]any{
		"title": "Observership pilot, Q1 2027", "description": "Observe **CAR-T** care for one or two weeks.",
		"opens": "2027-01-12T00:00", "closes": "2027-02-15T17:00", "timeZone": "Europe/Brussels",
		"placementStart": "2027-03-01", "placementEnd": "2027-06-30", "placementWeeks": []int{2, 1},
		"eligibleCountries": []string{"CZ", "RO", "PL", "IE"}, "fundedPlaces": 6,
		"requiredDocuments": []string{"CV", "MOTIVATION_LETTER", "SUPPORT_LETTER"}, "refereeLetters": 1,
		"reviewCriteria": []map[string]any{
			{"key": "motivation", "name": "Motivation and fit", "weight": 40},
			{"key": "experience", "name": "CAR-T experience", "weight": 30},
			{"key": "impact", "name": "Expected impact at the home centre", "weight": 30},
		},
		"rankingDeadline": "2027-02-26T17:00",
	}
}

func with(m map[string]any, change map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for k, v := range change {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// callsSeen lists the titles of the calls c sees, and whether node(id) finds id.
func callsSeen(t *testing.T, c *testkit.Client, id string) ([]string, bool) {
	t.Helper()
	var out struct {
		Calls struct {
			Edges []struct{ Node struct{ Title string } }
		}
	}
	c.MustDo(`{ calls(first: 10) { edges { node { title } } } }`, nil, &out)
	titles := names(out.Calls.Edges, func(e struct{ Node struct{ Title string } }) string { return e.Node.Title })
	r := c.Do(`query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id})
	return titles, len(r.Errors) == 0 && !strings.Contains(string(r.Data), "null")
}

// slotsSeen lists "centre start status" of the slots of a call that c sees through the call.
func slotsSeen(t *testing.T, c *testkit.Client, callID string) []string {
	t.Helper()
	r := c.Do(`query($id: ID!) { node(id: $id) { ... on Call { slots(first: 20) { edges { node { startDate status hostCentre { name } } } } } } }`, map[string]any{"id": callID})
	var out struct {
		Node *struct {
			Slots struct {
				Edges []struct {
					Node struct {
						StartDate, Status string
						HostCentre        struct{ Name string }
					}
				}
			}
		}
	}
	if len(r.Errors) > 0 {
		return nil
	}
	if err := json.Unmarshal(r.Data, &out); err != nil {
		t.Fatal(err)
	}
	if out.Node == nil {
		return nil
	}
	var got []string
	for _, e := range out.Node.Slots.Edges {
		got = append(got, strings.Fields(e.Node.HostCentre.Name)[0]+" "+e.Node.StartDate+" "+e.Node.Status)
	}
	slices.Sort(got)
	return got
}

func TestCallLifecycleAndVisibility(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a, staff := d.a, d.a.staff
		c := pmust(t, staff, createCallM, pilotCall()).Call
		if c.Status != "DRAFT" || c.OpensAt != "2027-01-11T23:00:00Z" || c.ClosesAt != "2027-02-15T16:00:00Z" || c.ClosesLocal != "2027-02-15T17:00" ||
			!slices.Equal(c.PlacementWeeks, []int{1, 2}) || c.MaxPreferences != 3 || c.OfferResponseHours != 48 || c.MinLeadDays != 14 ||
			!c.OnePlacementPerTrainee || c.NoRepeatMonths != 12 || len(c.ReviewCriteria) != 3 || c.AcceptingApplications ||
			c.RankingDeadline == nil || *c.RankingDeadline != "2027-02-26T16:00:00Z" || !strings.Contains(c.DescriptionHTML, "<strong>CAR-T</strong>") {
			t.Errorf("created: %+v", c)
		}
		// A draft is for staff and for host coordinators, who offer slots in it.
		for who, cl := range map[string]*testkit.Client{"anonymous": a.anon, "trainee": a.trainee, "another trainee": a.other} {
			if titles, found := callsSeen(t, cl, c.ID); len(titles) != 0 || found {
				t.Errorf("%s sees the draft: %v %v", who, titles, found)
			}
		}
		for who, cl := range map[string]*testkit.Client{"staff": staff, "coordinator": a.host, "another coordinator": d.coordB} {
			if titles, found := callsSeen(t, cl, c.ID); len(titles) != 1 || !found {
				t.Errorf("%s: %v %v", who, titles, found)
			}
		}

		// Only staff move calls on.
		for _, m := range []struct {
			q  string
			in map[string]any
		}{{createCallM, pilotCall()}, {updateCallM, map[string]any{"id": c.ID, "title": "Mine"}}, {openCallM, map[string]any{"id": c.ID}},
			{closeCallM, map[string]any{"id": c.ID}}, {reviewM, map[string]any{"id": c.ID}}, {rankingM, map[string]any{"id": c.ID}},
			{completeM, map[string]any{"id": c.ID}}, {cancelCallM, map[string]any{"id": c.ID, "reason": "x"}}, {approveM, map[string]any{"id": c.ID}},
			{rejectM, map[string]any{"id": c.ID, "reason": "x"}}} {
			for who, want := range map[*testkit.Client]string{a.anon: "UNAUTHENTICATED", a.trainee: "FORBIDDEN", a.host: "FORBIDDEN"} {
				if r := who.Do(m.q, map[string]any{"in": m.in}); r.Code() != want {
					t.Errorf("%.40s: %s, want %s", m.q, r.Body, want)
				}
			}
		}

		// It opens only with an approved slot.
		if p := pmutate(t, staff, openCallM, map[string]any{"id": c.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("open without slots: %+v", p.UserErrors)
		}
		lyon := pmust(t, a.host, proposeM, map[string]any{"callId": c.ID, "hostCentreId": d.centreLyon, "startDate": "2027-03-01", "weeks": 2, "capacity": 2,
			"note": "Week 1: ward rounds. Week 2: **cell processing**."}).Slot
		if lyon.Status != "PROPOSED" || lyon.EndDate != "2027-03-12" || !slices.Equal(lyon.Languages, []string{"fr", "en"}) ||
			!slices.Equal(lyon.FocusAreas, []string{"LYMPHOMA", "MYELOMA", "CELL_PROCESSING"}) || !strings.Contains(lyon.NoteHTML, "<strong>cell processing</strong>") {
			t.Errorf("proposed: %+v", lyon)
		}
		muster := pmust(t, d.coordB, proposeM, map[string]any{"callId": c.ID, "hostCentreId": d.centreMusterstadt, "startDate": "2027-04-05", "weeks": 1, "capacity": 1,
			"languages": []string{"EN"}, "focusAreas": []string{"PAEDIATRIC"}}).Slot
		if muster.EndDate != "2027-04-09" || !slices.Equal(muster.Languages, []string{"en"}) {
			t.Errorf("proposed: %+v", muster)
		}
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		if s := pmust(t, staff, approveM, map[string]any{"id": lyon.ID}).Slot; s.Status != "APPROVED" {
			t.Errorf("approved: %+v", s)
		}
		e.DrainOutbox()
		if msgs := e.SMTP.Messages()[seen:]; len(msgs) != 1 || msgs[0].To[0] != "claire.martin@hopital.example.fr" ||
			msgs[0].Subject != "Slot approved: CAR-T Unit, Hôpital Saint-Exemple, 2027-03-01 to 2027-03-12" ||
			!strings.Contains(msgs[0].TextBody(), "It will be listed publicly when the call opens.") {
			t.Errorf("approval emails: %q", subjects(msgs))
		}
		if p := pmutate(t, staff, approveM, map[string]any{"id": lyon.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("approve twice: %+v", p.UserErrors)
		}
		open := pmust(t, staff, openCallM, map[string]any{"id": c.ID}).Call
		if open.Status != "OPEN" {
			t.Fatalf("open: %+v", open)
		}

		// Open: the call is public; approved slots to anyone, proposed ones to their centre and staff.
		for _, v := range []struct {
			who  string
			cl   *testkit.Client
			want []string
		}{
			{"anonymous", a.anon, []string{"CAR-T 2027-03-01 APPROVED"}},
			{"trainee", a.trainee, []string{"CAR-T 2027-03-01 APPROVED"}},
			{"Lyon's coordinator", a.host, []string{"CAR-T 2027-03-01 APPROVED"}},
			{"Musterstadt's coordinator", d.coordB, []string{"CAR-T 2027-03-01 APPROVED", "Zentrum 2027-04-05 PROPOSED"}},
			{"staff", staff, []string{"CAR-T 2027-03-01 APPROVED", "Zentrum 2027-04-05 PROPOSED"}},
		} {
			if titles, found := callsSeen(t, v.cl, c.ID); len(titles) != 1 || !found {
				t.Errorf("%s: calls %v, node %v", v.who, titles, found)
			}
			if got := slotsSeen(t, v.cl, c.ID); !slices.Equal(got, v.want) {
				t.Errorf("%s sees slots %v, want %v", v.who, got, v.want)
			}
		}
		var acc struct {
			Node struct{ AcceptingApplications bool }
		}
		a.anon.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { acceptingApplications } } }`, map[string]any{"id": c.ID}, &acc)
		if !acc.Node.AcceptingApplications {
			t.Errorf("open call not accepting applications")
		}

		// Open: only the description and a later deadline change.
		if p := pmutate(t, staff, updateCallM, map[string]any{"id": c.ID, "fundedPlaces": 10, "title": "Other"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE", "INVALID_STATE"}) {
			t.Errorf("update open call settings: %+v", p.UserErrors)
		}
		if p := pmutate(t, staff, updateCallM, map[string]any{"id": c.ID, "closes": "2027-02-14T17:00"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("earlier deadline: %+v", p.UserErrors)
		}
		if u := pmust(t, staff, updateCallM, map[string]any{"id": c.ID, "closes": "2027-02-20T12:00", "description": "Extended."}).Call; u.ClosesLocal != "2027-02-20T12:00" || u.FundedPlaces != 6 {
			t.Errorf("extended: %+v", u)
		}

		// Closing early needs force and a reason.
		if p := pmutate(t, staff, closeCallM, map[string]any{"id": c.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID"}) {
			t.Errorf("close early: %+v", p.UserErrors)
		}
		if p := pmutate(t, staff, closeCallM, map[string]any{"id": c.ID, "force": true}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("force without reason: %+v", p.UserErrors)
		}
		e.Clock.Set(time.Date(2027, 2, 20, 11, 0, 0, 0, time.UTC)) // 12:00 in Brussels: the deadline
		staff = e.SignIn("office@coalition.test")
		if got := pmust(t, staff, closeCallM, map[string]any{"id": c.ID}).Call; got.Status != "CLOSED" {
			t.Errorf("close at the deadline: %+v", got)
		}
		// Closed: approved slots to signed-in users only.
		if got := slotsSeen(t, a.anon, c.ID); len(got) != 0 {
			t.Errorf("anonymous sees slots of a closed call: %v", got)
		}
		if got := slotsSeen(t, e.SignIn("marek.dvorak@example.cz"), c.ID); !slices.Equal(got, []string{"CAR-T 2027-03-01 APPROVED"}) {
			t.Errorf("trainee after closing: %v", got)
		}
		if p := pmutate(t, staff, rankingM, map[string]any{"id": c.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("ranking before review: %+v", p.UserErrors)
		}
		pmust(t, staff, reviewM, map[string]any{"id": c.ID})
		if got := pmust(t, staff, rankingM, map[string]any{"id": c.ID}).Call; got.Status != "RANKING" {
			t.Errorf("ranking: %+v", got)
		}
		if p := pmutate(t, staff, completeM, map[string]any{"id": c.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("complete before the match: %+v", p.UserErrors)
		}
		if p := pmutate(t, staff, cancelCallM, map[string]any{"id": c.ID, "reason": ""}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("cancel without reason: %+v", p.UserErrors)
		}
		if got := pmust(t, staff, cancelCallM, map[string]any{"id": c.ID, "reason": "Funding withdrawn."}).Call; got.Status != "CANCELLED" || got.StatusReason != "Funding withdrawn." {
			t.Errorf("cancelled: %+v", got)
		}
		if p := pmutate(t, staff, cancelCallM, map[string]any{"id": c.ID, "reason": "Again"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("cancel twice: %+v", p.UserErrors)
		}
	})
}

func TestCallBadInputChangesNothing(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		a := newActors(t, e)
		count := func() int {
			var out struct{ Calls struct{ TotalCount int } }
			a.staff.MustDo(`{ calls(first: 1) { totalCount } }`, nil, &out)
			return out.Calls.TotalCount
		}
		crit := func(key, name string, w int) map[string]any {
			return map[string]any{"key": key, "name": name, "weight": w}
		}
		for _, c := range []struct {
			name   string
			change map[string]any
			code   string
			field  string
		}{
			{"no title", map[string]any{"title": " "}, "REQUIRED", "input.title"},
			{"title too long", map[string]any{"title": strings.Repeat("é", 201)}, "TOO_LONG", "input.title"},
			{"unknown zone", map[string]any{"timeZone": "Europe/Atlantis"}, "INVALID", "input.timeZone"},
			{"bad opening time", map[string]any{"opens": "tomorrow"}, "INVALID", "input.opens"},
			{"closes before it opens", map[string]any{"closes": "2027-01-11T17:00", "opens": "2027-01-12T00:00"}, "INVALID", "input.closes"},
			{"deadline passed", map[string]any{"opens": "2027-01-01T00:00", "closes": "2027-01-12T09:00"}, "INVALID", "input.closes"},
			{"skipped hour", map[string]any{"closes": "2027-03-28T02:30", "placementStart": "2027-04-01"}, "INVALID", "input.closes"},
			{"window backwards", map[string]any{"placementEnd": "2027-02-28"}, "INVALID", "input.placementEnd"},
			{"window too long", map[string]any{"placementEnd": "2028-06-30"}, "INVALID", "input.placementEnd"},
			{"placements before the deadline", map[string]any{"placementStart": "2027-02-01"}, "INVALID", "input.placementStart"},
			{"three weeks", map[string]any{"placementWeeks": []int{3}}, "INVALID", "input.placementWeeks"},
			{"no lengths", map[string]any{"placementWeeks": []int{}}, "INVALID", "input.placementWeeks"},
			{"lower-case country", map[string]any{"eligibleCountries": []string{"cz"}}, "INVALID", "input.eligibleCountries.0"},
			{"not a country", map[string]any{"eligibleCountries": []string{"CZ", "XX"}}, "INVALID", "input.eligibleCountries.1"},
			{"country twice", map[string]any{"eligibleCountries": []string{"CZ", "CZ"}}, "INVALID", "input.eligibleCountries.1"},
			{"no countries", map[string]any{"eligibleCountries": []string{}}, "REQUIRED", "input.eligibleCountries"},
			{"11 preferences", map[string]any{"maxPreferences": 11}, "INVALID", "input.maxPreferences"},
			{"negative places", map[string]any{"fundedPlaces": -1}, "INVALID", "input.fundedPlaces"},
			{"referee letter as a document", map[string]any{"requiredDocuments": []string{"CV", "REFEREE_LETTER"}}, "INVALID", "input.requiredDocuments.1"},
			{"document twice", map[string]any{"requiredDocuments": []string{"CV", "CV"}}, "INVALID", "input.requiredDocuments.1"},
			{"four referees", map[string]any{"refereeLetters": 4}, "INVALID", "input.refereeLetters"},
			{"no criteria", map[string]any{"reviewCriteria": []map[string]any{}}, "REQUIRED", "input.reviewCriteria"},
			{"bad key", map[string]any{"reviewCriteria": []map[string]any{crit("Motivation", "M", 10)}}, "INVALID", "input.reviewCriteria.0.key"},
			{"key twice", map[string]any{"reviewCriteria": []map[string]any{crit("a", "A", 10), crit("a", "B", 10)}}, "INVALID", "input.reviewCriteria.1.key"},
			{"weight 0", map[string]any{"reviewCriteria": []map[string]any{crit("a", "A", 0)}}, "INVALID", "input.reviewCriteria.0.weight"},
			{"criterion without a name", map[string]any{"reviewCriteria": []map[string]any{crit("a", " ", 5)}}, "REQUIRED", "input.reviewCriteria.0.name"},
			{"offer window 0", map[string]any{"offerResponseHours": 0}, "INVALID", "input.offerResponseHours"},
			{"lead time a year and a day", map[string]any{"minLeadDays": 366}, "INVALID", "input.minLeadDays"},
			{"no repeat forever", map[string]any{"noRepeatMonths": 121}, "INVALID", "input.noRepeatMonths"},
			{"ranking before the deadline", map[string]any{"rankingDeadline": "2027-02-15T16:00"}, "INVALID", "input.rankingDeadline"},
		} {
			p := pmutate(t, a.staff, createCallM, with(pilotCall(), c.change))
			if p.Call != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != c.code || strings.Join(p.UserErrors[0].Field, ".") != c.field {
				t.Errorf("%s: %+v, want %s on %s", c.name, p.UserErrors, c.code, c.field)
			}
		}
		// Several problems come back together.
		if p := pmutate(t, a.staff, createCallM, with(pilotCall(), map[string]any{"title": "", "fundedPlaces": -2, "placementWeeks": []int{5}})); len(p.UserErrors) != 3 {
			t.Errorf("three problems: %+v", p.UserErrors)
		}
		// The schema refuses a missing required field or an unknown enum before the service.
		if r := a.staff.Do(createCallM, map[string]any{"in": with(pilotCall(), map[string]any{"requiredDocuments": []string{"PASSPORT"}})}); len(r.Errors) == 0 {
			t.Errorf("unknown document kind accepted: %s", r.Body)
		}
		if n := count(); n != 0 {
			t.Errorf("refused input wrote %d calls", n)
		}
	})
}

func TestSlotRules(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a, staff := d.a, d.a.staff
		c := pmust(t, staff, createCallM, with(pilotCall(), map[string]any{"placementWeeks": []int{2}})).Call
		good := func(change map[string]any) map[string]any {
			return with(map[string]any{"callId": c.ID, "hostCentreId": d.centreLyon, "startDate": "2027-03-01", "weeks": 2, "capacity": 2}, change)
		}
		// Who may propose for Lyon: its coordinator and staff.
		for who, want := range map[*testkit.Client]string{a.anon: "UNAUTHENTICATED", a.trainee: "FORBIDDEN", d.coordB: "FORBIDDEN"} {
			if r := who.Do(proposeM, map[string]any{"in": good(nil)}); r.Code() != want {
				t.Errorf("propose for Lyon: %s, want %s", r.Body, want)
			}
		}
		first := pmust(t, a.host, proposeM, good(nil)).Slot
		for _, bc := range []struct {
			name   string
			change map[string]any
			code   string
			field  string
		}{
			{"not a Monday", map[string]any{"startDate": "2027-03-03"}, "INVALID", "input.startDate"},
			{"length not offered", map[string]any{"startDate": "2027-04-05", "weeks": 1}, "INVALID", "input.weeks"},
			{"before the window", map[string]any{"startDate": "2027-02-22"}, "INVALID", "input.startDate"},
			{"after the window", map[string]any{"startDate": "2027-06-28"}, "INVALID", "input.startDate"},
			{"overlaps", map[string]any{"startDate": "2027-03-08"}, "TAKEN", "input.startDate"},
			{"no capacity", map[string]any{"startDate": "2027-04-05", "capacity": 0}, "INVALID", "input.capacity"},
			{"capacity 21", map[string]any{"startDate": "2027-04-05", "capacity": 21}, "INVALID", "input.capacity"},
			{"bad language", map[string]any{"startDate": "2027-04-05", "languages": []string{"fr", "xx"}}, "INVALID", "input.languages.1"},
			{"note too long", map[string]any{"startDate": "2027-04-05", "note": strings.Repeat("a", 5001)}, "TOO_LONG", "input.note"},
			{"unknown call", map[string]any{"callId": "cal_01J0000000000000000000000"}, "NOT_FOUND", "input.callId"},
			{"centre not accepting", map[string]any{"hostCentreId": d.centreMilano}, "INVALID_STATE", "input.hostCentreId"},
		} {
			p := pmutate(t, staff, proposeM, good(bc.change))
			if p.Slot != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != bc.code || strings.Join(p.UserErrors[0].Field, ".") != bc.field {
				t.Errorf("%s: %+v, want %s on %s", bc.name, p.UserErrors, bc.code, bc.field)
			}
		}
		if got := slotsSeen(t, staff, c.ID); !slices.Equal(got, []string{"CAR-T 2027-03-01 PROPOSED"}) {
			t.Errorf("refused proposals wrote slots: %v", got)
		}

		// Rejecting needs a reason and tells the coordinator why.
		second := pmust(t, a.host, proposeM, good(map[string]any{"startDate": "2027-05-03"})).Slot
		if p := pmutate(t, staff, rejectM, map[string]any{"id": second.ID, "reason": ""}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("reject without a reason: %+v", p.UserErrors)
		}
		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		pmust(t, staff, rejectM, map[string]any{"id": second.ID, "reason": "Overlaps the JACIE audit."})
		e.DrainOutbox()
		if msgs := e.SMTP.Messages()[seen:]; len(msgs) != 1 || !strings.HasPrefix(msgs[0].Subject, "Slot not approved") ||
			!strings.Contains(msgs[0].TextBody(), "Reason: Overlaps the JACIE audit.") {
			t.Errorf("rejection emails: %q", subjects(msgs))
		}
		// A rejected slot no longer blocks its dates.
		third := pmust(t, a.host, proposeM, good(map[string]any{"startDate": "2027-05-03"})).Slot

		// Withdrawing: the centre's coordinator or staff, with a reason, before the match.
		if r := d.coordB.Do(withdrawM, map[string]any{"in": map[string]any{"id": first.ID, "reason": "Not mine"}}); r.Code() != "" {
			t.Errorf("another centre's coordinator: %s", r.Body)
		} else if p := pmutate(t, d.coordB, withdrawM, map[string]any{"id": first.ID, "reason": "Not mine"}); !slices.Equal(codes(p.UserErrors), []string{"NOT_FOUND"}) {
			t.Errorf("another centre's coordinator withdrawing a proposed slot: %+v", p.UserErrors)
		}
		pmust(t, staff, approveM, map[string]any{"id": third.ID})
		// While the call is a draft, nobody but the centre and staff sees even an approved slot.
		if p := pmutate(t, a.trainee, withdrawM, map[string]any{"id": third.ID, "reason": "x"}); !slices.Equal(codes(p.UserErrors), []string{"NOT_FOUND"}) {
			t.Errorf("trainee withdrawing a slot of a draft call: %+v", p.UserErrors)
		}
		pmust(t, staff, openCallM, map[string]any{"id": c.ID})
		if r := d.coordB.Do(withdrawM, map[string]any{"in": map[string]any{"id": third.ID, "reason": "Not mine"}}); r.Code() != "FORBIDDEN" {
			t.Errorf("another centre's coordinator withdrawing an approved slot: %s", r.Body)
		}
		if r := a.trainee.Do(withdrawM, map[string]any{"in": map[string]any{"id": third.ID, "reason": "x"}}); r.Code() != "FORBIDDEN" {
			t.Errorf("trainee withdrawing: %s", r.Body)
		}
		if p := pmutate(t, a.host, withdrawM, map[string]any{"id": third.ID, "reason": " "}); !slices.Equal(codes(p.UserErrors), []string{"REQUIRED"}) {
			t.Errorf("withdraw without a reason: %+v", p.UserErrors)
		}
		if s := pmust(t, a.host, withdrawM, map[string]any{"id": third.ID, "reason": "Staff shortage in May."}).Slot; s.Status != "WITHDRAWN" || s.StatusReason != "Staff shortage in May." {
			t.Errorf("withdrawn: %+v", s)
		}
		if p := pmutate(t, a.host, withdrawM, map[string]any{"id": third.ID, "reason": "Again"}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("withdraw twice: %+v", p.UserErrors)
		}
		if p := pmutate(t, staff, approveM, map[string]any{"id": third.ID}); !slices.Equal(codes(p.UserErrors), []string{"INVALID_STATE"}) {
			t.Errorf("approve a withdrawn slot: %+v", p.UserErrors)
		}
	})
}

// TestCallDeadlinesMoveWhileAhead: after a call opens, staff can still set or move its
// deadlines as long as the deadline is ahead (its current and its new value), keeping their
// order; a deadline that has passed stays put, and a refused change changes nothing.
func TestCallDeadlinesMoveWhileAhead(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		d := newDirectory(t, e)
		a, staff := d.a, d.a.staff
		// A call like the README's: no ranking deadline.
		c := pmust(t, staff, createCallM, with(pilotCall(), map[string]any{"rankingDeadline": nil})).Call
		if c.RankingDeadline != nil {
			t.Fatalf("created with a ranking deadline: %+v", c)
		}
		slot := pmust(t, a.host, proposeM, map[string]any{"callId": c.ID, "hostCentreId": d.centreLyon, "startDate": "2027-03-01", "weeks": 2, "capacity": 2}).Slot
		pmust(t, staff, approveM, map[string]any{"id": slot.ID})
		pmust(t, staff, openCallM, map[string]any{"id": c.ID})

		read := func() callOut {
			t.Helper()
			var out struct{ Node callOut }
			staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { `+callFields+` } } }`, map[string]any{"id": c.ID}, &out)
			return out.Node
		}
		refused := func(name string, in map[string]any, code, field string) {
			t.Helper()
			before := read()
			p := pmutate(t, staff, updateCallM, with(in, map[string]any{"id": c.ID}))
			if p.Call != nil || len(p.UserErrors) != 1 || p.UserErrors[0].Code != code || strings.Join(p.UserErrors[0].Field, ".") != field {
				t.Errorf("%s: %+v, want %s on %s", name, p.UserErrors, code, field)
			}
			if after := read(); after.ClosesAt != before.ClosesAt || !equalPtr(after.RankingDeadline, before.RankingDeadline) || after.DescriptionHTML != before.DescriptionHTML {
				t.Errorf("%s changed the call: %+v → %+v", name, before, after)
			}
		}
		local := func(c callOut) string {
			if c.RankingDeadline == nil {
				return "none"
			}
			r, _ := time.Parse(time.RFC3339, *c.RankingDeadline)
			return r.In(time.FixedZone("CET", 3600)).Format("2006-01-02T15:04")
		}

		// OPEN: a ranking deadline can be added, then moved.
		if u := pmust(t, staff, updateCallM, map[string]any{"id": c.ID, "rankingDeadline": "2027-02-26T17:00"}).Call; local(*u) != "2027-02-26T17:00" {
			t.Errorf("added: %v", local(*u))
		}
		if u := pmust(t, staff, updateCallM, map[string]any{"id": c.ID, "rankingDeadline": "2027-02-25T12:00"}).Call; local(*u) != "2027-02-25T12:00" {
			t.Errorf("moved earlier while ahead: %v", local(*u))
		}
		refused("ranking before the application deadline", map[string]any{"rankingDeadline": "2027-02-15T16:00"}, "INVALID", "input.rankingDeadline")
		refused("ranking in the placement window", map[string]any{"rankingDeadline": "2027-03-01T09:00"}, "INVALID", "input.rankingDeadline")
		refused("application deadline after the ranking deadline", map[string]any{"closes": "2027-02-25T17:00"}, "INVALID", "input.rankingDeadline")
		refused("a setting other than a deadline", map[string]any{"fundedPlaces": 7}, "INVALID_STATE", "input.fundedPlaces")

		// The application deadline passes while the call is still OPEN: it stays put.
		e.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
		staff = e.SignIn("office@coalition.test")
		refused("moving a passed application deadline", map[string]any{"closes": "2027-02-20T17:00"}, "INVALID_STATE", "input.closes")
		pmust(t, staff, closeCallM, map[string]any{"id": c.ID})
		pmust(t, staff, reviewM, map[string]any{"id": c.ID})

		// REVIEW: the ranking deadline is still ahead, so it moves later, but never into the past.
		if u := pmust(t, staff, updateCallM, map[string]any{"id": c.ID, "rankingDeadline": "2027-02-26T17:00"}).Call; local(*u) != "2027-02-26T17:00" {
			t.Errorf("moved later: %v", local(*u))
		}
		refused("a ranking deadline in the past", map[string]any{"rankingDeadline": "2027-02-16T09:00"}, "INVALID", "input.rankingDeadline")
		refused("closes after applications closed", map[string]any{"closes": "2027-02-17T17:00"}, "INVALID_STATE", "input.closes")
		pmust(t, staff, rankingM, map[string]any{"id": c.ID})
		refused("removing the deadline hosts rank by", map[string]any{"rankingDeadline": ""}, "INVALID_STATE", "input.rankingDeadline")

		// Once it has passed, the ranking deadline stays put too.
		e.Clock.Set(time.Date(2027, 2, 26, 17, 0, 0, 0, time.UTC))
		staff = e.SignIn("office@coalition.test")
		refused("moving a passed ranking deadline", map[string]any{"rankingDeadline": "2027-02-27T17:00"}, "INVALID_STATE", "input.rankingDeadline")
		// The description still changes.
		if u := pmust(t, staff, updateCallM, map[string]any{"id": c.ID, "description": "Ranking is over."}).Call; !strings.Contains(u.DescriptionHTML, "Ranking is over.") {
			t.Errorf("description: %+v", u)
		}
	})
}

func equalPtr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
