package placement_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// MustStartRun starts a match run of c as staff.
func MustStartRun(tb testing.TB, s *testkit.Services, w *testkit.World, c *ent.Call, dryRun bool) *ent.MatchRun {
	tb.Helper()
	var run *ent.MatchRun
	testkit.MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		run, err = s.Placement.StartRun(ctx, tx, c.ID, dryRun)
		return err
	})
	return run
}

// MustPublish publishes run as staff and returns the placements by application.
func MustPublish(tb testing.TB, s *testkit.Services, w *testkit.World, run *ent.MatchRun) map[pulid.ID]*ent.Placement {
	tb.Helper()
	testkit.MustDo(tb, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Placement.Publish(ctx, tx, run.ID)
		return err
	})
	ps, err := s.DB.Client.Placement.Query().Where(placement.RunID(run.ID)).All(s.System())
	if err != nil {
		tb.Fatalf("placements: %v", err)
	}
	out := map[pulid.ID]*ent.Placement{}
	for _, p := range ps {
		out[p.ApplicationID] = p
	}
	return out
}

func mailCount(s *testkit.Services, template string) int {
	return testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ(template)))
}

func TestMatchRunAndPublication(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		dry := MustStartRun(t, s, w, r.Call, true)
		run := MustStartRun(t, s, w, r.Call, false)
		for _, x := range []*ent.MatchRun{dry, run} {
			if x.Trainees != 2 || x.Slots != 2 || x.Places != 2 || x.Matched != 2 || x.BlockingPairs != 0 || len(x.Unmatched) != 0 ||
				!slices.Equal(x.Assignments[string(r.SlotA.ID)], []string{string(r.Ioana.ID)}) ||
				!slices.Equal(x.Assignments[string(r.SlotB.ID)], []string{string(r.Marek.ID)}) {
				t.Fatalf("run: %d trainees, %d slots, %d places, %d matched, %d blocking, assignments %v, unmatched %v; want Ioana at A and Marek at B",
					x.Trainees, x.Slots, x.Places, x.Matched, x.BlockingPairs, x.Assignments, x.Unmatched)
			}
		}
		if dry.InputHash != run.InputHash || run.CreatedByID != w.Staff.ID {
			t.Errorf("hashes %s / %s (want equal), created by %v (want staff)", dry.InputHash, run.InputHash, run.CreatedByID)
		}
		st, err := s.Placement.StatsOf(s.As(w.Staff), run)
		if err != nil || st.MatchRate != 1 || !slices.Equal(st.RankReceived, []int{1, 1}) {
			t.Errorf("stats %+v, %v; want rate 1, one first choice and one second", st, err)
		}
		moves, err := s.Placement.Compare(s.As(w.Staff), dry.ID, run.ID)
		if err != nil || len(moves) != 0 {
			t.Errorf("compare identical runs: %v, %v", moves, err)
		}

		publish := func(id pulid.ID) string {
			return testkit.Outcome(s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.Publish(ctx, tx, id)
				return err
			}))
		}
		if got := publish(dry.ID); got != "INVALID_STATE" {
			t.Errorf("publish a dry run: %s, want INVALID_STATE", got)
		}
		// A ranking changed after the run: the run no longer matches its input.
		testkit.MustRank(t, s, w.Host, r.Call, w.CentreA, r.Marek, r.Ioana)
		if got := publish(run.ID); got != "INVALID_STATE" {
			t.Errorf("publish a run whose input changed: %s, want INVALID_STATE", got)
		}
		if n := testkit.Count(s, s.DB.Client.Placement.Query()); n != 0 {
			t.Fatalf("refused publications created %d placements", n)
		}
		testkit.MustRank(t, s, w.Host, r.Call, w.CentreA, r.Ioana, r.Marek)

		ps := MustPublish(t, s, w, run)
		c, err := s.DB.Client.Call.Get(s.System(), r.Call.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != call.StatusMATCHED || len(ps) != 2 || ps[r.Ioana.ID].SlotID != r.SlotA.ID || ps[r.Marek.ID].SlotID != r.SlotB.ID {
			t.Fatalf("published: call %s, placements %v", c.Status, ps)
		}
		for _, p := range ps {
			if p.Status != placement.StatusOFFERED || !p.OfferDeadline.After(s.Clock.Now()) {
				t.Errorf("placement %s: %s, deadline %s", p.ID, p.Status, p.OfferDeadline)
			}
		}
		// Offers to both trainees and the list to each centre's coordinator (not the former one).
		if n := mailCount(s, "match_result"); n != 4 {
			t.Errorf("%d match emails, want 4 (2 offers, 2 hosts)", n)
		}
		if got := publish(run.ID); got != "INVALID_STATE" {
			t.Errorf("publish twice: %s, want INVALID_STATE", got)
		}
		if got := testkit.Outcome(s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.StartRun(ctx, tx, r.Call.ID, true)
			return err
		})); got != "INVALID_STATE" {
			t.Errorf("run a matched call: %s, want INVALID_STATE", got)
		}
	})
}

