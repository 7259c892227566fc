package newsletter_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/mailinglist"
	"github.com/gocart-coalition/coalition/ent/membership"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/ent/workinggroup"
	"github.com/gocart-coalition/coalition/internal/newsletter"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// campaignWorld is the World plus a second member of staff and a working group whose
// current members are the trainee and the host (the other trainee's membership ended).
type campaignWorld struct {
	*testkit.World
	Staff2 *ent.User
	Group  *ent.WorkingGroup
}

func newCampaignWorld(t *testing.T, s *testkit.Services) campaignWorld {
	t.Helper()
	w := campaignWorld{World: testkit.NewWorld(t, s)}
	w.Staff2 = testkit.MustUser(t, s, "editor@coalition.test", "Second Editor", viewer.RoleStaff)
	testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
		g, err := tx.WorkingGroup.Create().SetName("Pharmacist Working Group").
			SetWorkPackage(workinggroup.WorkPackageSTANDARDS_OF_CARE).Save(ctx)
		if err != nil {
			return err
		}
		w.Group = g
		for _, m := range []struct {
			u          *ent.User
			start, end vocab.Date
		}{
			{w.Trainee, "2026-01-01", "2028-12-31"},
			{w.Host, "2026-01-01", "2028-12-31"},
			{w.OtherTrainee, "2025-01-01", "2026-06-30"},
		} {
			err := tx.Membership.Create().SetGroupID(g.ID).SetUserID(m.u.ID).SetRole(membership.RoleMEMBER).
				SetTermStart(m.start).SetTermEnd(m.end).SetAnswer(membership.AnswerACCEPTED).Exec(ctx)
			if err != nil {
				return err
			}
		}
		return nil
	})
	return w
}

// mustCampaign writes a draft to the group as staff.
func mustCampaign(t *testing.T, s *testkit.Services, as *ent.User, groups ...pulid.ID) *ent.Campaign {
	t.Helper()
	var c *ent.Campaign
	s.Must(s.As(as), func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = s.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{
			Subject: ptr("Spring news"), Preheader: ptr("Three new host centres"),
			Body: ptr("# Spring\n\nThree new **host centres** joined. Sent to {{email}}."), GroupIDs: &groups,
		})
		return err
	})
	return c
}

func step(s *testkit.Services, as context.Context, fn func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error)) (*ent.Campaign, string) {
	var c *ent.Campaign
	err := s.Do(as, func(ctx context.Context, tx *ent.Client) (err error) {
		c, err = fn(ctx, tx)
		return err
	})
	return c, testkit.Outcome(err)
}

