package matchrun_test

import (
	"context"
	"slices"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func mailCount(s *testkit.Services, template string) int {
	return testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ(template)))
}

func TestMatchRunAndPublication(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		dry := testkit.MustStartRun(t, s, w, r.Call, true)
		run := testkit.MustStartRun(t, s, w, r.Call, false)
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
		st, err := s.MatchRuns.StatsOf(s.As(w.Staff), run)
		if err != nil || st.MatchRate != 1 || !slices.Equal(st.RankReceived, []int{1, 1}) {
			t.Errorf("stats %+v, %v; want rate 1, one first choice and one second", st, err)
		}
		moves, err := s.MatchRuns.Compare(s.As(w.Staff), dry.ID, run.ID)
		if err != nil || len(moves) != 0 {
			t.Errorf("compare identical runs: %v, %v", moves, err)
		}

		publish := func(id pulid.ID) string {
			return testkit.Outcome(s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.Publish(ctx, tx, id)
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

		ps := testkit.MustPublish(t, s, w, run)
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
			_, err := s.MatchRuns.StartRun(ctx, tx, r.Call.ID, true)
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
		run := testkit.MustStartRun(t, s, w, r.Call, false)
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}{
			{"startMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.StartRun(ctx, tx, r.Call.ID, false)
				return err
			}},
			{"publishMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.Publish(ctx, tx, run.ID)
				return err
			}},
			{"setMatchOverride", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.SetOverride(ctx, tx, r.Call.ID, r.Marek.ID, r.SlotA.ID, matchoverride.KindPIN, "Because.")
				return err
			}},
			{"stats", func(ctx context.Context, tx *ent.Client) error { _, err := s.MatchRuns.StatsOf(ctx, run); return err }},
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
				o, err = s.MatchRuns.SetOverride(ctx, tx, r.Call.ID, app, slot, kind, reason)
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
		run := testkit.MustStartRun(t, s, w, r.Call, true)
		if !slices.Equal(run.Assignments[string(r.SlotA.ID)], []string{string(r.Marek.ID)}) || !slices.Equal(run.Unmatched, []string{string(r.Ioana.ID)}) {
			t.Errorf("pinned run: %v, unmatched %v; want Marek at A, Ioana unmatched", run.Assignments, run.Unmatched)
		}
		reasons, err := s.MatchRuns.Explain(s.As(w.Staff), run, r.Ioana.ID)
		if err != nil || len(reasons) != 1 || reasons[0].SlotID != r.SlotA.ID {
			t.Errorf("why Ioana is unmatched: %+v, %v; want one reason about A", reasons, err)
		}
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.MatchRuns.RemoveOverride(ctx, tx, pin.ID)
			return err
		})
		if n := testkit.Count(s, s.DB.Client.MatchOverride.Query()); n != 0 {
			t.Errorf("%d overrides after removing the pin", n)
		}
	})
}
