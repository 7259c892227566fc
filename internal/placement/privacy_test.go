package placement_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	entplacement "github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/internal/placement"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestErasePlacements erases Marek Novák after the pilot call's match: his offer at
// Musterstadt is cancelled and keeps no report, evaluation or reason; his near-namesake
// Marek Novak's completed placement (with report and evaluation) and Ioana's offer are
// untouched; Marek's export holds nothing personal afterwards. The match run, which holds
// ids only, is unchanged.
func TestErasePlacements(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w, twin := testkit.MustTwins(t, s)
		sys, c := s.System(), s.DB.Client
		r := testkit.MustRankedCall(t, s, w)
		run := testkit.MustStartRun(t, s, w, r.Call, false)
		placed := testkit.MustPublish(t, s, w, run)
		marek, ioana := placed[r.Marek.ID], placed[r.Ioana.ID]
		if marek == nil || ioana == nil || marek.Status != entplacement.StatusOFFERED {
			t.Fatalf("the match placed %v", placed)
		}
		testkit.MustOK(t, c.Placement.UpdateOneID(marek.ID).SetReport("Marek Novák's report: I learnt a lot.").
			SetEvaluation("Marek Novák was attentive.").SetStatusReason("Marek Novák asked for a later start").Exec(sys))
		twinApp, err := c.Application.Create().SetCallID(r.Call.ID).SetTraineeID(twin.ID).SetStatus(application.StatusELIGIBLE).
			SetMotivation("Twin's motivation").Save(sys)
		testkit.MustOK(t, err)
		twinPl, err := c.Placement.Create().SetCallID(r.Call.ID).SetSlotID(r.SlotA.ID).SetHostCentreID(w.CentreA.ID).
			SetApplicationID(twinApp.ID).SetTraineeID(twin.ID).SetStatus(entplacement.StatusCOMPLETED).
			SetStartDate("2027-04-12").SetEndDate("2027-04-23").SetOfferDeadline(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)).
			SetReport("Marek Novak's report").SetEvaluation("Marek Novak was punctual.").Save(sys)
		testkit.MustOK(t, err)
		run, err = c.MatchRun.Get(sys, run.ID)
		testkit.MustOK(t, err)
		testkit.MustContain(t, "Marek's export before erasure", testkit.ExportJSON(t, s, placement.PrivacyDomain{}, w.Trainee), "I learnt a lot")

		// Without the service the host could not be told: the erasure refuses (and rolls back).
		if err := s.Try(s.System(), func(ctx context.Context, tx *ent.Client) error {
			_, err := placement.PrivacyDomain{}.Erase(ctx, tx, testkit.PersonOf(w.Trainee))
			return err
		}); err == nil || !strings.Contains(err.Error(), "tell the host") {
			t.Errorf("erasing an offer without the placement service: %v", err)
		}
		erased := testkit.MustErase(t, s, placement.PrivacyDomain{Service: s.Placement}, w.Trainee)
		if erased.Rows != 1 || len(erased.Documents) != 0 {
			t.Errorf("erased = %+v, want 1 row", erased)
		}

		got, err := c.Placement.Get(sys, marek.ID)
		testkit.MustOK(t, err)
		if got.Status != entplacement.StatusCANCELLED || got.Report != "" || got.Evaluation != "" || got.StatusReason != "" ||
			got.SlotID != marek.SlotID || got.StartDate != marek.StartDate {
			t.Errorf("Marek's placement after erasure: %+v", got)
		}
		tw, err := c.Placement.Get(sys, twinPl.ID)
		testkit.MustOK(t, err)
		if tw.Status != entplacement.StatusCOMPLETED || tw.Report != "Marek Novak's report" || tw.Evaluation != "Marek Novak was punctual." {
			t.Errorf("the twin's placement after erasure: %+v", tw)
		}
		io, err := c.Placement.Get(sys, ioana.ID)
		if err != nil || io.Status != ioana.Status || !io.UpdatedAt.Equal(ioana.UpdatedAt) {
			t.Errorf("Ioana's placement changed: %+v, %v", io, err)
		}
		if after, err := c.MatchRun.Get(sys, run.ID); err != nil || !after.UpdatedAt.Equal(run.UpdatedAt) || after.Matched != run.Matched {
			t.Errorf("the match run changed: %+v, %v", after, err)
		}

		after := testkit.ExportJSON(t, s, placement.PrivacyDomain{}, w.Trainee)
		testkit.MustNotContain(t, "Marek's export after erasure", after, "Marek", "learnt", "attentive", "later start")
		testkit.MustContain(t, "Marek's export after erasure (the anonymised placement)", after, `"status":"CANCELLED"`)
		testkit.MustContain(t, "the twin's export after erasure", testkit.ExportJSON(t, s, placement.PrivacyDomain{}, twin), "Marek Novak's report")
	})
}
