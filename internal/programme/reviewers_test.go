package programme_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/document"
	"github.com/gocart-coalition/coalition/ent/review"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// reviewWorld is the pilot call in REVIEW (clock: 16 February 2027) with Marek's (A, B) and
// Ioana's (A) eligible applications, Marek's with a CV, and a review committee of four
// physicians with no role: Rita and Otto are assigned Marek's application; Remy was too,
// then removed from the call; Rosa was, and declared a conflict with it. Otto scored it.
type reviewWorld struct {
	*testkit.World
	Call                             *ent.Call
	Marek, Ioana                     *ent.Application
	CV                               *ent.Document
	Rita, Otto, Remy, Rosa, Newcomer *ent.User
	Disabled                         *ent.User
}

func mustReviewWorld(t *testing.T, s *testkit.Services) *reviewWorld {
	t.Helper()
	w := testkit.NewWorld(t, s)
	o := testkit.MustOpenCall(t, s, w)
	rw := &reviewWorld{World: w, Call: o.Call}
	rw.Marek = testkit.MustApply(t, s, w.Trainee, testkit.CompleteDraft(o.Call, w.Brno, w.CentreA, w.CentreB), false)
	testkit.MustDo(t, s, s.As(w.Trainee), func(ctx context.Context, tx *ent.Client) (err error) {
		if rw.CV, err = s.Programme.UploadDocument(ctx, tx, rw.Marek.ID, vocab.DocumentCV, "cv.pdf", bytes.NewReader(testkit.PDF("cv"))); err != nil {
			return err
		}
		_, err = s.Programme.Submit(ctx, tx, rw.Marek.ID)
		return err
	})
	rw.Ioana = testkit.MustApply(t, s, w.OtherTrainee, testkit.CompleteDraft(o.Call, w.Bucharest, w.CentreA), true)
	rw.Rita = testkit.MustUser(t, s, "rita.reviewer@society.example", "Rita Reviewer")
	rw.Otto = testkit.MustUser(t, s, "otto.other@society.example", "Otto Other")
	rw.Remy = testkit.MustUser(t, s, "remy.removed@society.example", "Remy Removed")
	rw.Rosa = testkit.MustUser(t, s, "rosa.recused@society.example", "Rosa Recused")
	rw.Newcomer = testkit.MustUser(t, s, "nina.new@society.example", "Nina New")
	rw.Disabled = testkit.MustUser(t, s, "dora.disabled@society.example", "Dora Disabled")
	testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
		return tx.User.UpdateOne(rw.Disabled).SetDisabled(true).Exec(ctx)
	})
	s.Clock.Set(time.Date(2027, 2, 16, 9, 0, 0, 0, time.UTC))
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
		if rw.Call, err = s.Programme.CloseCall(ctx, tx, rw.Call.ID, false, ""); err != nil {
			return err
		}
		for _, a := range []*ent.Application{rw.Marek, rw.Ioana} {
			if _, err = s.Programme.DecideEligibility(ctx, tx, a.ID, true, ""); err != nil {
				return err
			}
		}
		if rw.Call, err = s.Programme.StartReview(ctx, tx, rw.Call.ID); err != nil {
			return err
		}
		for _, u := range []*ent.User{rw.Rita, rw.Otto, rw.Remy, rw.Rosa} {
			if _, err = s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, u.ID); err != nil {
				return err
			}
			if _, err = s.Programme.AssignReviews(ctx, tx, rw.Call.ID, u.ID, []pulid.ID{rw.Marek.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	testkit.MustDo(t, s, s.As(rw.Rosa), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Programme.DeclareConflict(ctx, tx, rw.Marek.ID, "She trained in my department.")
		return err
	})
	testkit.MustDo(t, s, s.As(rw.Otto), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Programme.Score(ctx, tx, rw.Marek.ID, fullScores(rw.Call, 4), "Solid.")
		return err
	})
	testkit.MustDo(t, s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
		_, err := s.Programme.RemoveReviewer(ctx, tx, rw.Call.ID, rw.Remy.ID)
		return err
	})
	return rw
}

