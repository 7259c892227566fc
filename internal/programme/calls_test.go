package programme_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/call"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// callStatus reads a call's status as the system.
func callStatus(t *testing.T, s *testkit.Services, id pulid.ID) call.Status {
	t.Helper()
	c, err := s.DB.Client.Call.Get(s.System(), id)
	if err != nil {
		t.Fatalf("load call: %v", err)
	}
	return c.Status
}

func TestCallLifecycle(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		staff := s.As(w.Staff)
		c := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		if c.Status != call.StatusDRAFT || c.MaxPreferences != programme.DefaultMaxPreferences || !c.OnePlacementPerTrainee {
			t.Fatalf("created %s with max preferences %d, one placement %v; want DRAFT with the defaults", c.Status, c.MaxPreferences, c.OnePlacementPerTrainee)
		}
		if got := programme.LocalTime(c, c.ClosesAt); got != "2027-02-15T17:00" {
			t.Errorf("deadline in the call's zone = %s, want 2027-02-15T17:00", got)
		}

		// A draft without an approved slot does not open.
		step := func(f func(context.Context, *ent.Client, pulid.ID) (*ent.Call, error)) string {
			return testkit.Outcome(s.Do(staff, func(ctx context.Context, tx *ent.Client) error { _, err := f(ctx, tx, c.ID); return err }))
		}
		if got := step(s.Programme.OpenCall); got != "INVALID_STATE" {
			t.Fatalf("open without slots: %s, want INVALID_STATE", got)
		}
		testkit.MustSlot(t, s, w, w.Host, c, w.CentreA, "2027-04-12", 2, 1, true)

		// Every step from the wrong state is refused and changes nothing.
		for _, f := range []func(context.Context, *ent.Client, pulid.ID) (*ent.Call, error){
			s.Programme.StartReview, s.Programme.StartRanking, s.Programme.CompleteCall,
		} {
			if got := step(f); got != "INVALID_STATE" || callStatus(t, s, c.ID) != call.StatusDRAFT {
				t.Fatalf("a later step on a draft: %s, status %s; want INVALID_STATE, DRAFT", got, callStatus(t, s, c.ID))
			}
		}
		for _, want := range []struct {
			name string
			f    func(context.Context, *ent.Client, pulid.ID) (*ent.Call, error)
			to   call.Status
		}{
			{"open", s.Programme.OpenCall, call.StatusOPEN},
		} {
			if got := step(want.f); got != "ok" || callStatus(t, s, c.ID) != want.to {
				t.Fatalf("%s: %s, status %s; want ok, %s", want.name, got, callStatus(t, s, c.ID), want.to)
			}
		}

		// Closing before the deadline needs force and a reason.
		closeCall := func(force bool, reason string) string {
			return testkit.Outcome(s.Do(staff, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CloseCall(ctx, tx, c.ID, force, reason)
				return err
			}))
		}
		if got := closeCall(false, ""); got != "INVALID" {
			t.Errorf("close early without force: %s, want INVALID", got)
		}
		if got := closeCall(true, "  "); got != "REQUIRED" {
			t.Errorf("close early without a reason: %s, want REQUIRED", got)
		}
		if callStatus(t, s, c.ID) != call.StatusOPEN {
			t.Fatalf("refused closes changed the call to %s", callStatus(t, s, c.ID))
		}
		s.Clock.Set(time.Date(2027, 2, 15, 16, 0, 0, 0, time.UTC)) // 17:00 in Brussels: the deadline
		if got := closeCall(false, ""); got != "ok" {
			t.Fatalf("close at the deadline: %s", got)
		}
		for _, want := range []struct {
			f  func(context.Context, *ent.Client, pulid.ID) (*ent.Call, error)
			to call.Status
		}{
			{s.Programme.StartReview, call.StatusREVIEW},
			{s.Programme.StartRanking, call.StatusRANKING},
		} {
			if got := step(want.f); got != "ok" || callStatus(t, s, c.ID) != want.to {
				t.Fatalf("step to %s: %s, status %s", want.to, got, callStatus(t, s, c.ID))
			}
		}

		// Cancelling needs a reason; a cancelled call moves no more.
		cancel := func(reason string) string {
			return testkit.Outcome(s.Do(staff, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CancelCall(ctx, tx, c.ID, reason)
				return err
			}))
		}
		if got := cancel(""); got != "REQUIRED" || callStatus(t, s, c.ID) != call.StatusRANKING {
			t.Fatalf("cancel without a reason: %s, status %s", got, callStatus(t, s, c.ID))
		}
		if got := cancel("Funding withdrawn."); got != "ok" || callStatus(t, s, c.ID) != call.StatusCANCELLED {
			t.Fatalf("cancel: %s, status %s", got, callStatus(t, s, c.ID))
		}
		if got := cancel("Again."); got != "INVALID_STATE" {
			t.Errorf("cancel a cancelled call: %s, want INVALID_STATE", got)
		}
		var unchanged error
		unchanged = s.Do(staff, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.UpdateCall(ctx, tx, c.ID, programme.CallInput{Description: ptr("Changed.")})
			return err
		})
		if got := testkit.Outcome(unchanged); got != "INVALID_STATE" {
			t.Errorf("update a cancelled call: %s, want INVALID_STATE", got)
		}
	})
}