// TestMatchPermissions: runs, publication and overrides are staff's.
func TestMatchPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		run := MustStartRun(t, s, w, r.Call, false)
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}{
			{"startMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.StartRun(ctx, tx, r.Call.ID, false)
				return err
			}},
			{"publishMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.Publish(ctx, tx, run.ID)
				return err
			}},
			{"setMatchOverride", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.SetOverride(ctx, tx, r.Call.ID, r.Marek.ID, r.SlotA.ID, matchoverride.KindPIN, "Because.")
				return err
			}},
			{"stats", func(ctx context.Context, tx *ent.Client) error { _, err := s.Placement.StatsOf(ctx, run); return err }},
		}
		for _, a := range w.Actors(s) {
			if a.Name == "staff" {
				continue
			}
			want := "FORBIDDEN"
			if a.Name == "anonymous" {
				want = "UNAUTHENTICATED"
			}
			for _, op := range ops {
				if got := testkit.Outcome(s.Do(a.Ctx, op.run)); got != want {
					t.Errorf("%s by %s: %s, want %s", op.name, a.Name, got, want)
				}
			}
		}
		if n := testkit.Count(s, s.DB.Client.MatchRun.Query()); n != 1 {
			t.Errorf("%d runs, want 1", n)
		}
		if n := testkit.Count(s, s.DB.Client.MatchOverride.Query()); n != 0 {
			t.Errorf("%d overrides, want 0", n)
		}
		if n := testkit.Count(s, s.DB.Client.Placement.Query()); n != 0 {
			t.Errorf("%d placements, want 0", n)
		}
	})
}

func TestOverridesRefuseBadInputAndSteerTheMatch(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		set := func(app, slot pulid.ID, kind matchoverride.Kind, reason string) (*ent.MatchOverride, string) {
			var o *ent.MatchOverride
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
				o, err = s.Placement.SetOverride(ctx, tx, r.Call.ID, app, slot, kind, reason)
				return err
			})
			return o, testkit.Outcome(err)
		}
		for _, tc := range []struct {
			name      string
			app, slot pulid.ID
			kind      matchoverride.Kind
			reason    string
			want      string
		}{
			{"no reason", r.Marek.ID, r.SlotA.ID, matchoverride.KindPIN, "", "REQUIRED"},
			{"an unknown kind", r.Marek.ID, r.SlotA.ID, "MAYBE", "Because.", "INVALID"},
			{"no such application", r.SlotA.ID, r.SlotA.ID, matchoverride.KindPIN, "Because.", "NOT_FOUND"},
			{"no such slot", r.Marek.ID, r.Marek.ID, matchoverride.KindPIN, "Because.", "NOT_FOUND"},
		} {
			if _, got := set(tc.app, tc.slot, tc.kind, tc.reason); got != tc.want {
				t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.MatchOverride.Query()); n != 0 {
			t.Fatalf("refused overrides wrote %d rows", n)
		}
		// Pin Marek to A: he takes A's place, Ioana is left without one.
		pin, got := set(r.Marek.ID, r.SlotA.ID, matchoverride.KindPIN, "Needs the Lyon programme.")
		if got != "ok" {
			t.Fatalf("pin: %s", got)
		}
		if _, got := set(r.Marek.ID, r.SlotA.ID, matchoverride.KindEXCLUDE, "Twice."); got != "TAKEN" {
			t.Errorf("a second override of the pair: %s, want TAKEN", got)
		}
		if _, got := set(r.Marek.ID, r.SlotB.ID, matchoverride.KindPIN, "Elsewhere too."); got != "INVALID" {
			t.Errorf("a second pin: %s, want INVALID", got)
		}
		run := MustStartRun(t, s, w, r.Call, true)
		if !slices.Equal(run.Assignments[string(r.SlotA.ID)], []string{string(r.Marek.ID)}) || !slices.Equal(run.Unmatched, []string{string(r.Ioana.ID)}) {
			t.Errorf("pinned run: %v, unmatched %v; want Marek at A, Ioana unmatched", run.Assignments, run.Unmatched)
		}
		reasons, err := s.Placement.Explain(s.As(w.Staff), run, r.Ioana.ID)
		if err != nil || len(reasons) != 1 || reasons[0].SlotID != r.SlotA.ID {
			t.Errorf("why Ioana is unmatched: %+v, %v; want one reason about A", reasons, err)
		}
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.RemoveOverride(ctx, tx, pin.ID)
			return err
		})
		if n := testkit.Count(s, s.DB.Client.MatchOverride.Query()); n != 0 {
			t.Errorf("%d overrides after removing the pin", n)
		}
	})
}

