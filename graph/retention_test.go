package graph_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestRetainedCallStillReads: a published match whose unmatched applicant's application
// was deleted by the retention rule still reads over HTTP, as staff: the run's statistics
// are unchanged, the deleted application drops out of its lists, and the call's total is
// applications left plus applicationsDeleted. The applicant got the warning email over
// SMTP a month before.
func TestRetainedCallStillReads(t *testing.T) {
	testkit.EachEnv(t, func(t *testing.T, e *testkit.Env) {
		r := newRankedCall(t, e)
		staff := e.SignIn("office@coalition.test")
		var started struct {
			StartMatchRun struct {
				MatchRun   *runOut
				UserErrors []userErr
			}
		}
		staff.MustDo(startRunM, map[string]any{"in": map[string]any{"callId": r.call, "dryRun": false}}, &started)
		if started.StartMatchRun.MatchRun == nil {
			t.Fatalf("run: %+v", started.StartMatchRun.UserErrors)
		}
		run := *started.StartMatchRun.MatchRun
		if p := amutate(t, staff, publishRunM, map[string]any{"id": run.ID}); len(p.UserErrors) > 0 {
			t.Fatalf("publish: %+v", p.UserErrors)
		}
		ended := time.Date(2027, 7, 1, 8, 0, 0, 0, time.UTC)
		e.Clock.Set(ended)
		staff = e.SignIn("office@coalition.test") // sessions expire while the clock moves on
		pmust(t, staff, completeM, map[string]any{"id": r.call})

		e.DrainOutbox()
		seen := len(e.SMTP.Messages())
		due := ended.AddDate(1, 0, 0)
		for _, at := range []time.Time{due.AddDate(0, -1, 0), due} {
			e.Clock.Set(at)
			if _, err := e.App.Programme.ApplyRetention(e.System()); err != nil {
				t.Fatal(err)
			}
		}
		e.DrainOutbox()
		var warned []string
		for _, m := range e.SMTP.Messages()[seen:] {
			if strings.Contains(m.Header.Get("Subject"), "will be deleted on 2028-07-01") {
				warned = append(warned, m.To...)
				if !strings.Contains(m.TextBody(), "requestDataExport") {
					t.Errorf("the warning does not say how to get a copy:\n%s", m.TextBody())
				}
			}
		}
		if !slices.Equal(warned, []string{"marek.dvorak@example.cz"}) {
			t.Errorf("warned %v, want Marek (unmatched) only", warned)
		}

		staff = e.SignIn("office@coalition.test")
		var got struct {
			Node struct {
				ApplicationsDeleted int
				Applications        struct{ TotalCount int }
			}
		}
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on Call { applicationsDeleted applications(first: 10) { totalCount } } } }`,
			map[string]any{"id": r.call}, &got)
		if got.Node.ApplicationsDeleted != 1 || got.Node.Applications.TotalCount != 2 {
			t.Errorf("applicationsDeleted %d, totalCount %d; want 1 and 2", got.Node.ApplicationsDeleted, got.Node.Applications.TotalCount)
		}
		var rn struct{ Node runOut }
		staff.MustDo(`query($id: ID!) { node(id: $id) { ... on MatchRun { `+runFields+` } } }`, map[string]any{"id": run.ID}, &rn)
		after := rn.Node
		if s := after.summary(r.name); !slices.Equal(s, []string{"Lyon: Ioana", "Musterstadt: Aoife", "unmatched: "}) {
			t.Errorf("the run after retention: %v", s)
		}
		if after.Stats.MatchRate != run.Stats.MatchRate || after.Matched != run.Matched || after.Trainees != run.Trainees {
			t.Errorf("the run's figures changed: %+v, were %+v", after, run)
		}
	})
}