// fullScores gives every criterion of c the score v.
func fullScores(c *ent.Call, v int) []programme.CriterionScore {
	out := make([]programme.CriterionScore, len(c.ReviewCriteria))
	for i, k := range c.ReviewCriteria {
		out[i] = programme.CriterionScore{Key: k.Key, Score: v}
	}
	return out
}

// actors of the review table: testkit.World.Actors and the committee.
func (rw *reviewWorld) actors(s *testkit.Services) []testkit.Actor {
	return append(rw.Actors(s),
		testkit.Actor{Name: "reviewer", Ctx: s.As(rw.Rita)},
		testkit.Actor{Name: "other reviewer", Ctx: s.As(rw.Otto)},
		testkit.Actor{Name: "removed reviewer", Ctx: s.As(rw.Remy)},
		testkit.Actor{Name: "recused reviewer", Ctx: s.As(rw.Rosa)},
	)
}

// rolledBack runs fn in a transaction as ctx's viewer and rolls it back, so every row of a
// table starts from the same data; it returns fn's outcome.
func rolledBack(t *testing.T, s *testkit.Services, ctx context.Context, fn func(ctx context.Context, tx *ent.Client) error) string {
	t.Helper()
	txCtx, _, err := s.DB.Client.OpenTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx := ent.TxFromContext(txCtx)
	defer func() { _ = tx.Rollback() }()
	err = fn(txCtx, tx.Client())
	if err == errNone {
		return "none"
	}
	return testkit.Outcome(err)
}