// published is a call whose match is published: Ioana offered A, Marek offered B.
type published struct {
	testkit.RankedCall
	ioana, marek *ent.Placement
}

func publishPilot(t *testing.T, s *testkit.Services, w *testkit.World) published {
	t.Helper()
	r := testkit.MustRankedCall(t, s, w)
	ps := MustPublish(t, s, w, MustStartRun(t, s, w, r.Call, false))
	return published{RankedCall: r, ioana: ps[r.Ioana.ID], marek: ps[r.Marek.ID]}
}

func placementStatus(t *testing.T, s *testkit.Services, p *ent.Placement) placement.Status {
	t.Helper()
	p, err := s.DB.Client.Placement.Get(s.System(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// TestPlacementAnswersByRole: who may accept, decline, confirm and cancel a placement.
// Someone who may not see the placement does not find it (NOT_FOUND); someone who sees it
// but is not the party the step belongs to is FORBIDDEN.
func TestPlacementAnswersByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		p := publishPilot(t, s, w)
		ioana := p.ioana // at centre A: Host coordinates it, OtherHost does not
		type op struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}
		accept := op{"accept", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, ioana.ID)
			return err
		}}
		decline := op{"decline", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Decline(ctx, tx, ioana.ID, "Cannot travel.")
			return err
		}}
		confirm := op{"confirm", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Confirm(ctx, tx, ioana.ID)
			return err
		}}
		cancel := op{"cancel", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Cancel(ctx, tx, ioana.ID, "Unit closed.")
			return err
		}}
		// Ioana is OtherTrainee here; Marek (Trainee) is another trainee to her placement.
		actors := []testkit.Actor{
			{Name: "anonymous", Ctx: s.Anonymous()},
			{Name: "another trainee", Ctx: s.As(w.Trainee)},
			{Name: "the host", Ctx: s.As(w.Host)},
			{Name: "another host", Ctx: s.As(w.OtherHost)},
			{Name: "the former host", Ctx: s.As(w.FormerHost)},
			{Name: "staff", Ctx: s.As(w.Staff)},
			{Name: "the trainee", Ctx: s.As(w.OtherTrainee)},
		}
		want := map[string]map[string]string{
			// An offer: only its trainee answers it.
			"accept":  {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "FORBIDDEN", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "FORBIDDEN"},
			"decline": {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "FORBIDDEN", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "FORBIDDEN"},
			// Accepted: the centre's coordinators and staff confirm; the trainee cannot.
			"confirm": {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "ok", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "ok", "the trainee": "FORBIDDEN"},
			"cancel":  {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "ok", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "ok", "the trainee": "FORBIDDEN"},
		}
		try := func(o op, a testkit.Actor) {
			t.Helper()
			if got := testkit.Outcome(s.Do(a.Ctx, o.run)); got != want[o.name][a.Name] {
				t.Errorf("%s by %s: %s, want %s", o.name, a.Name, got, want[o.name][a.Name])
			}
		}
		for _, o := range []op{accept, decline} {
			for _, a := range actors[:6] {
				try(o, a)
			}
		}
		if got := placementStatus(t, s, ioana); got != placement.StatusOFFERED {
			t.Fatalf("refused answers moved the offer to %s", got)
		}
		if got := testkit.Outcome(s.Do(s.As(w.OtherTrainee), accept.run)); got != "ok" || placementStatus(t, s, ioana) != placement.StatusACCEPTED {
			t.Fatalf("accept as the trainee: %s, %s", got, placementStatus(t, s, ioana))
		}
		if n := mailCount(s, "placement_update"); n != 1 {
			t.Errorf("%d placement emails after acceptance, want 1 (the host's coordinator, asked to confirm)", n)
		}
		for _, a := range []int{0, 1, 3, 4, 6} {
			try(confirm, actors[a])
			try(cancel, actors[a])
		}
		if got := placementStatus(t, s, ioana); got != placement.StatusACCEPTED {
			t.Fatalf("refused steps moved the placement to %s", got)
		}
		try(confirm, actors[2]) // the host
		if got := placementStatus(t, s, ioana); got != placement.StatusCONFIRMED {
			t.Fatalf("confirmed: %s", got)
		}
		// Confirmed: the trainee can no longer decline; the host cancels.
		if got := testkit.Outcome(s.Do(s.As(w.OtherTrainee), decline.run)); got != "INVALID_STATE" {
			t.Errorf("decline a confirmed placement: %s, want INVALID_STATE", got)
		}
		try(cancel, actors[2])
		if got := placementStatus(t, s, ioana); got != placement.StatusCANCELLED {
			t.Fatalf("cancelled: %s", got)
		}
		if got := testkit.Outcome(s.Do(s.As(w.Staff), cancel.run)); got != "INVALID_STATE" {
			t.Errorf("cancel twice: %s, want INVALID_STATE", got)
		}
	})
}