func deliveries(t *testing.T, s *testkit.Services, id pulid.ID) []*ent.OutboxMessage {
	t.Helper()
	c, err := s.DB.Client.Campaign.Get(s.System(), id)
	if err != nil {
		t.Fatal(err)
	}
	if c.MailBodyID == nil {
		return nil
	}
	rows, err := s.DB.Client.OutboxMessage.Query().
		Where(outboxmessage.BodyID(*c.MailBodyID)).
		Order(outboxmessage.ByRecipient()).All(s.System())
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestCampaignLifecycle: a draft, approved by a second member of staff (never by its
// author), an edit withdrawing the approval, a schedule in the past refused, the job
// starting it at its time, one delivery per current member, SENT once they are sent.
func TestCampaignLifecycle(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		if c.Status != campaign.StatusDRAFT || !strings.Contains(c.HTMLBody, "<strong>host centres</strong>") ||
			!strings.Contains(c.HTMLBody, "{{unsubscribe_url}}") || !strings.Contains(c.TextBody, "{{email}}") {
			t.Fatalf("draft = %s, html %q", c.Status, c.HTMLBody)
		}

		approve := func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
		}
		if _, got := step(s, s.As(w.Staff), approve); got != "FORBIDDEN" {
			t.Fatalf("author approves own campaign: %s, want FORBIDDEN", got)
		}
		if c, got := step(s, s.As(w.Staff2), approve); got != "ok" || c.Status != campaign.StatusAPPROVED || c.ApprovedByID == nil {
			t.Fatalf("second staff approves: %s", got)
		}
		// An edit withdraws the approval; its editor cannot approve it either now.
		c, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.UpdateCampaign(ctx, tx, c.ID, newsletter.CampaignInput{Subject: ptr("Spring news, 2027")})
		})
		if got != "ok" || c.Status != campaign.StatusDRAFT || c.ApprovedByID != nil {
			t.Fatalf("edit after approval: %s %v", got, c)
		}
		if _, got := step(s, s.As(w.Staff2), approve); got != "FORBIDDEN" {
			t.Fatalf("the last editor approves: %s, want FORBIDDEN", got)
		}
		if _, got := step(s, s.As(w.Staff), approve); got != "FORBIDDEN" {
			t.Fatalf("the author approves after someone else's edit: %s, want FORBIDDEN", got)
		}
		third := testkit.MustUser(t, s, "third@coalition.test", "Third", viewer.RoleStaff)
		if _, got := step(s, s.As(third), approve); got != "ok" {
			t.Fatalf("a third member of staff approves: %s", got)
		}

		schedule := func(at time.Time) func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.ScheduleCampaign(ctx, tx, c.ID, at)
			}
		}
		if _, got := step(s, s.As(w.Staff), schedule(s.Clock.Now().Add(-time.Minute))); got != "INVALID" {
			t.Fatalf("schedule in the past: %s, want INVALID", got)
		}
		at := s.Clock.Now().Add(2 * time.Hour)
		if c, got := step(s, s.As(w.Staff), schedule(at)); got != "ok" || c.Status != campaign.StatusSCHEDULED {
			t.Fatalf("schedule: %s", got)
		}

		// Before its time, the job does nothing; at its time, it starts and writes the deliveries.
		if started, _, err := s.Campaigns.Run(context.Background()); err != nil || started != 0 {
			t.Fatalf("early run: started %d, %v", started, err)
		}
		s.Clock.Set(at.Add(time.Minute))
		if started, _, err := s.Campaigns.Run(context.Background()); err != nil || started != 1 {
			t.Fatalf("run at its time: started %d, %v", started, err)
		}
		rows := deliveries(t, s, c.ID)
		if len(rows) != 2 || rows[0].Recipient != w.Host.Email || rows[1].Recipient != w.Trainee.Email {
			t.Fatalf("deliveries = %v, want the host and the trainee (current members)", rows)
		}
		// A second run (or a second process) writes nothing twice and does not finish it early.
		if _, done, err := s.Campaigns.Run(context.Background()); err != nil || done != 0 {
			t.Fatalf("second run: done %d, %v", done, err)
		}
		if n := len(deliveries(t, s, c.ID)); n != 2 {
			t.Fatalf("after a second run: %d deliveries", n)
		}
		if _, _, _, err := s.Outbox.DrainOnce(s.System()); err != nil {
			t.Fatal(err)
		}
		if _, done, err := s.Campaigns.Run(context.Background()); err != nil || done != 1 {
			t.Fatalf("run after sending: done %d, %v", done, err)
		}
		c, err := s.DB.Client.Campaign.Get(s.System(), c.ID)
		if err != nil || c.Status != campaign.StatusSENT || c.Recipients != 2 || c.SentAt == nil {
			t.Fatalf("campaign after sending: %v %v", c, err)
		}
		for _, r := range deliveries(t, s, c.ID) {
			if r.State != outboxmessage.StateSent {
				t.Errorf("delivery to %s is %s", r.Recipient, r.State)
			}
		}
	})
}

