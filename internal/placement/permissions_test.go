package placement_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestPlacementOperationsByRole decides every placement operation (service level) for
// every role, in the state where it can succeed, each cell in a transaction rolled back
// afterwards so every cell starts from the same rows. The placement is Ioana's (the
// trainee here; Marek is another trainee) at centre A, coordinated by the host and by the
// former host, whose HOST_COORDINATOR role was revoked. Someone who may not see the
// placement does not find it (NOT_FOUND); someone who sees it but whom the rule of
// internal/access/placements.go does not allow is FORBIDDEN.
func TestPlacementOperationsByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		p := publishPilot(t, s, w)
		id := p.ioana.ID
		actors := []testkit.Actor{
			{Name: "anonymous", Ctx: s.Anonymous()},
			{Name: "trainee", Ctx: s.As(w.OtherTrainee)},
			{Name: "other trainee", Ctx: s.As(w.Trainee)},
			{Name: "host", Ctx: s.As(w.Host)},
			{Name: "other host", Ctx: s.As(w.OtherHost)},
			{Name: "former host", Ctx: s.As(w.FormerHost)},
			{Name: "staff", Ctx: s.As(w.Staff)},
		}
		type op func(ctx context.Context, tx *ent.Client) error
		write := func(f func(ctx context.Context, tx *ent.Client) (*ent.Placement, error)) op {
			return func(ctx context.Context, tx *ent.Client) error { _, err := f(ctx, tx); return err }
		}
		// A read answers "value" or "nil".
		read := func(f func(ctx context.Context) (any, error)) op {
			return func(ctx context.Context, _ *ent.Client) error {
				v, err := f(ctx)
				if err == nil && v == nil {
					return errNil
				}
				return err
			}
		}
		reload := func() *ent.Placement {
			got, err := s.DB.Client.Placement.Get(s.System(), id)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		table := func(phase string, ops map[string]op, want map[string]map[string]string) {
			t.Helper()
			for name, run := range ops {
				for _, a := range actors {
					w, ok := want[name][a.Name]
					if !ok {
						t.Errorf("%s: %s by %s not decided in the table", phase, name, a.Name)
						continue
					}
					if got := outcome(s.Try(a.Ctx, run)); got != w {
						t.Errorf("%s: %s by %s: %s, want %s", phase, name, a.Name, got, w)
					}
				}
			}
		}
		const nf, no, un = "NOT_FOUND", "FORBIDDEN", "UNAUTHENTICATED"
		onlyTrainee := map[string]string{"anonymous": nf, "trainee": "ok", "other trainee": nf, "host": no, "other host": nf, "former host": nf, "staff": no}
		hostOrStaff := map[string]string{"anonymous": nf, "trainee": no, "other trainee": nf, "host": "ok", "other host": nf, "former host": nf, "staff": "ok"}
		onlyHost := map[string]string{"anonymous": nf, "trainee": no, "other trainee": nf, "host": "ok", "other host": nf, "former host": nf, "staff": no}
		staffOnly := map[string]string{"anonymous": un, "trainee": no, "other trainee": no, "host": no, "other host": no, "former host": no, "staff": "ok"}

		// OFFERED.
		table("offered", map[string]op{
			"accept": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.Accept(ctx, tx, id)
			}),
			"decline": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.Decline(ctx, tx, id, "Cannot travel.")
			}),
			"match outcome": read(func(ctx context.Context) (any, error) {
				o, err := s.MatchRuns.OutcomeOf(ctx, p.Ioana)
				if o == nil {
					return nil, err
				}
				return o, err
			}),
			"report": read(func(ctx context.Context) (any, error) { return nilIf(s.Placement.Report(ctx, reload())), nil }),
			"evaluation": read(func(ctx context.Context) (any, error) {
				e, err := s.Placement.Evaluation(ctx, reload())
				return nilIf(e), err
			}),
			"placementsCsv": read(func(ctx context.Context) (any, error) { return s.Placement.PlacementsCSV(ctx, p.Call) }),
			"placementsIcs": read(func(ctx context.Context) (any, error) { return s.Placement.PlacementsICS(ctx, p.Call) }),
		}, map[string]map[string]string{
			"accept": onlyTrainee, "decline": onlyTrainee,
			"match outcome": {"anonymous": "nil", "trainee": "ok", "other trainee": "nil", "host": "nil", "other host": "nil", "former host": "nil", "staff": "ok"},
			"report":        {"anonymous": "nil", "trainee": "ok", "other trainee": "nil", "host": "nil", "other host": "nil", "former host": "nil", "staff": "ok"},
			"evaluation":    {"anonymous": "nil", "trainee": "nil", "other trainee": "nil", "host": "ok", "other host": "nil", "former host": "nil", "staff": "ok"},
			"placementsCsv": staffOnly, "placementsIcs": staffOnly,
		})

		// ACCEPTED.
		s.Must(s.As(w.OtherTrainee), write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
			return s.Placement.Accept(ctx, tx, id)
		}))
		newStart := reload().StartDate.AddDays(7)
		table("accepted", map[string]op{
			"confirm": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.Confirm(ctx, tx, id)
			}),
			"cancel": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.Cancel(ctx, tx, id, "Unit closed.")
			}),
			"proposeDates": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.ProposeDates(ctx, tx, id, newStart)
			}),
			"give up": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.Decline(ctx, tx, id, "Ill.")
			}),
		}, map[string]map[string]string{"confirm": hostOrStaff, "cancel": hostOrStaff, "proposeDates": hostOrStaff, "give up": onlyTrainee})

		// Dates proposed.
		s.Must(s.As(w.Host), write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
			return s.Placement.ProposeDates(ctx, tx, id, newStart)
		}))
		table("dates proposed", map[string]op{
			"answerDateChange": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.AnswerDateChange(ctx, tx, id, true)
			}),
		}, map[string]map[string]string{"answerDateChange": onlyTrainee})

		// COMPLETED: confirmed, and its last day passed.
		s.Must(s.As(w.OtherTrainee), write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
			return s.Placement.AnswerDateChange(ctx, tx, id, false)
		}))
		s.Must(s.As(w.Host), write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
			return s.Placement.Confirm(ctx, tx, id)
		}))
		s.Clock.Set(reload().EndDate.Time().Add(36 * time.Hour))
		if _, err := s.Placement.Maintain(s.System()); err != nil {
			t.Fatal(err)
		}
		if got := reload().Status; got != placement.StatusCOMPLETED {
			t.Fatalf("after its last day: %s, want COMPLETED", got)
		}
		table("completed", map[string]op{
			"submitReport": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.SubmitReport(ctx, tx, id, "I learnt a lot.", false)
			}),
			"submitEvaluation": write(func(ctx context.Context, tx *ent.Client) (*ent.Placement, error) {
				return s.Placement.SubmitReport(ctx, tx, id, "Engaged and careful.", true)
			}),
		}, map[string]map[string]string{"submitReport": onlyTrainee, "submitEvaluation": onlyHost})
	})
}

var errNil = fmt.Errorf("nil")

// outcome is testkit.Outcome, with "nil" for a read that answered nothing.
func outcome(err error) string {
	if err == errNil {
		return "nil"
	}
	return testkit.Outcome(err)
}

// nilIf is nil for a nil *string, so a read that answers nothing reads "nil".
func nilIf(p *string) any {
	if p == nil {
		return nil
	}
	return p
}