// TestReviewCommitteeByRole is the table of the review committee: every operation × every
// kind of caller → the outcome (ok, a coded error, or a user error code), on both dialects.
func TestReviewCommitteeByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		rw := mustReviewWorld(t, s)
		c := s.DB.Client
		count := func(n int, err error) error {
			if err == nil && n == 0 {
				return errNone
			}
			return err
		}
		ops := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want []string // in the order of rw.actors
		}{
			//                                                                   anon     trainee  o.trainee host     o.host   former   staff    reviewer o.rev.   removed  recused
			{"read Marek's application", func(ctx context.Context, _ *ent.Client) error {
				return count(c.Application.Query().Where(application.ID(rw.Marek.ID)).Count(ctx))
			}, []string{"none", "ok", "none", "ok", "ok", "none", "ok", "ok", "ok", "none", "none"}},
			{"read Ioana's application (not assigned)", func(ctx context.Context, _ *ent.Client) error {
				return count(c.Application.Query().Where(application.ID(rw.Ioana.ID)).Count(ctx))
			}, []string{"none", "none", "ok", "ok", "none", "none", "ok", "none", "none", "none", "none"}},
			{"read Marek's CV", func(ctx context.Context, _ *ent.Client) error {
				return count(c.Document.Query().Where(document.ID(rw.CV.ID)).Count(ctx))
			}, []string{"none", "ok", "none", "ok", "ok", "none", "ok", "ok", "ok", "none", "none"}},
			{"Marek's application in the call's review queue", func(ctx context.Context, _ *ent.Client) error {
				q, err := s.Programme.ReviewQueue(ctx, rw.Call)
				return count(len(q), err)
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "ok", "none", "FORBIDDEN", "none"}},
			{"read Otto's scores of Marek", func(ctx context.Context, _ *ent.Client) error {
				return count(c.Review.Query().Where(review.ReviewerID(rw.Otto.ID)).Count(ctx))
			}, []string{"none", "none", "none", "none", "none", "none", "ok", "none", "ok", "none", "none"}},
			{"Marek's aggregated score before publication", func(ctx context.Context, _ *ent.Client) error {
				sc, err := s.Programme.ApplicationScoreOf(ctx, rw.Marek)
				if err == nil && sc == nil {
					return errNone
				}
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
			{"review ranking before publication", func(ctx context.Context, _ *ent.Client) error {
				_, err := s.Programme.ReviewRanking(ctx, rw.Call)
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
			{"score Marek", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Score(ctx, tx, rw.Marek.ID, fullScores(rw.Call, 5), "")
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok", "FORBIDDEN", "NOT_FOUND"}},
			{"declare a conflict with Marek", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.DeclareConflict(ctx, tx, rw.Marek.ID, "We published together.")
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok", "FORBIDDEN", "NOT_FOUND"}},
			{"appoint a reviewer", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.Newcomer.ID)
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
			{"assign Ioana to Rita", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Rita.ID, []pulid.ID{rw.Ioana.ID})
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
			{"remove Otto", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RemoveReviewer(ctx, tx, rw.Call.ID, rw.Otto.ID)
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
			{"publish the aggregate", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.PublishReviewAggregate(ctx, tx, rw.Call.ID)
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN"}},
		}
		actors := rw.actors(s)
		for _, op := range ops {
			for i, a := range actors {
				got := rolledBack(t, s, a.Ctx, op.do)
				if got != op.want[i] {
					t.Errorf("%s as %s: %s, want %s", op.name, a.Name, got, op.want[i])
				}
			}
		}

		// Once staff publish the aggregate, the call's reviewers see it — of the
		// applications they still see — and nobody else does; scores are final.
		testkit.MustDo(t, s, s.As(rw.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.PublishReviewAggregate(ctx, tx, rw.Call.ID)
			return err
		})
		call, err := c.Call.Get(s.System(), rw.Call.ID)
		if err != nil {
			t.Fatal(err)
		}
		after := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want []string
		}{
			{"Marek's aggregated score after publication", func(ctx context.Context, _ *ent.Client) error {
				sc, err := s.Programme.ApplicationScoreOf(ctx, rw.Marek)
				if err == nil && sc == nil {
					return errNone
				}
				if err == nil && *sc != 4 {
					t.Errorf("aggregate %v, want 4", *sc)
				}
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok", "FORBIDDEN", "FORBIDDEN"}},
			{"review ranking after publication", func(ctx context.Context, _ *ent.Client) error {
				list, err := s.Programme.ReviewRanking(ctx, call)
				if err == nil && len(list) == 0 {
					return errNone
				}
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "ok", "ok", "ok", "FORBIDDEN", "none"}},
			{"score Marek after publication", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Score(ctx, tx, rw.Marek.ID, fullScores(rw.Call, 5), "")
				return err
			}, []string{"UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "INVALID_STATE", "INVALID_STATE", "INVALID_STATE", "FORBIDDEN", "NOT_FOUND"}},
		}
		for _, op := range after {
			for i, a := range actors {
				got := rolledBack(t, s, a.Ctx, op.do)
				if got != op.want[i] {
					t.Errorf("%s as %s: %s, want %s", op.name, a.Name, got, op.want[i])
				}
			}
		}
		// A reviewer's ranking shows only their applications, never another's scores.
		list, err := s.Programme.ReviewRanking(s.As(rw.Rita), call)
		if err != nil || len(list) != 1 || list[0].Application.ID != rw.Marek.ID || list[0].Rank == nil || *list[0].Rank != 1 {
			t.Errorf("Rita's ranking: %+v, %v; want Marek alone, first", list, err)
		}
	})
}

// errNone stands for "nothing visible" in the table.
var errNone = noneError{}

type noneError struct{}

func (noneError) Error() string { return "none" }

// TestReviewCommitteeInputs: the coded refusals of bad input.
func TestReviewCommitteeInputs(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		rw := mustReviewWorld(t, s)
		staff := s.As(rw.Staff)
		cases := []struct {
			name string
			do   func(ctx context.Context, tx *ent.Client) error
			want string
		}{
			{"appoint a disabled account", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.Disabled.ID)
				return err
			}, "INVALID"},
			{"appoint someone twice", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.Rita.ID)
				return err
			}, "TAKEN"},
			{"appoint in an unknown call", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AppointReviewer(ctx, tx, "cal_nope", rw.Newcomer.ID)
				return err
			}, "NOT_FOUND"},
			{"assign to a person who is not a reviewer", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Newcomer.ID, []pulid.ID{rw.Ioana.ID})
				return err
			}, "INVALID"},
			{"assign to a removed reviewer", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Remy.ID, []pulid.ID{rw.Ioana.ID})
				return err
			}, "INVALID"},
			{"assign the applicant their own application", func(ctx context.Context, tx *ent.Client) error {
				if _, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.Trainee.ID); err != nil {
					return err
				}
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Trainee.ID, []pulid.ID{rw.Marek.ID})
				return err
			}, "CONFLICT_OF_INTEREST"},
			{"assign the coordinator of a centre the application lists", func(ctx context.Context, tx *ent.Client) error {
				if _, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.OtherHost.ID); err != nil {
					return err
				}
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.OtherHost.ID, []pulid.ID{rw.Marek.ID})
				return err
			}, "CONFLICT_OF_INTEREST"},
			{"assign a recused reviewer again", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Rosa.ID, []pulid.ID{rw.Marek.ID})
				return err
			}, "CONFLICT_OF_INTEREST"},
			{"assign an unknown application", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Rita.ID, []pulid.ID{"app_nope"})
				return err
			}, "NOT_FOUND"},
			{"assign again (kept as it is)", func(ctx context.Context, tx *ent.Client) error {
				as, err := s.Programme.AssignReviews(ctx, tx, rw.Call.ID, rw.Rita.ID, []pulid.ID{rw.Marek.ID, rw.Marek.ID})
				if err == nil && len(as) != 1 {
					t.Errorf("assignments after assigning again: %d, want 1", len(as))
				}
				return err
			}, "ok"},
			{"remove a person who is not a reviewer", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RemoveReviewer(ctx, tx, rw.Call.ID, rw.Newcomer.ID)
				return err
			}, "NOT_FOUND"},
		}
		for _, c := range cases {
			if got := rolledBack(t, s, staff, c.do); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		scoreAs := func(u *ent.User, scores []programme.CriterionScore) string {
			return rolledBack(t, s, s.As(u), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.Score(ctx, tx, rw.Marek.ID, scores, "")
				return err
			})
		}
		if got := scoreAs(rw.Rita, fullScores(rw.Call, 6)); got != "INVALID" {
			t.Errorf("score 6: %s, want INVALID", got)
		}
		if got := scoreAs(rw.Rita, fullScores(rw.Call, 0)); got != "INVALID" {
			t.Errorf("score 0: %s, want INVALID", got)
		}
		// Ranking moves the call out of REVIEW: no more scores.
		testkit.MustStep(t, s, rw.World, rw.Call, s.Programme.StartRanking)
		if got := scoreAs(rw.Rita, fullScores(rw.Call, 3)); got != "INVALID_STATE" {
			t.Errorf("score in RANKING: %s, want INVALID_STATE", got)
		}
		if got := rolledBack(t, s, staff, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.AppointReviewer(ctx, tx, rw.Call.ID, rw.Newcomer.ID)
			return err
		}); got != "INVALID_STATE" {
			t.Errorf("appoint in RANKING: %s, want INVALID_STATE", got)
		}
		// The emails: one per appointment and one per assignment batch.
		if got := mailCount(s, "review_committee"); got != 8 {
			t.Errorf("review_committee emails: %d, want 8", got)
		}
	})
}