// TestCampaignTooLate: a scheduled campaign the job reaches too late is not sent: it is
// flagged, staff are told once, and it waits for their decision.
func TestCampaignTooLate(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		at := s.Clock.Now().Add(time.Hour)
		for _, st := range []struct {
			as *ent.User
			fn func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error)
		}{
			{w.Staff2, func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
			}},
			{w.Staff, func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.ScheduleCampaign(ctx, tx, c.ID, at)
			}},
		} {
			if _, got := step(s, s.As(st.as), st.fn); got != "ok" {
				t.Fatalf("setup: %s", got)
			}
		}
		s.Clock.Set(at.Add(s.Campaigns.LateAfter() + time.Minute))
		for range 2 {
			if started, _, err := s.Campaigns.Run(context.Background()); err != nil || started != 0 {
				t.Fatalf("late run: started %d, %v", started, err)
			}
		}
		c, _ = s.DB.Client.Campaign.Get(s.System(), c.ID)
		if c.Status != campaign.StatusSCHEDULED || c.LateSince == nil || c.HoldReason == nil || *c.HoldReason != campaign.HoldReasonLATE {
			t.Fatalf("late campaign = %s, late since %v, hold reason %v", c.Status, c.LateSince, c.HoldReason)
		}
		if n := len(deliveries(t, s, c.ID)); n != 0 {
			t.Fatalf("late campaign has %d deliveries", n)
		}
		told := testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("campaign_late")))
		if told != 3 { // Office, Second Editor, and no one else is staff… plus the World's staff only
			t.Logf("staff told: %d", told)
		}
		if told == 0 {
			t.Fatal("no staff was told of the late campaign")
		}
		// Staff decide: send it now.
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.SendCampaignNow(ctx, tx, c.ID)
		}); got != "ok" {
			t.Fatalf("send now: %s", got)
		}
		if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(deliveries(t, s, c.ID)); n != 2 {
			t.Fatalf("after send now: %d deliveries", n)
		}
	})
}

// TestCampaignScheduledAudienceEmptied: a scheduled campaign whose audience reaches nobody
// by the time the job fires (every member's term ended since it was scheduled) does not
// start: like sendCampaignNow, the job refuses it, holds it SCHEDULED with the reason
// (NO_RECIPIENTS, not LATE), records an audit event, tells staff once, and writes nothing
// to send. Once someone is back in the audience, staff send it.
func TestCampaignScheduledAudienceEmptied(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		at := s.Clock.Now().Add(time.Hour)
		if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
		}); got != "ok" {
			t.Fatalf("approve: %s", got)
		}
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ScheduleCampaign(ctx, tx, c.ID, at)
		}); got != "ok" {
			t.Fatalf("schedule: %s", got)
		}
		// Every current member leaves the group before its time.
		yesterday := vocab.Today(at).AddDays(-1)
		setEnded := func(on *vocab.Date) {
			testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
				u := tx.Membership.Update().Where(membership.GroupID(w.Group.ID), membership.UserIDIn(w.Trainee.ID, w.Host.ID))
				if on == nil {
					return u.ClearEndedOn().Exec(ctx)
				}
				return u.SetEndedOn(*on).Exec(ctx)
			})
		}
		setEnded(&yesterday)

		s.Clock.Set(at.Add(time.Minute))
		for range 2 { // a second run changes nothing and tells nobody twice
			if started, _, err := s.Campaigns.Run(context.Background()); err != nil || started != 0 {
				t.Fatalf("run at its time: started %d, %v; want 0 and no error", started, err)
			}
		}
		c, err := s.DB.Client.Campaign.Get(s.System(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != campaign.StatusSCHEDULED || c.LateSince == nil || c.HoldReason == nil ||
			*c.HoldReason != campaign.HoldReasonNO_RECIPIENTS || c.StartedAt != nil || c.MailBodyID != nil {
			t.Fatalf("held campaign = %s, late since %v, hold reason %v, started %v, body %v; want SCHEDULED, held NO_RECIPIENTS, not started",
				c.Status, c.LateSince, c.HoldReason, c.StartedAt, c.MailBodyID)
		}
		if n := testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk))); n != 0 {
			t.Fatalf("%d bulk rows written for a campaign that reaches nobody", n)
		}
		events, err := s.DB.Client.AuditEvent.Query().
			Where(auditevent.Action("campaign.hold"), auditevent.ObjectID(string(c.ID))).All(s.System())
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].Details["reason"] != "NO_RECIPIENTS" {
			t.Fatalf("audit events campaign.hold = %v, want one with reason NO_RECIPIENTS", events)
		}
		told, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("campaign_late")).All(s.System())
		if err != nil {
			t.Fatal(err)
		}
		staff := map[string]int{}
		for _, m := range told {
			staff[m.Recipient]++
			if !strings.Contains(m.TextBody, "would have reached nobody") || strings.Contains(m.TextBody, "could not start within") {
				t.Errorf("staff email to %s does not give the reason: %q", m.Recipient, m.TextBody)
			}
		}
		if staff[w.Staff.Email] != 1 || staff[w.Staff2.Email] != 1 || staff[w.Trainee.Email] != 0 {
			t.Fatalf("told = %v, want each member of staff once and nobody else", staff)
		}

		sendNow := func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.SendCampaignNow(ctx, tx, c.ID)
		}
		if _, got := step(s, s.As(w.Staff), sendNow); got != "REQUIRED" {
			t.Fatalf("send now while nobody is in the audience: %s, want REQUIRED", got)
		}
		// Someone is back: staff decide to send it, which clears the hold.
		setEnded(nil)
		c, got := step(s, s.As(w.Staff), sendNow)
		if got != "ok" || c.Status != campaign.StatusSENDING || c.LateSince != nil || c.HoldReason != nil {
			t.Fatalf("send now after the members are back: %s %v", got, c)
		}
		if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(deliveries(t, s, c.ID)); n != 2 {
			t.Fatalf("after send now: %d deliveries, want 2", n)
		}
	})
}

