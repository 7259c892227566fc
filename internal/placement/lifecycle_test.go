package placement_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/placement"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func mailCount(s *testkit.Services, template string) int {
	return testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.TemplateEQ(template)))
}

// published is a call whose match is published: Ioana offered A, Marek offered B.
type published struct {
	testkit.RankedCall
	ioana, marek *ent.Placement
}

func publishPilot(t *testing.T, s *testkit.Services, w *testkit.World) published {
	t.Helper()
	r := testkit.MustRankedCall(t, s, w)
	ps := testkit.MustPublish(t, s, w, testkit.MustStartRun(t, s, w, r.Call, false))
	return published{RankedCall: r, ioana: ps[r.Ioana.ID], marek: ps[r.Marek.ID]}
}

func placementStatus(t *testing.T, s *testkit.Services, p *ent.Placement) placement.Status {
	t.Helper()
	p, err := s.DB.Client.Placement.Get(s.System(), p.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p.Status
}

// TestPlacementAnswersByRole: who may accept, decline, confirm and cancel a placement.
// Someone who may not see the placement does not find it (NOT_FOUND); someone who sees it
// but is not the party the step belongs to is FORBIDDEN.
func TestPlacementAnswersByRole(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		p := publishPilot(t, s, w)
		ioana := p.ioana // at centre A: Host coordinates it, OtherHost does not
		type op struct {
			name string
			run  func(ctx context.Context, tx *ent.Client) error
		}
		accept := op{"accept", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, ioana.ID)
			return err
		}}
		decline := op{"decline", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Decline(ctx, tx, ioana.ID, "Cannot travel.")
			return err
		}}
		confirm := op{"confirm", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Confirm(ctx, tx, ioana.ID)
			return err
		}}
		cancel := op{"cancel", func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Cancel(ctx, tx, ioana.ID, "Unit closed.")
			return err
		}}
		// Ioana is OtherTrainee here; Marek (Trainee) is another trainee to her placement.
		actors := []testkit.Actor{
			{Name: "anonymous", Ctx: s.Anonymous()},
			{Name: "another trainee", Ctx: s.As(w.Trainee)},
			{Name: "the host", Ctx: s.As(w.Host)},
			{Name: "another host", Ctx: s.As(w.OtherHost)},
			{Name: "the former host", Ctx: s.As(w.FormerHost)},
			{Name: "staff", Ctx: s.As(w.Staff)},
			{Name: "the trainee", Ctx: s.As(w.OtherTrainee)},
		}
		want := map[string]map[string]string{
			// An offer: only its trainee answers it.
			"accept":  {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "FORBIDDEN", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "FORBIDDEN"},
			"decline": {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "FORBIDDEN", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "FORBIDDEN"},
			// Accepted: the centre's coordinators and staff confirm; the trainee cannot.
			"confirm": {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "ok", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "ok", "the trainee": "FORBIDDEN"},
			"cancel":  {"anonymous": "NOT_FOUND", "another trainee": "NOT_FOUND", "the host": "ok", "another host": "NOT_FOUND", "the former host": "NOT_FOUND", "staff": "ok", "the trainee": "FORBIDDEN"},
		}
		try := func(o op, a testkit.Actor) {
			t.Helper()
			if got := testkit.Outcome(s.Do(a.Ctx, o.run)); got != want[o.name][a.Name] {
				t.Errorf("%s by %s: %s, want %s", o.name, a.Name, got, want[o.name][a.Name])
			}
		}
		for _, o := range []op{accept, decline} {
			for _, a := range actors[:6] {
				try(o, a)
			}
		}
		if got := placementStatus(t, s, ioana); got != placement.StatusOFFERED {
			t.Fatalf("refused answers moved the offer to %s", got)
		}
		if got := testkit.Outcome(s.Do(s.As(w.OtherTrainee), accept.run)); got != "ok" || placementStatus(t, s, ioana) != placement.StatusACCEPTED {
			t.Fatalf("accept as the trainee: %s, %s", got, placementStatus(t, s, ioana))
		}
		if n := mailCount(s, "placement_update"); n != 1 {
			t.Errorf("%d placement emails after acceptance, want 1 (the host's coordinator, asked to confirm)", n)
		}
		for _, a := range []int{0, 1, 3, 4, 6} {
			try(confirm, actors[a])
			try(cancel, actors[a])
		}
		if got := placementStatus(t, s, ioana); got != placement.StatusACCEPTED {
			t.Fatalf("refused steps moved the placement to %s", got)
		}
		try(confirm, actors[2]) // the host
		if got := placementStatus(t, s, ioana); got != placement.StatusCONFIRMED {
			t.Fatalf("confirmed: %s", got)
		}
		// Confirmed: the trainee can no longer decline; the host cancels.
		if got := testkit.Outcome(s.Do(s.As(w.OtherTrainee), decline.run)); got != "INVALID_STATE" {
			t.Errorf("decline a confirmed placement: %s, want INVALID_STATE", got)
		}
		try(cancel, actors[2])
		if got := placementStatus(t, s, ioana); got != placement.StatusCANCELLED {
			t.Fatalf("cancelled: %s", got)
		}
		if got := testkit.Outcome(s.Do(s.As(w.Staff), cancel.run)); got != "INVALID_STATE" {
			t.Errorf("cancel twice: %s, want INVALID_STATE", got)
		}
	})
}

func TestPlacementOfferRules(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := testkit.NewWorld(t, s)
		p := publishPilot(t, s, w)
		marek := s.As(w.Trainee)
		decline := func(reason string) string {
			return testkit.Outcome(s.Do(marek, func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Placement.Decline(ctx, tx, p.marek.ID, reason)
				return err
			}))
		}
		if got := decline(""); got != "REQUIRED" || placementStatus(t, s, p.marek) != placement.StatusOFFERED {
			t.Errorf("decline without a reason: %s, %s", got, placementStatus(t, s, p.marek))
		}
		// Past its deadline an offer cannot be accepted.
		s.Clock.Set(p.marek.OfferDeadline)
		if got := testkit.Outcome(s.Do(marek, func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, p.marek.ID)
			return err
		})); got != "EXPIRED" || placementStatus(t, s, p.marek) != placement.StatusOFFERED {
			t.Errorf("accept at the deadline: %s, %s; want EXPIRED, still OFFERED", got, placementStatus(t, s, p.marek))
		}
		s.Clock.Set(p.marek.OfferDeadline.Add(-time.Hour))
		if got := decline("Cannot travel in April."); got != "ok" || placementStatus(t, s, p.marek) != placement.StatusDECLINED {
			t.Errorf("decline: %s, %s", got, placementStatus(t, s, p.marek))
		}
		// A trainee whose role was revoked no longer answers an offer, though it stays theirs.
		ioana := testkit.MustRevoke(t, s, w.OtherTrainee, "TRAINEE")
		if got := testkit.Outcome(s.Do(s.As(ioana), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Placement.Accept(ctx, tx, p.ioana.ID)
			return err
		})); got != "FORBIDDEN" || placementStatus(t, s, p.ioana) != placement.StatusOFFERED {
			t.Errorf("accept as a former trainee: %s, %s; want FORBIDDEN, still OFFERED", got, placementStatus(t, s, p.ioana))
		}
	})
}