func TestCreateCallRefusesBadInputAndWritesNothing(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		tests := []struct {
			name   string
			change func(*programme.CallInput)
			want   string // outcome
			field  string // the first error's field
		}{
			{"no title", func(in *programme.CallInput) { in.Title = nil }, "REQUIRED", "input.title"},
			{"title of two lines", func(in *programme.CallInput) { in.Title = ptr("Pilot\ncall") }, "INVALID", "input.title"},
			{"title too long", func(in *programme.CallInput) { in.Title = ptr(strings.Repeat("x", 201)) }, "TOO_LONG", "input.title"},
			{"unknown zone", func(in *programme.CallInput) { in.TimeZone = ptr("Europe/Atlantis") }, "INVALID", "input.timeZone"},
			{"closes before it opens", func(in *programme.CallInput) { in.Closes = ptr("2027-01-11T17:00") }, "INVALID", "input.closes"},
			{"deadline in the past", func(in *programme.CallInput) {
				in.Opens, in.Closes = ptr("2027-01-01T00:00"), ptr("2027-01-12T09:00")
			}, "INVALID", "input.closes"},
			{"a skipped local time", func(in *programme.CallInput) { in.Closes = ptr("2027-03-28T02:30") }, "INVALID", "input.closes"},
			{"window ends before it starts", func(in *programme.CallInput) { in.PlacementEnd = ptr(vocab.Date("2027-02-28")) }, "INVALID", "input.placementEnd"},
			{"window over a year", func(in *programme.CallInput) { in.PlacementEnd = ptr(vocab.Date("2028-06-30")) }, "INVALID", "input.placementEnd"},
			{"placements before the deadline", func(in *programme.CallInput) { in.PlacementStart = ptr(vocab.Date("2027-02-01")) }, "INVALID", "input.placementStart"},
			{"three-week placements", func(in *programme.CallInput) { in.PlacementWeeks = []int{3} }, "INVALID", "input.placementWeeks"},
			{"no countries", func(in *programme.CallInput) { in.EligibleCountries = []string{} }, "REQUIRED", "input.eligibleCountries"},
			{"a country twice", func(in *programme.CallInput) { in.EligibleCountries = []string{"CZ", "CZ"} }, "INVALID", "input.eligibleCountries.1"},
			{"not a country", func(in *programme.CallInput) { in.EligibleCountries = []string{"XX"} }, "INVALID", "input.eligibleCountries.0"},
			{"no funded places", func(in *programme.CallInput) { in.FundedPlaces = nil }, "REQUIRED", "input.fundedPlaces"},
			{"negative funded places", func(in *programme.CallInput) { in.FundedPlaces = ptr(-1) }, "INVALID", "input.fundedPlaces"},
			{"eleven preferences", func(in *programme.CallInput) { in.MaxPreferences = ptr(11) }, "INVALID", "input.maxPreferences"},
			{"referee letter as a document", func(in *programme.CallInput) {
				in.RequiredDocuments = []vocab.DocumentKind{vocab.DocumentRefereeLetter}
			}, "INVALID", "input.requiredDocuments.0"},
			{"four referee letters", func(in *programme.CallInput) { in.RefereeLetters = ptr(4) }, "INVALID", "input.refereeLetters"},
			{"no criteria", func(in *programme.CallInput) { in.ReviewCriteria = []vocab.Criterion{} }, "REQUIRED", "input.reviewCriteria"},
			{"a criterion key twice", func(in *programme.CallInput) {
				in.ReviewCriteria = []vocab.Criterion{{Key: "fit", Name: "Fit", Weight: 1}, {Key: "fit", Name: "Fit again", Weight: 1}}
			}, "INVALID", "input.reviewCriteria.1.key"},
			{"a weight of zero", func(in *programme.CallInput) {
				in.ReviewCriteria = []vocab.Criterion{{Key: "fit", Name: "Fit", Weight: 0}}
			}, "INVALID", "input.reviewCriteria.0.weight"},
			{"offer window of a month and a day", func(in *programme.CallInput) { in.OfferResponseHours = ptr(721) }, "INVALID", "input.offerResponseHours"},
			{"ranking due before the deadline", func(in *programme.CallInput) { in.RankingDeadline = ptr("2027-02-14T17:00") }, "INVALID", "input.rankingDeadline"},
			{"ranking due in the window", func(in *programme.CallInput) { in.RankingDeadline = ptr("2027-03-02T17:00") }, "INVALID", "input.rankingDeadline"},
		}
		for _, tc := range tests {
			in := testkit.PilotCall()
			tc.change(&in)
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CreateCall(ctx, tx, in)
				return err
			})
			if got := testkit.Outcome(err); got != tc.want {
				t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
				continue
			}
			if got := firstField(err); got != tc.field {
				t.Errorf("%s: error on %s, want %s", tc.name, got, tc.field)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Call.Query()); n != 0 {
			t.Errorf("refused creates wrote %d calls", n)
		}
	})
}