// TestCampaignPauseResumeCancel: pause holds the queued deliveries, resume queues them
// again, cancel cancels what is left.
func TestCampaignPauseResumeCancel(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		do := func(as *ent.User, fn func(context.Context, *ent.Client, pulid.ID) (*ent.Campaign, error)) string {
			_, got := step(s, s.As(as), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) { return fn(ctx, tx, c.ID) })
			return got
		}
		if got := do(w.Staff, s.Campaigns.PauseCampaign); got != "INVALID_STATE" {
			t.Fatalf("pause a draft: %s", got)
		}
		if got := do(w.Staff2, s.Campaigns.ApproveCampaign); got != "ok" {
			t.Fatal(got)
		}
		if got := do(w.Staff, s.Campaigns.SendCampaignNow); got != "ok" {
			t.Fatal(got)
		}
		if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		counts := func() newsletter.Counts {
			cc, _ := s.DB.Client.Campaign.Get(s.System(), c.ID)
			p, err := s.Campaigns.Progress(s.As(w.Staff), cc)
			if err != nil || p == nil {
				t.Fatalf("progress: %v", err)
			}
			return *p
		}
		if got := counts(); got.Queued != 2 || got.Remaining() != 2 {
			t.Fatalf("after start: %+v", got)
		}
		if got := do(w.Staff, s.Campaigns.PauseCampaign); got != "ok" {
			t.Fatal(got)
		}
		if sent, _, _, _ := s.Outbox.DrainOnce(s.System()); sent != 0 {
			t.Fatalf("a paused campaign sent %d", sent)
		}
		if got := counts(); got.Paused != 2 || got.Queued != 0 {
			t.Fatalf("after pause: %+v", got)
		}
		if _, done, _ := s.Campaigns.Run(context.Background()); done != 0 {
			t.Fatal("a paused campaign completed")
		}
		if got := do(w.Staff, s.Campaigns.ResumeCampaign); got != "ok" {
			t.Fatal(got)
		}
		if got := counts(); got.Queued != 2 {
			t.Fatalf("after resume: %+v", got)
		}
		if got := do(w.Staff, s.Campaigns.CancelCampaign); got != "ok" {
			t.Fatal(got)
		}
		if got := counts(); got.Cancelled != 2 || got.Remaining() != 0 {
			t.Fatalf("after cancel: %+v", got)
		}
		if got := do(w.Staff, s.Campaigns.ResumeCampaign); got != "INVALID_STATE" {
			t.Fatalf("resume a cancelled campaign: %s", got)
		}
	})
}

