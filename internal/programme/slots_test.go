package programme_test

import (
	"context"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestProposeSlotPermissions: a centre's slots are offered by its coordinators (holding the
// role) and staff; every other caller is refused and nothing is written.
func TestProposeSlotPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		c := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		want := map[string]string{
			"anonymous": "UNAUTHENTICATED", "trainee": "FORBIDDEN", "other trainee": "FORBIDDEN",
			"host": "ok", "other host": "FORBIDDEN", "former host": "FORBIDDEN", "staff": "ok",
		}
		starts := []vocab.Date{"2027-03-01", "2027-03-15", "2027-03-29", "2027-04-12", "2027-04-26", "2027-05-10", "2027-05-24"}
		for i, a := range w.Actors(s) {
			err := s.Do(a.Ctx, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.ProposeSlot(ctx, tx, programme.ProposeSlotInput{
					CallID: c.ID, HostCentreID: w.CentreA.ID, StartDate: starts[i], Weeks: 2, Capacity: 1,
				})
				return err
			})
			if got := testkit.Outcome(err); got != want[a.Name] {
				t.Errorf("propose a slot of centre A as %s: %s, want %s", a.Name, got, want[a.Name])
			}
		}
		if n := testkit.Count(s, s.DB.Client.HostSlot.Query().Where(hostslot.StatusEQ(hostslot.StatusPROPOSED))); n != 2 {
			t.Errorf("%d proposed slots, want 2 (the host's and staff's)", n)
		}
	})
}

func TestProposeSlotRefusesBadInputAndWritesNothing(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		c := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		testkit.MustSlot(t, s, w, w.Host, c, w.CentreA, "2027-04-12", 2, 1, false)
		good := programme.ProposeSlotInput{CallID: c.ID, HostCentreID: w.CentreA.ID, StartDate: "2027-05-03", Weeks: 1, Capacity: 2}
		tests := []struct {
			name   string
			change func(*programme.ProposeSlotInput)
			want   string
		}{
			{"no such call", func(in *programme.ProposeSlotInput) { in.CallID = w.CentreA.ID }, "NOT_FOUND"},
			{"a Tuesday", func(in *programme.ProposeSlotInput) { in.StartDate = "2027-05-04" }, "INVALID"},
			{"not a date", func(in *programme.ProposeSlotInput) { in.StartDate = "3 May" }, "INVALID"},
			{"three weeks", func(in *programme.ProposeSlotInput) { in.Weeks = 3 }, "INVALID"},
			{"before the window", func(in *programme.ProposeSlotInput) { in.StartDate = "2027-02-22" }, "INVALID"},
			{"past the window", func(in *programme.ProposeSlotInput) { in.StartDate, in.Weeks = "2027-06-28", 2 }, "INVALID"},
			{"no places", func(in *programme.ProposeSlotInput) { in.Capacity = 0 }, "INVALID"},
			{"21 places", func(in *programme.ProposeSlotInput) { in.Capacity = 21 }, "INVALID"},
			{"an unknown language", func(in *programme.ProposeSlotInput) { in.Languages = []string{"xx"} }, "INVALID"},
			{"an unknown focus area", func(in *programme.ProposeSlotInput) { in.FocusAreas = []vocab.FocusArea{"ASTROLOGY"} }, "INVALID"},
			{"overlapping the centre's slot", func(in *programme.ProposeSlotInput) { in.StartDate = "2027-04-19" }, "TAKEN"},
		}
		before := testkit.Count(s, s.DB.Client.HostSlot.Query())
		for _, tc := range tests {
			in := good
			tc.change(&in)
			err := s.Do(s.As(w.Host), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.ProposeSlot(ctx, tx, in)
				return err
			})
			if got := testkit.Outcome(err); got != tc.want {
				t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.HostSlot.Query()); n != before {
			t.Errorf("refused proposals wrote %d slots", n-before)
		}
		// The good input is good.
		if err := s.Do(s.As(w.Host), func(ctx context.Context, tx *ent.Client) error {
			sl, err := s.Programme.ProposeSlot(ctx, tx, good)
			if err == nil && (sl.EndDate != "2027-05-07" || sl.Status != hostslot.StatusPROPOSED || len(sl.Languages) != 1) {
				t.Errorf("slot %s to %s, %s, languages %v; want 2027-05-03 to 2027-05-07, PROPOSED, the centre's", sl.StartDate, sl.EndDate, sl.Status, sl.Languages)
			}
			return err
		}); err != nil {
			t.Fatalf("propose: %v", err)
		}
	})
}

