package graph_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestCompareMatchRunsAfterRetention: a dry run with Marek pinned to Musterstadt, and the
// published run without the pin (Marek unmatched); the call completes and the retention
// rule deletes Marek's application a year later. compareMatchRuns still answers over HTTP:
// Marek's move is listed by its application id with a null application, Aoife's with hers.
func TestCompareMatchRunsAfterRetention(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		run := func(dry bool) string {
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
			return out.StartMatchRun.MatchRun.ID
		}
		var pin struct {
			SetMatchOverride struct {
				MatchOverride *struct{ ID string }
				UserErrors    []userErr
			}
		}
		staff.MustDo(overrideM, map[string]any{"in": map[string]any{"callId": r.call, "applicationId": r.marek, "slotId": r.musterSlot, "kind": "PIN", "reason": "Paediatric focus."}}, &pin)
		if pin.SetMatchOverride.MatchOverride == nil {
			t.Fatalf("pin: %+v", pin.SetMatchOverride.UserErrors)
		}
		pinned := run(true)
		staff.MustDo(unpinM, map[string]any{"in": map[string]any{"id": pin.SetMatchOverride.MatchOverride.ID}}, nil)
		real := run(false)
		if p := amutate(t, staff, publishRunM, map[string]any{"id": real}); len(p.UserErrors) > 0 {
			t.Fatalf("publish: %+v", p.UserErrors)
		}
		ended := time.Date(2027, 7, 1, 8, 0, 0, 0, time.UTC)
		e.Clock.Set(ended)
		staff = e.SignIn("office@coalition.test")
		pmust(t, staff, completeM, map[string]any{"id": r.call})
		for _, at := range []time.Time{ended.AddDate(1, -1, 0), ended.AddDate(1, 0, 0)} {
			e.Clock.Set(at)
			if _, err := e.App.Programme.ApplyRetention(e.System()); err != nil {
				t.Fatal(err)
			}
		}
		if n := e.DB.Client.Call.GetX(e.System(), pulid.ID(r.call)).ApplicationsDeleted; n != 1 {
			t.Fatalf("%d applications deleted, want Marek's", n)
		}

		staff = e.SignIn("office@coalition.test")
		const compareQ = `query($a: ID!, $b: ID!) { compareMatchRuns(a: $a, b: $b) { applicationId application { id trainee { name } } fromSlot { id } toSlot { id } } }`
		res := staff.Do(compareQ, map[string]any{"a": pinned, "b": real})
		if len(res.Errors) > 0 {
			t.Fatalf("compareMatchRuns after retention: %s", res.Body)
		}
		var cmp struct {
			CompareMatchRuns []struct {
				ApplicationID string
				Application   *struct {
					ID      string
					Trainee struct{ Name string }
				}
				FromSlot, ToSlot *struct{ ID string }
			}
		}
		if err := jsonUnmarshal(res.Data, &cmp); err != nil {
			t.Fatal(err)
		}
		var moves []string
		for _, m := range cmp.CompareMatchRuns {
			from, to := "-", "-"
			if m.FromSlot != nil {
				from = r.name[m.FromSlot.ID]
			}
			if m.ToSlot != nil {
				to = r.name[m.ToSlot.ID]
			}
			who := r.name[m.ApplicationID]
			switch {
			case m.Application == nil:
				who += " (deleted)"
			case m.Application.ID != m.ApplicationID:
				t.Errorf("applicationId %s, application %s", m.ApplicationID, m.Application.ID)
			}
			moves = append(moves, who+": "+from+" → "+to)
		}
		slices.Sort(moves)
		if want := []string{"Aoife: - → Musterstadt", "Marek (deleted): Musterstadt → -"}; !slices.Equal(moves, want) {
			t.Errorf("moves: %v, want %v", moves, want)
		}
		// And the other way round.
		if res := staff.Do(compareQ, map[string]any{"a": real, "b": pinned}); len(res.Errors) > 0 {
			t.Errorf("compareMatchRuns the other way: %s", res.Body)
		}
	})
}