// TestDecideReview is the review steps' table, decided for every status and event.
func TestDecideReview(t *testing.T) {
	allowed := map[programme.ReviewEvent][]string{
		programme.ReviewAppoint: {"DRAFT", "OPEN", "CLOSED", "REVIEW"},
		programme.ReviewRemove:  {"DRAFT", "OPEN", "CLOSED", "REVIEW", "RANKING", "MATCHED", "COMPLETED", "CANCELLED"},
		programme.ReviewAssign:  {"CLOSED", "REVIEW"},
		programme.ReviewScore:   {"REVIEW"},
		programme.ReviewRecuse:  {"REVIEW"},
		programme.ReviewPublish: {"REVIEW", "RANKING"},
	}
	for _, ev := range programme.ReviewEvents {
		for _, st := range programme.CallStatuses {
			for _, published := range []bool{false, true} {
				err := programme.DecideReview(st, ev, programme.ReviewFacts{Published: published})
				want := contains(allowed[ev], string(st)) && (!published || ev == programme.ReviewAppoint || ev == programme.ReviewRemove)
				if got := err == nil; got != want {
					t.Errorf("%s in %s (published %v): allowed %v (%v), want %v", ev, st, published, got, err, want)
				}
				if err != nil && testkit.Outcome(err) != "INVALID_STATE" {
					t.Errorf("%s in %s: refusal %s, want INVALID_STATE", ev, st, testkit.Outcome(err))
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