func TestSlotDecisionsAndWithdrawal(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		c := testkit.MustCreateCall(t, s, w, testkit.PilotCall())
		a := testkit.MustSlot(t, s, w, w.Host, c, w.CentreA, "2027-04-12", 2, 1, false)
		b := testkit.MustSlot(t, s, w, w.Host, c, w.CentreA, "2027-05-03", 1, 1, false)
		staff := s.As(w.Staff)
		decisions := func() int {
			return testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ("slot_decision")))
		}

		// Approving emails the centre's coordinators who hold the role: Claire, not Paul.
		testkit.MustDo(t, s, staff, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Programme.ApproveSlot(ctx, tx, a.ID)
			return err
		})
		if n := decisions(); n != 1 {
			t.Errorf("%d slot decision emails after an approval, want 1 (the former coordinator gets none)", n)
		}
		reject := func(sl *ent.HostSlot, reason string) string {
			return testkit.Outcome(s.Do(staff, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.RejectSlot(ctx, tx, sl.ID, reason)
				return err
			}))
		}
		if got := reject(b, ""); got != "REQUIRED" {
			t.Errorf("reject without a reason: %s, want REQUIRED", got)
		}
		if got := reject(a, "No longer."); got != "INVALID_STATE" {
			t.Errorf("reject an approved slot: %s, want INVALID_STATE", got)
		}
		if n := decisions(); n != 1 {
			t.Errorf("refused rejections queued %d emails", n-1)
		}
		if got := reject(b, "The unit moves that month."); got != "ok" {
			t.Fatalf("reject: %s", got)
		}

		// Withdrawing: the centre's coordinator or staff, with a reason, while nobody holds it.
		// The call is open, so everyone signed in sees the approved slot.
		testkit.MustStep(t, s, w, c, s.Programme.OpenCall)
		withdraw := func(ctx context.Context, reason string) string {
			return testkit.Outcome(s.Do(ctx, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Programme.WithdrawSlot(ctx, tx, a.ID, reason)
				return err
			}))
		}
		for _, tc := range []struct {
			actor testkit.Actor
			want  string
		}{
			{testkit.Actor{Name: "anonymous", Ctx: s.Anonymous()}, "UNAUTHENTICATED"},
			{testkit.Actor{Name: "trainee", Ctx: s.As(w.Trainee)}, "FORBIDDEN"},
			{testkit.Actor{Name: "other host", Ctx: s.As(w.OtherHost)}, "FORBIDDEN"},
			{testkit.Actor{Name: "former host", Ctx: s.As(w.FormerHost)}, "FORBIDDEN"},
		} {
			if got := withdraw(tc.actor.Ctx, "Mine now."); got != tc.want {
				t.Errorf("withdraw as %s: %s, want %s", tc.actor.Name, got, tc.want)
			}
		}
		if got := withdraw(s.As(w.Host), " "); got != "REQUIRED" {
			t.Errorf("withdraw without a reason: %s, want REQUIRED", got)
		}
		if got := testkit.Count(s, s.DB.Client.HostSlot.Query().Where(hostslot.StatusEQ(hostslot.StatusAPPROVED))); got != 1 {
			t.Fatalf("refused withdrawals changed the slot: %d approved", got)
		}
		if got := withdraw(s.As(w.Host), "Staff shortage."); got != "ok" {
			t.Fatalf("withdraw as the host: %s", got)
		}
		if got := withdraw(s.As(w.Staff), "Again."); got != "INVALID_STATE" {
			t.Errorf("withdraw a withdrawn slot: %s, want INVALID_STATE", got)
		}
	})
}