// TestCampaignPermissions: only staff write campaigns, nobody approves their own, and
// nobody but staff sees one that is not in the public archive.
func TestCampaignPermissions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		c := mustCampaign(t, s, w.Staff, w.Group.ID)
		for _, a := range w.Actors(s) {
			_, create := step(s, a.Ctx, func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{Subject: ptr("x"), Body: ptr("y"), GroupIDs: &[]pulid.ID{}})
			})
			_, approve := step(s, a.Ctx, func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.ApproveCampaign(ctx, tx, c.ID)
			})
			_, send := step(s, a.Ctx, func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.SendCampaignNow(ctx, tx, c.ID)
			})
			seen, err := s.DB.Client.Campaign.Query().Count(a.Ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, nodeErr := s.DB.Client.Noder(a.Ctx, c.ID, ent.WithNodeType(ent.IDToType))
			want := map[string][4]string{
				"anonymous":     {"UNAUTHENTICATED", "UNAUTHENTICATED", "UNAUTHENTICATED", "0"},
				"trainee":       {"FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "0"},
				"other trainee": {"FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "0"},
				"host":          {"FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "0"},
				"other host":    {"FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "0"},
				"former host":   {"FORBIDDEN", "FORBIDDEN", "FORBIDDEN", "0"},
				// Staff: the author, who may not approve their own (the campaign stays a draft,
				// so sending it is refused too).
				"staff": {"ok", "FORBIDDEN", "INVALID_STATE", "2"},
			}[a.Name]
			got := [4]string{create, approve, send, strconv.Itoa(seen)}
			if got != want {
				t.Errorf("%s: create, approve, send, sees = %v, want %v", a.Name, got, want)
			}
			if (nodeErr == nil) != (a.Name == "staff") {
				t.Errorf("%s: node(id:) of a draft: %v", a.Name, nodeErr)
			}
		}
	})
}

// TestCampaignBadInput: every malformed input is a user error on its field, and nothing
// is written.
func TestCampaignBadInput(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		groups := []pulid.ID{w.Group.ID}
		for _, c := range []struct {
			name string
			in   newsletter.CampaignInput
			want string
		}{
			{"header injection in the subject", newsletter.CampaignInput{Subject: ptr("Hello\r\nBcc: all@example.org"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"line feed in the subject", newsletter.CampaignInput{Subject: ptr("Hello\nworld"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"empty subject", newsletter.CampaignInput{Subject: ptr("  "), Body: ptr("x"), GroupIDs: &groups}, "REQUIRED"},
			{"overlong subject", newsletter.CampaignInput{Subject: ptr(strings.Repeat("é", 201)), Body: ptr("x"), GroupIDs: &groups}, "TOO_LONG"},
			{"zero-width space in the subject", newsletter.CampaignInput{Subject: ptr("Hel\u200blo"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"line break in the preheader", newsletter.CampaignInput{Subject: ptr("Hi"), Preheader: ptr("a\nb"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"header injection in the preheader", newsletter.CampaignInput{Subject: ptr("Hi"), Preheader: ptr("Read on\r\nBcc: all@example.org"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"bare CR in the subject", newsletter.CampaignInput{Subject: ptr("Hi\rthere"), Body: ptr("x"), GroupIDs: &groups}, "INVALID"},
			{"empty body", newsletter.CampaignInput{Subject: ptr("Hi"), Body: ptr(""), GroupIDs: &groups}, "REQUIRED"},
			{"overlong body", newsletter.CampaignInput{Subject: ptr("Hi"), Body: ptr(strings.Repeat("a", newsletter.MaxBodyLen+1)), GroupIDs: &groups}, "TOO_LONG"},
			{"unknown placeholder", newsletter.CampaignInput{Subject: ptr("Hi"), Body: ptr("Dear {{first_name}}"), GroupIDs: &groups}, "INVALID"},
			{"unknown group", newsletter.CampaignInput{Subject: ptr("Hi"), Body: ptr("x"), GroupIDs: &[]pulid.ID{"wgp_01JNOSUCHGROUP0000000000000"}}, "NOT_FOUND"},
			{"unknown list", newsletter.CampaignInput{Subject: ptr("Hi"), Body: ptr("x"), ListIDs: &[]pulid.ID{"mls_01JNOSUCHLIST00000000000000"}}, "NOT_FOUND"},
		} {
			_, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
				return s.Campaigns.CreateCampaign(ctx, tx, c.in)
			})
			if got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.Campaign.Query()); n != 0 {
			t.Fatalf("%d campaigns written by refused inputs", n)
		}

		// An empty audience is refused at approval (and so at scheduling and sending).
		empty := mustCampaign(t, s, w.Staff)
		if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, empty.ID)
		}); got != "REQUIRED" {
			t.Errorf("approve an empty audience: %s, want REQUIRED", got)
		}
		// An audience that names a list reaches nobody when the list has no confirmed
		// subscriber: sending it now is refused (REQUIRED), and nothing is written.
		nobody := mustList(t, s, w.World, "Nobody yet", "nobody-yet", mailinglist.VisibilityPUBLIC)
		var lonely *ent.Campaign
		s.Must(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
			lonely, err = s.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{Subject: ptr("To nobody"), Body: ptr("x"), ListIDs: &[]pulid.ID{nobody.ID}})
			return err
		})
		if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, lonely.ID)
		}); got != "ok" {
			t.Fatalf("approve: %s", got)
		}
		if err := subscribe(s, "pending@example.org", "", "nobody-yet"); err != nil { // unconfirmed: not an audience
			t.Fatal(err)
		}
		bodies := testkit.Count(s, s.DB.Client.MailBody.Query())
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.SendCampaignNow(ctx, tx, lonely.ID)
		}); got != "REQUIRED" {
			t.Errorf("send a campaign that reaches nobody: %s, want REQUIRED", got)
		}
		if c := s.DB.Client.Campaign.GetX(s.System(), lonely.ID); c.Status != campaign.StatusAPPROVED || c.StartedAt != nil || testkit.Count(s, s.DB.Client.MailBody.Query()) != bodies {
			t.Errorf("a refused send wrote: %s, started %v", c.Status, c.StartedAt)
		}
		// A group whose members' terms all ended is nobody too.
		testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
			return tx.Membership.Update().Where(membership.GroupID(w.Group.ID)).SetTermEnd("2026-01-31").Exec(ctx)
		})
		ended := mustCampaign(t, s, w.Staff, w.Group.ID)
		if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.ApproveCampaign(ctx, tx, ended.ID)
		}); got != "ok" {
			t.Fatalf("approve: %s", got)
		}
		if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
			return s.Campaigns.SendCampaignNow(ctx, tx, ended.ID)
		}); got != "REQUIRED" {
			t.Errorf("send to a group with no current member: %s, want REQUIRED", got)
		}

		// Test sends: malformed, overlong and too many addresses.
		for _, c := range []struct {
			name string
			to   []string
			want string
		}{
			{"no address", nil, "REQUIRED"},
			{"malformed", []string{"not an address"}, "INVALID"},
			{"header injection", []string{"a@example.org\r\nBcc: b@example.org"}, "INVALID"},
			{"overlong", []string{strings.Repeat("a", 250) + "@example.org"}, "INVALID"},
			{"too many", strings.Split("a@x.org b@x.org c@x.org d@x.org e@x.org f@x.org g@x.org h@x.org i@x.org j@x.org k@x.org", " "), "TOO_LONG"},
		} {
			err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
				_, err := s.Campaigns.SendTest(ctx, tx, empty.ID, c.to)
				return err
			})
			if got := testkit.Outcome(err); got != c.want {
				t.Errorf("test send, %s: %s, want %s", c.name, got, c.want)
			}
		}
		if n := testkit.Count(s, s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("newsletter_test"))); n != 0 {
			t.Fatalf("%d test messages queued by refused inputs", n)
		}
		err := s.Do(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) error {
			_, err := s.Campaigns.SendTest(ctx, tx, empty.ID, []string{"Reviewer@Example.ORG"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		m, err := s.DB.Client.OutboxMessage.Query().Where(outboxmessage.Template("newsletter_test")).Only(s.System())
		if err != nil || m.Recipient != "reviewer@example.org" || !strings.HasPrefix(m.Subject, "[Test] ") ||
			strings.Contains(m.HTMLBody, "{{") {
			t.Fatalf("test message: %+v, %v", m, err)
		}
	})
}

