package privacy_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/erasurerequest"
	"github.com/gocart-coalition/coalition/ent/matchoverride"
	"github.com/gocart-coalition/coalition/ent/matchrun"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/statementsignoff"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/groups"
	"github.com/gocart-coalition/coalition/internal/matching"
	"github.com/gocart-coalition/coalition/internal/privacy"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/statements"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestNamingFindsEveryCaseVariant: the SQL first pass of the redaction selects every row
// Redact would change, in any case (upper case with diacritics too, which SQLite's LIKE
// and lower() do not fold, and a name without Latin letters), on both dialects; a row
// naming nobody is not selected.
func TestNamingFindsEveryCaseVariant(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		c := d.Client
		sys := testkit.NewServices(t, d).System()
		values := []string{"Marek Novák", "marek.novak@fnbrno.example.cz", "Ελένη Παπαδοπούλου"}
		texts := map[string]bool{ // text → Redact changes it
			"Chaired by MAREK NOVÁK.":                     true,
			"chaired by marek novák":                      true,
			"Write to MAREK.NOVAK@FNBRNO.EXAMPLE.CZ.":     true,
			"Με την ΕΛΈΝΗ ΠΑΠΑΔΟΠΟΎΛΟΥ.":                  true,
			"Με την Ελένη Παπαδοπούλου.":                  true,
			"Chaired by Marek Nováková.":                  false,
			"Chaired by someone else; 100% of the votes.": false,
		}
		ids := map[string]string{}
		i := 0
		for text := range texts {
			i++
			g, err := c.WorkingGroup.Create().SetName("Group " + string(rune('A'+i))).
				SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).SetPurpose(text).Save(sys)
			if err != nil {
				t.Fatal(err)
			}
			ids[string(g.ID)] = text
		}
		found, err := c.WorkingGroup.Query().Where(privacy.Naming[predicate.WorkingGroup](values, workinggroup.FieldPurpose)).All(sys)
		if err != nil {
			t.Fatal(err)
		}
		selected := map[string]bool{}
		for _, g := range found {
			selected[g.Purpose] = true
		}
		for text, changes := range texts {
			if _, got := privacy.Redact(text, values); got != changes {
				t.Errorf("Redact(%q) changed %v, want %v", text, got, changes)
			}
			if changes && !selected[text] {
				t.Errorf("Naming missed %q", text)
			}
		}
		if selected["Chaired by someone else; 100% of the votes."] {
			t.Errorf("Naming selected a text naming nobody")
		}
		if n, err := c.WorkingGroup.Query().Where(privacy.Naming[predicate.WorkingGroup](nil, workinggroup.FieldPurpose)).Count(sys); err != nil || n != 0 {
			t.Errorf("Naming without values selected %d rows, %v", n, err)
		}
	})
}

