package matchrun_test

import (
	"context"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestMatchRunOperationsByRole decides every match-run operation (service level) for every
// role, each in a transaction rolled back afterwards so every cell starts from the same
// rows: a ranked call with a pin and a real run. The rule is access.CanRunMatch.
func TestMatchRunOperationsByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		var pin *ent.MatchOverride
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			pin, err = s.MatchRuns.SetOverride(ctx, tx, r.Call.ID, r.Ioana.ID, r.SlotA.ID, matchoverride.KindPIN, "Agreed with the host.")
			return err
		})
		run := testkit.MustStartRun(t, s, w, r.Call, false) // after the pin: publishable
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}{
			{"startMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.StartRun(ctx, tx, r.Call.ID, true)
				return err
			}},
			{"publishMatchRun", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.Publish(ctx, tx, run.ID)
				return err
			}},
			{"setMatchOverride", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.SetOverride(ctx, tx, r.Call.ID, r.Marek.ID, r.SlotB.ID, matchoverride.KindEXCLUDE, "Conflict of interest.")
				return err
			}},
			{"removeMatchOverride", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.MatchRuns.RemoveOverride(ctx, tx, pin.ID)
				return err
			}},
			{"runs", func(ctx context.Context, _ *ent.Client) error { _, err := s.MatchRuns.Runs(ctx, r.Call); return err }},
			{"overrides", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.MatchRuns.Overrides(ctx, r.Call)
				return err
			}},
			{"stats", func(ctx context.Context, _ *ent.Client) error { _, err := s.MatchRuns.StatsOf(ctx, run); return err }},
			{"explain", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.MatchRuns.Explain(ctx, run, r.Marek.ID)
				return err
			}},
			{"compare", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.MatchRuns.Compare(ctx, run.ID, run.ID)
				return err
			}},
		}
		want := map[string]string{
			"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN", "host": "FORBIDDEN",
			"other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok",
		}
		actors := w.Actors(s)
		if len(actors) != len(want) {
			t.Fatalf("%d actors, %d expected answers", len(actors), len(want))
		}
		for _, op := range ops {
			for _, a := range actors {
				if got := testkit.Outcome(s.Try(a.Ctx, op.run)); got != want[a.Name] {
					t.Errorf("%s by %s: %s, want %s", op.name, a.Name, got, want[a.Name])
				}
			}
		}
		if n := testkit.Count(s, s.DB.Client.MatchRun.Query()); n != 1 {
			t.Errorf("%d runs after the table, want 1", n)
		}
	})
}

// placementFields are the fields a published placement is created with (those publishing
// sets and the defaults), as its audit row names them.
const placementFields = "application_id,call_id,end_date,evaluation,from_waitlist,host_centre_id,offer_deadline,report,run_id,sequence,slot_id,start_date,status,status_reason,trainee_id"

// TestPublishedPlacementsNameTheStaffMember: publishing creates every placement as the
// staff member who publishes, so each placement's audit row names them (recorded in bulk,
// the rows sharing one details value), with the fields it set, and the hash chain through
// them verifies.
func TestPublishedPlacementsNameTheStaffMember(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		r := testkit.MustRankedCall(t, s, w)
		ps := testkit.MustPublish(t, s, w, testkit.MustStartRun(t, s, w, r.Call, false))
		if len(ps) != 2 {
			t.Fatalf("%d placements, want 2", len(ps))
		}
		for _, p := range ps {
			evs, err := s.DB.Client.AuditEvent.Query().Where(auditevent.ObjectType("Placement"), auditevent.ObjectID(string(p.ID))).All(s.System())
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Action != "placement.create" || evs[0].ActorID != string(w.Staff.ID) || evs[0].ActorEmail != w.Staff.Email {
				t.Fatalf("audit of placement %s: %+v, want one placement.create by %s", p.ID, evs, w.Staff.ID)
			}
			if f, _ := evs[0].Details["fields"].(string); f != placementFields {
				t.Errorf("audit of placement %s: fields %q, want %q", p.ID, f, placementFields)
			}
		}
		if rep, err := audit.Verify(s.System(), s.DB.Client, nil); err != nil || rep.Broken != nil || rep.Events == 0 {
			t.Errorf("verify after publishing: %+v %v", rep, err)
		}
	})
}
