package newsletter_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// TestPauseHoldsADeadProcessesDeliveries is the regression test of what
// `make faults` (campaign-pause-kill-resume) found: a campaign paused, then the process
// that had claimed some of its deliveries killed; when their lease ran out the process
// started again sent them although the campaign was paused. The worker asks the campaign's
// status when it claims (newsletter.HaltedBulk): those deliveries are paused, not sent, and
// go out after the resume, each once.
func TestPauseHoldsADeadProcessesDeliveries(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
		}); got != "ok" {
			t.Fatal(got)
		}
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.SendCampaignNow(ctx, tx, c.ID)
		}); got != "ok" {
			t.Fatal(got)
		}
		if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		sys := s.System()
		key := *s.DB.Client.Campaign.GetX(sys, c.ID).MailBodyID
		// A process that is gone claimed both deliveries, and the campaign was paused (the
		// pause, made in that process too, is remembered by no process alive).
		if err := s.DB.Client.OutboxMessage.Update().Where(outboxmessage.BodyID(key)).
			SetState(outboxmessage.StateSending).SetLeaseOwner("dead:1:00").
			SetLeaseUntil(s.Clock.Now().Add(-time.Second)).SetAttempts(1).Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.Client.Campaign.UpdateOneID(c.ID).SetStatus(campaign.StatusPAUSED).Exec(sys); err != nil {
			t.Fatal(err)
		}
		if sent, _, _, err := s.Outbox.DrainOnce(sys); err != nil || sent != 0 {
			t.Fatalf("drain while paused: sent %d, %v; want nothing sent", sent, err)
		}
		rows := deliveries(t, s, c.ID)
		for _, r := range rows {
			if r.State != outboxmessage.StatePaused {
				t.Errorf("delivery to %s is %s while the campaign is paused, want paused", r.Recipient, r.State)
			}
		}
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ResumeCampaign(ctx, tx, c.ID)
		}); got != "ok" {
			t.Fatal(got)
		}
		if sent, _, _, err := s.Outbox.DrainOnce(sys); err != nil || sent != len(rows) {
			t.Fatalf("drain after the resume: sent %d, %v; want %d", sent, err, len(rows))
		}
		if _, done, err := s.Campaigns.Run(context.Background()); err != nil || done != 1 {
			t.Fatalf("run after sending: done %d, %v", done, err)
		}
	})
}

// TestHaltedBulkAnswersFromTheCampaign: paused and cancelled campaigns halt their batch,
// others do not, and keys that are not campaigns are left out.
func TestHaltedBulkAnswersFromTheCampaign(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		sys := s.System()
		want := map[pulid.ID]string{}
		keys := []pulid.ID{"mbd_bench", "mbd_unknown"}
		for _, st := range []campaign.Status{campaign.StatusSENDING, campaign.StatusPAUSED, campaign.StatusCANCELLED, campaign.StatusSENT} {
			c := mustCampaign(t, s, w.Staff, w.Group.ID)
			body := pulid.ID("mbd_" + string(c.ID))
			if err := s.DB.Client.Campaign.UpdateOneID(c.ID).SetStatus(st).SetMailBodyID(body).Exec(sys); err != nil {
				t.Fatal(err)
			}
			keys = append(keys, body)
			want[body] = map[campaign.Status]string{campaign.StatusPAUSED: "paused", campaign.StatusCANCELLED: "cancelled"}[st]
		}
		got, err := newsletter.HaltedBulk(context.Background(), s.DB.Client, keys)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("HaltedBulk = %v, want %v", got, want)
		}
		for k, v := range want {
			if st, ok := got[k]; !ok || st != v {
				t.Errorf("HaltedBulk[%s] = %q (present %v), want %q", k, st, ok, v)
			}
		}
	})
}