// TestErasureRedactsTextWrittenByOthers: other people's text naming Marek Novák (once in
// upper case with diacritics, once by his address) is kept with his name replaced by
// [erased] after his erasure (through the app's registry and job), while the
// near-namesake "Marek Nováková" stays: a staff member's match-override reason and its
// copy frozen in a match run (whose hash is recomputed), a colleague's membership end
// reason, the drafts of a statement never published and a sign-off comment on one, a
// slot's note and withdrawal reason, a call's description, another applicant's
// motivation and a reviewer's conflict reason.
func TestErasureRedactsTextWrittenByOthers(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		s := erasureServices(t, d)
		w := testkit.NewWorld(t, s)
		c := s.DB.Client
		sys := s.System()
		const namesake = "Marek Nováková"
		staff := s.As(w.Staff)
		ranked := testkit.MustRankedCall(t, s, w)

		// A staff member pins Ioana with a reason naming Marek; a real run copies it.
		var ov *ent.MatchOverride
		testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) (err error) {
			ov, err = s.MatchRuns.SetOverride(ctx, tx, ranked.Call.ID, ranked.Ioana.ID, ranked.SlotA.ID, matchoverride.KindPIN,
				"Agreed with MAREK NOVÁK by phone; "+namesake+" agrees.")
			return err
		})
		run := testkit.MustStartRun(t, s, w, ranked.Call, false)

		// A colleague's membership, ended early with a reason naming Marek.
		g, err := c.WorkingGroup.Create().SetName("Pharmacist Working Group").SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		colleague, err := c.Membership.Create().SetGroupID(g.ID).SetUserID(w.OtherTrainee.ID).SetRole(membership.RoleMEMBER).
			SetTermStart("2027-01-01").SetTermEnd("2028-12-31").SetAnswer(membership.AnswerACCEPTED).Save(sys)
		if err != nil {
			t.Fatal(err)
		}
		testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) (err error) {
			colleague, err = s.WorkingGroups.End(ctx, tx, groups.EndInput{ID: colleague.ID, LastDay: "2027-03-31",
				Reason: "Handed over to marek novák; " + namesake + " stays."})
			return err
		})

		// A statement never published: two drafts naming Marek, and a sign-off comment.
		var st *ent.PolicyStatement
		testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) (err error) {
			st, err = s.Statements.Open(ctx, tx, statements.OpenInput{Slug: "access-2027", Topics: []string{"access"},
				AuthorIDs: []pulid.ID{w.Host.ID},
				Text: statements.Text{Title: "Access to CAR-T, with Marek Novák", Summary: "Drafted by MAREK NOVÁK.",
					Body: "Ask Marek Novák or " + namesake + "."}})
			if err != nil {
				return err
			}
			st, err = s.Statements.Edit(ctx, tx, statements.EditInput{StatementID: st.ID, BaseRevisionID: *st.CurrentRevisionID,
				Text: statements.Text{Title: "Access to CAR-T, with Marek Novák", Summary: "Drafted by MAREK NOVÁK.",
					Body: "Write to marek.novak@fnbrno.example.cz or " + namesake + "."}})
			return err
		})
		cur, err := c.StatementRevision.Get(sys, *st.CurrentRevisionID)
		if err != nil {
			t.Fatal(err)
		}
		so, err := c.StatementSignoff.Create().SetStatementID(st.ID).SetRevisionID(cur.ID).SetRevisionHash(cur.Hash).
			SetOrganisationID(w.Brno.ID).SetUserID(w.OtherTrainee.ID).SetDecision(statementsignoff.DecisionAPPROVE).
			SetComment("Checked with MAREK NOVÁK.").SetSignedAt(s.Clock.Now()).Save(sys)
		if err != nil {
			t.Fatal(err)
		}

		// A call in preparation whose description names Marek, with a slot whose note
		// names him, withdrawn by its coordinator with a reason naming him.
		in := testkit.PilotCall()
		title, desc := "Observership, Q3 2027", "Questions: MAREK NOVÁK or "+namesake+"."
		in.Title, in.Description = &title, &desc
		opens, closes, ranking := "2027-05-03T00:00", "2027-06-01T17:00", "2027-06-10T17:00"
		start, end := vocab.Date("2027-07-01"), vocab.Date("2027-10-29")
		in.Opens, in.Closes, in.RankingDeadline, in.PlacementStart, in.PlacementEnd = &opens, &closes, &ranking, &start, &end
		draft := testkit.MustCreateCall(t, s, w, in)
		var slot *ent.HostSlot
		note := "Week 1 with Marek Novák."
		testkit.MustDo(t, s, s.As(w.OtherHost), func(ctx context.Context, tx *ent.Client) (err error) {
			if slot, err = s.Programme.ProposeSlot(ctx, tx, programme.ProposeSlotInput{CallID: draft.ID, HostCentreID: w.CentreB.ID,
				StartDate: "2027-07-05", Weeks: 1, Capacity: 1, Note: &note}); err != nil {
				return err
			}
			slot, err = s.Programme.WithdrawSlot(ctx, tx, slot.ID, "MAREK NOVÁK cannot host; "+namesake+" can.")
			return err
		})

		// Text Ioana wrote in her application, and a reviewer's conflict reason about it,
		// naming Marek (written directly: the services allow them only earlier in the call).
		if err := c.Application.UpdateOneID(ranked.Ioana.ID).SetMotivation("I trained with MAREK NOVÁK and " + namesake + ".").Exec(sys); err != nil {
			t.Fatal(err)
		}
		rv, err := c.Review.Create().SetApplicationID(ranked.Ioana.ID).SetReviewerID(w.Staff.ID).SetConflict(true).
			SetConflictReason("I supervise Marek Novák, her referee.").Save(sys)
		if err != nil {
			t.Fatal(err)
		}

		// Marek is erased (he has an application in selection: staff approve).
		var req *ent.ErasureRequest
		testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) (err error) {
			req, err = s.Privacy.RequestErasure(ctx, tx, "")
			return err
		})
		if req.Status == erasurerequest.StatusPENDING {
			testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) (err error) {
				_, err = s.Privacy.ApproveErasure(ctx, tx, req.ID, "")
				return err
			})
		}
		if n, err := s.Privacy.RunErasures(sys); err != nil || n != 1 {
			t.Fatalf("erasure: %d erased, %v", n, err)
		}

		values := []string{"Marek Novák", "marek.novak@fnbrno.example.cz"}
		check := func(what, text string, withNamesake bool) {
			t.Helper()
			if _, named := privacy.Redact(text, values); named {
				t.Errorf("%s still names Marek: %q", what, text)
			}
			if !strings.Contains(text, privacy.ErasedText) {
				t.Errorf("%s has no %s: %q", what, privacy.ErasedText, text)
			}
			if withNamesake && !strings.Contains(text, namesake) {
				t.Errorf("%s lost the namesake: %q", what, text)
			}
		}
		ov2, err := c.MatchOverride.Get(sys, ov.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("the override's reason", ov2.Reason, true)
		run2, err := c.MatchRun.Query().Where(matchrun.ID(run.ID)).WithInput().Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(run2.Overrides) != 1 {
			t.Fatalf("run overrides: %+v", run2.Overrides)
		}
		check("the run's copy of the override", run2.Overrides[0].Reason, true)
		if h, err := matching.InputHash(run2.Edges.Input.Instance, run2.Pins, run2.Overrides, run2.Version); err != nil || h != run2.InputHash || h == run.InputHash {
			t.Errorf("run hash %s, recomputed %s (%v), before %s: want the hash of the stored input, changed", run2.InputHash, h, err, run.InputHash)
		}
		ioana, err := c.Application.Get(sys, ranked.Ioana.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("Ioana's motivation", ioana.Motivation, true)
		rv2, err := c.Review.Get(sys, rv.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("a review's conflict reason", rv2.ConflictReason, false)
		m, err := c.Membership.Get(sys, colleague.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("the colleague's end reason", m.EndReason, true)
		revs, err := c.StatementRevision.Query().All(sys)
		if err != nil || len(revs) != 2 {
			t.Fatalf("revisions: %d %v", len(revs), err)
		}
		for _, r := range revs {
			check("an unpublished revision's title", r.Title, false)
			check("an unpublished revision's summary", r.Summary, false)
			check("an unpublished revision's body", r.Body, true)
			if r.Hash != statements.Hash(statements.Text{Title: r.Title, Summary: r.Summary, Body: r.Body}) {
				t.Errorf("revision %d: hash %s is not its text's", r.Number, r.Hash)
			}
		}
		st2, err := c.PolicyStatement.Get(sys, st.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("the unpublished statement's title", st2.Title, false)
		check("the unpublished statement's summary", st2.Summary, false)
		so2, err := c.StatementSignoff.Get(sys, so.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("a colleague's sign-off comment", so2.Comment, false)
		if so2.RevisionHash != cur.Hash {
			t.Errorf("the sign-off's hash changed: it records the text signed")
		}
		sl, err := c.HostSlot.Get(sys, slot.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("the slot's note", sl.Note, false)
		check("the slot's withdrawal reason", sl.StatusReason, true)
		call, err := c.Call.Get(sys, draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		check("the call's description", call.Description, true)
		if call.Title != title {
			t.Errorf("the call's title changed: %q", call.Title)
		}
	})
}

// TestErasureKeepsARunPublishable: erasing someone named only in a match override's reason
// (Paul, a former coordinator, who is in no application) redacts the reason in the
// override and in the run's frozen copy, hashes the run again, and the run, whose input
// did not otherwise change, can still be published.
func TestErasureKeepsARunPublishable(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		s := erasureServices(t, d)
		w := testkit.NewWorld(t, s)
		c := s.DB.Client
		sys := s.System()
		ranked := testkit.MustRankedCall(t, s, w)
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			_, err = s.MatchRuns.SetOverride(ctx, tx, ranked.Call.ID, ranked.Ioana.ID, ranked.SlotA.ID, matchoverride.KindPIN,
				"PAUL ANCIEN vouched for her.")
			return err
		})
		run := testkit.MustStartRun(t, s, w, ranked.Call, false)
		testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			_, err = s.Privacy.RequestErasure(ctx, tx, w.FormerHost.ID)
			return err
		})
		if n, err := s.Privacy.RunErasures(sys); err != nil || n != 1 {
			t.Fatalf("erasure: %d erased, %v", n, err)
		}
		run2, err := c.MatchRun.Query().Where(matchrun.ID(run.ID)).WithInput().Only(sys)
		if err != nil {
			t.Fatal(err)
		}
		if len(run2.Overrides) != 1 || run2.Overrides[0].Reason != "[erased] vouched for her." || run2.InputHash == run.InputHash {
			t.Fatalf("run after the erasure: %+v, hash %s (before %s)", run2.Overrides, run2.InputHash, run.InputHash)
		}
		placements := testkit.MustPublish(t, s, w, run2)
		if placements[ranked.Ioana.ID] == nil || placements[ranked.Ioana.ID].SlotID != ranked.SlotA.ID {
			t.Fatalf("Ioana's placement: %+v", placements[ranked.Ioana.ID])
		}
	})
}