func TestPlacementOfferRules(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		p := publishPilot(t, s, w)
		marek := s.As(w.Trainee)
		decline := func(reason string) string {
			return testkit.Outcome(s.Do(marek, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.Decline(ctx, tx, p.marek.ID, reason)
				return err
			}))
		}
		if got := decline(""); got != "REQUIRED" || placementStatus(t, s, p.marek) != placement.StatusOFFERED {
			t.Errorf("decline without a reason: %s, %s", got, placementStatus(t, s, p.marek))
		}
		// Past its deadline an offer cannot be accepted.
		s.Clock.Set(p.marek.OfferDeadline)
		if got := testkit.Outcome(s.Do(marek, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, p.marek.ID)
			return err
		})); got != "EXPIRED" || placementStatus(t, s, p.marek) != placement.StatusOFFERED {
			t.Errorf("accept at the deadline: %s, %s; want EXPIRED, still OFFERED", got, placementStatus(t, s, p.marek))
		}
		s.Clock.Set(p.marek.OfferDeadline.Add(-time.Hour))
		if got := decline("Cannot travel in April."); got != "ok" || placementStatus(t, s, p.marek) != placement.StatusDECLINED {
			t.Errorf("decline: %s, %s", got, placementStatus(t, s, p.marek))
		}
		// A trainee whose role was revoked no longer answers an offer, though it stays theirs.
		ioana := testkit.MustRevoke(t, s, w.OtherTrainee, "TRAINEE")
		if got := testkit.Outcome(s.Do(s.As(ioana), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, p.ioana.ID)
			return err
		})); got != "FORBIDDEN" || placementStatus(t, s, p.ioana) != placement.StatusOFFERED {
			t.Errorf("accept as a former trainee: %s, %s; want FORBIDDEN, still OFFERED", got, placementStatus(t, s, p.ioana))
		}
	})
}