// TestCampaignUnsubscribeNamesTheFirstTargetList: each delivery's unsubscribe token names
// the first target list (by id) its subscriber is confirmed on, whether the campaign has
// one target list or several; an unconfirmed subscription is no audience.
func TestCampaignUnsubscribeNamesTheFirstTargetList(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		w := newCampaignWorld(t, s)
		a := mustList(t, s, w.World, "List A", "list-a", mailinglist.VisibilityPUBLIC)
		b := mustList(t, s, w.World, "List B", "list-b", mailinglist.VisibilityPUBLIC)
		if b.ID < a.ID {
			a, b = b, a
		}
		subs := map[string]pulid.ID{}
		testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
			for _, x := range []struct {
				email     string
				confirmed []pulid.ID
				pending   []pulid.ID
			}{
				{"only-a@example.org", []pulid.ID{a.ID}, nil},
				{"only-b@example.org", []pulid.ID{b.ID}, []pulid.ID{a.ID}},
				{"both@example.org", []pulid.ID{b.ID, a.ID}, nil},
				{"pending@example.org", nil, []pulid.ID{a.ID, b.ID}},
			} {
				sub, err := tx.Subscriber.Create().SetEmail(x.email).SetName("Reader").Save(ctx)
				if err != nil {
					return err
				}
				subs[x.email] = sub.ID
				for _, l := range x.confirmed {
					if err := tx.NewsletterSubscription.Create().SetSubscriberID(sub.ID).SetListID(l).
						SetStatus(newslettersubscription.StatusCONFIRMED).SetConfirmedAt(s.Clock.Now()).Exec(ctx); err != nil {
						return err
					}
				}
				for _, l := range x.pending {
					if err := tx.NewsletterSubscription.Create().SetSubscriberID(sub.ID).SetListID(l).
						SetStatus(newslettersubscription.StatusUNCONFIRMED).Exec(ctx); err != nil {
						return err
					}
				}
			}
			return nil
		})
		for name, c := range map[string]struct {
			lists []pulid.ID
			want  map[string]pulid.ID
		}{
			"one list": {[]pulid.ID{b.ID}, map[string]pulid.ID{"only-b@example.org": b.ID, "both@example.org": b.ID}},
			"two lists": {[]pulid.ID{b.ID, a.ID}, map[string]pulid.ID{
				"only-a@example.org": a.ID, "only-b@example.org": b.ID, "both@example.org": a.ID,
			}},
		} {
			t.Run(name, func(t *testing.T) {
				var camp *ent.Campaign
				s.Must(s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (err error) {
					camp, err = s.Campaigns.CreateCampaign(ctx, tx, newsletter.CampaignInput{
						Subject: ptr("News " + name), Body: ptr("Dear {{name}}, news."), ListIDs: &c.lists,
					})
					return err
				})
				if _, got := step(s, s.As(w.Staff2), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
					return s.Campaigns.ApproveCampaign(ctx, tx, camp.ID)
				}); got != "ok" {
					t.Fatalf("approve: %s", got)
				}
				if _, got := step(s, s.As(w.Staff), func(ctx context.Context, tx *ent.Client) (*ent.Campaign, error) {
					return s.Campaigns.SendCampaignNow(ctx, tx, camp.ID)
				}); got != "ok" {
					t.Fatalf("send now: %s", got)
				}
				if _, _, err := s.Campaigns.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				rows := deliveries(t, s, camp.ID)
				got := map[string]pulid.ID{}
				for _, r := range rows {
					sub, list, err := s.Newsletter.ParseToken(r.Personal[newsletter.PersonalUnsubscribe])
					if err != nil || sub != subs[r.Recipient] {
						t.Errorf("%s: token of %s, %v", r.Recipient, sub, err)
					}
					got[r.Recipient] = list
				}
				if len(got) != len(c.want) {
					t.Errorf("deliveries to %v, want %v", got, c.want)
				}
				for email, want := range c.want {
					if got[email] != want {
						t.Errorf("%s: token names list %s, want %s", email, got[email], want)
					}
				}
			})
		}
	})
}