func TestUpdateCallAfterOpeningChangesOnlyWhatIsAhead(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		o := testkit.MustOpenCall(t, s, w)
		update := func(in programme.CallInput) (*ent.Call, error) {
			var c *ent.Call
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
				c, err = s.Programme.UpdateCall(ctx, tx, o.Call.ID, in)
				return err
			})
			return c, err
		}
		for _, tc := range []struct {
			name string
			in   programme.CallInput
			want string
		}{
			{"the title", programme.CallInput{Title: ptr("Renamed")}, "INVALID_STATE"},
			{"funded places", programme.CallInput{FundedPlaces: ptr(7)}, "INVALID_STATE"},
			{"the deadline earlier", programme.CallInput{Closes: ptr("2027-02-10T17:00")}, "INVALID"},
		} {
			if _, err := update(tc.in); testkit.Outcome(err) != tc.want {
				t.Errorf("change %s of an open call: %s, want %s", tc.name, testkit.Outcome(err), tc.want)
			}
		}
		c, err := update(programme.CallInput{Description: ptr("Now with **more** detail."), Closes: ptr("2027-02-18T17:00")})
		if err != nil {
			t.Fatalf("move the deadline later: %v", err)
		}
		if programme.LocalTime(c, c.ClosesAt) != "2027-02-18T17:00" || c.Title != "Observership pilot, Q1 2027" || c.FundedPlaces != 6 {
			t.Errorf("after update: closes %s, title %q, funded %d", programme.LocalTime(c, c.ClosesAt), c.Title, c.FundedPlaces)
		}
		// Once the deadline has passed it stays where it is.
		s.Clock.Set(time.Date(2027, 2, 19, 9, 0, 0, 0, time.UTC))
		if _, err := update(programme.CallInput{Closes: ptr("2027-02-25T17:00")}); testkit.Outcome(err) != "INVALID_STATE" {
			t.Errorf("move a passed deadline: %s, want INVALID_STATE", testkit.Outcome(err))
		}
	})
}

// TestCallPermissions: every staff step of a call, by every kind of caller. Only staff
// move calls; nobody else changes anything.
func TestCallPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		draft := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		slot := testkit.MustSlot(t, s, w, w.Host, draft, w.CentreA, "2027-04-12", 2, 1, false)
		ops := []struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}{
			{"createCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CreateCall(ctx, tx, testkit.PilotCall())
				return err
			}},
			{"updateCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.UpdateCall(ctx, tx, draft.ID, programme.CallInput{Title: ptr("Taken over")})
				return err
			}},
			{"openCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.OpenCall(ctx, tx, draft.ID)
				return err
			}},
			{"closeCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CloseCall(ctx, tx, draft.ID, true, "because")
				return err
			}},
			{"cancelCall", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.CancelCall(ctx, tx, draft.ID, "because")
				return err
			}},
			{"approveSlot", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.ApproveSlot(ctx, tx, slot.ID)
				return err
			}},
			{"rejectSlot", func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RejectSlot(ctx, tx, slot.ID, "because")
				return err
			}},
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
		c, err := s.DB.Client.Call.Get(s.System(), draft.ID)
		if err != nil {
			t.Fatal(err)
		}
		sl, err := s.DB.Client.HostSlot.Get(s.System(), slot.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n := testkit.Count(s, s.DB.Client.Call.Query()); n != 1 || c.Status != call.StatusDRAFT || c.Title != draft.Title || sl.Status != slot.Status {
			t.Fatalf("refused calls changed something: %d calls, status %s, title %q, slot %s", n, c.Status, c.Title, sl.Status)
		}
		// Staff may do each of them (in an order that makes sense).
		for _, name := range []string{"updateCall", "approveSlot", "openCall", "closeCall", "createCall", "cancelCall"} {
			for _, op := range ops {
				if op.name == name {
					if got := testkit.Outcome(s.Do(s.As(w.Staff), op.run)); got != "ok" {
						t.Errorf("%s by staff: %s", name, got)
					}
				}
			}
		}
	})
}

// firstField is the field path of err's first user error ("" without one).
func firstField(err error) string {
	if ue, ok := apperr.AsUserErrors(err); ok && len(ue) > 0 {
		return strings.Join(ue[0].Field, ".")
	}
	return ""
}

func ptr[T any](v T) *T { return &v }
