package retention_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/apitoken"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/config"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/programme"
	"github.com/gocart-coalition/coalition/internal/retention"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

const day = 24 * time.Hour

func TestRulesNameTheirVariables(t *testing.T) {
	s := retention.Settings{AuditYears: 7, MailBodyDays: 10, UnconfirmedDays: 14, ApplicationsMonths: 18}
	rules := s.Rules()
	want := map[string]string{
		retention.JobAuthCleanup:     "1 day after they expire or are revoked",
		retention.JobMailBodies:      "10 days after sending",
		retention.JobUnconfirmedSubs: "14 days after signing up",
		retention.JobAuditPrune:      "7 years after the event",
		retention.JobApplications:    "18 months after the call is completed or cancelled",
	}
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	cfg := config.Defaults()
	defaults := map[string]int{
		"COALITION_RETENTION_MAIL_BODY_DAYS":      cfg.RetentionMailBodyDays,
		"COALITION_RETENTION_UNCONFIRMED_DAYS":    cfg.RetentionUnconfirmedDays,
		"COALITION_RETENTION_AUDIT_YEARS":         cfg.RetentionAuditYears,
		"COALITION_RETENTION_APPLICATIONS_MONTHS": cfg.RetentionApplicationsMonths,
	}
	d := retention.DefaultSettings()
	for _, r := range rules {
		if r.Period != want[r.Job] || r.Category == "" || r.Deleted == "" || r.Kept == "" || r.Every <= 0 {
			t.Errorf("rule %+v: want period %q and every field set", r, want[r.Job])
		}
		if r.Variable != "" {
			if _, ok := defaults[r.Variable]; !ok {
				t.Errorf("rule %s names %s, which config does not read", r.Job, r.Variable)
			}
		}
	}
	if d.MailBodyDays != cfg.RetentionMailBodyDays || d.UnconfirmedDays != cfg.RetentionUnconfirmedDays || d.AuditYears != cfg.RetentionAuditYears ||
		d.ApplicationsMonths != cfg.RetentionApplicationsMonths || cfg.RetentionApplicationsMonths != programme.DefaultRetentionMonths {
		t.Fatalf("DefaultSettings %+v disagree with config defaults", d)
	}
}

// message writes an outbox row as the worker leaves it.
func message(t *testing.T, s *testkit.Services, state outboxmessage.State, sentAt time.Time, body *ent.MailBody) *ent.OutboxMessage {
	t.Helper()
	c := s.DB.Client.OutboxMessage.Create().
		SetDedupeKey(pulid.New("tst").String()).SetTemplate("login_link").
		SetRecipient("jana.novakova@fnbrno.example.cz").SetRecipientName("Jana Nováková").
		SetSubject("Your sign-in link").SetTextBody("Hello Jana, https://x/signin?token=secret").
		SetHTMLBody("<p>Hello Jana</p>").SetHeaders(map[string]string{"Reply-To": "office@coalition.test"}).
		SetPersonal(map[string]string{"email": "jana.novakova@fnbrno.example.cz"}).
		SetState(state).SetNextAttemptAt(sentAt).SetCreatedAt(sentAt).SetUpdatedAt(sentAt)
	if state == outboxmessage.StateSent {
		c.SetSentAt(sentAt)
	}
	if body != nil {
		c.SetBodyID(body.ID)
	}
	return c.SaveX(s.System())
}

func body(t *testing.T, s *testkit.Services, at time.Time) *ent.MailBody {
	t.Helper()
	return s.DB.Client.MailBody.Create().SetTemplate("newsletter").SetSubject("News").
		SetTextBody("Hello {{email}}").SetHTMLBody("<p>Hello</p>").SetCreatedAt(at).SetUpdatedAt(at).
		SaveX(s.System())
}

func TestPurgeMailBodies(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		now := s.Clock.Now()
		dueAt := now.Add(-30*day - time.Second)
		keptAt := now.Add(-30*day + time.Second)
		sentOld := message(t, s, outboxmessage.StateSent, dueAt, nil)
		failedOld := message(t, s, outboxmessage.StateFailed, dueAt, nil)
		sentRecent := message(t, s, outboxmessage.StateSent, keptAt, nil)
		queuedOld := message(t, s, outboxmessage.StateQueued, dueAt, nil)
		// Shared bodies: one whose messages are all sent (dropped), one still used by a
		// queued message (kept), one a campaign refers to (kept), one too recent (kept).
		unused, inUse, ofCampaign, recent := body(t, s, dueAt), body(t, s, dueAt), body(t, s, dueAt), body(t, s, keptAt)
		bulkSent := message(t, s, outboxmessage.StateSent, dueAt, unused)
		message(t, s, outboxmessage.StateSent, dueAt, inUse)
		message(t, s, outboxmessage.StateQueued, dueAt, inUse)
		staff := testkit.MustUser(t, s, "office@coalition.test", "Office", viewer.RoleStaff)
		s.DB.Client.Campaign.Create().SetSubject("News").SetBody("News").SetHTMLBody("").SetTextBody("").
			SetCreatedByID(staff.ID).SetEditedByID(staff.ID).SetMailBodyID(ofCampaign.ID).ExecX(s.System())

		n, err := s.Retention.PurgeMailBodies(s.System())
		if err != nil {
			t.Fatal(err)
		}
		if n != 5 { // sentOld, failedOld, two bulk sent rows, and the unused body
			t.Errorf("purged %d, want 5", n)
		}
		for _, c := range []struct {
			m       *ent.OutboxMessage
			emptied bool
		}{{sentOld, true}, {failedOld, true}, {bulkSent, true}, {sentRecent, false}, {queuedOld, false}} {
			got := s.DB.Client.OutboxMessage.GetX(s.System(), c.m.ID)
			emptied := got.TextBody == "" && got.HTMLBody == "" && got.Headers == nil && got.Personal == nil && got.Attachments == nil
			if emptied != c.emptied {
				t.Errorf("%s (%s, %s): emptied %v, want %v", c.m.ID, c.m.State, c.m.CreatedAt, emptied, c.emptied)
			}
			if got.Recipient != c.m.Recipient || got.Subject != c.m.Subject || got.State != c.m.State || got.Template != c.m.Template {
				t.Errorf("%s: the delivery record changed: %+v", c.m.ID, got)
			}
		}
		left, err := s.DB.Client.MailBody.Query().IDs(s.System())
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(left, unused.ID) || !slices.Contains(left, inUse.ID) || !slices.Contains(left, ofCampaign.ID) || !slices.Contains(left, recent.ID) {
			t.Errorf("bodies left %v: want all but %s", left, unused.ID)
		}
		if got := s.DB.Client.OutboxMessage.GetX(s.System(), bulkSent.ID); got.BodyID != nil {
			t.Errorf("the dropped body is still referred to: %v", *got.BodyID)
		}
		// A second run finds nothing more.
		if n, err := s.Retention.PurgeMailBodies(s.System()); err != nil || n != 0 {
			t.Errorf("second run: %d, %v; want 0", n, err)
		}
	})
}

func TestPurgeUnconfirmedSubscriptions(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		ctx := s.System()
		now := s.Clock.Now()
		c := s.DB.Client
		list := c.MailingList.Create().SetName("Quarterly").SetSlug("quarterly").SaveX(ctx)
		other := c.MailingList.Create().SetName("Pharmacists").SetSlug("pharmacists").SaveX(ctx)
		sub := func(email string) *ent.Subscriber {
			return c.Subscriber.Create().SetEmail(email).SaveX(ctx)
		}
		subscribe := func(who *ent.Subscriber, l *ent.MailingList, status string, at time.Time) *ent.NewsletterSubscription {
			ns := c.NewsletterSubscription.Create().SetSubscriberID(who.ID).SetListID(l.ID).
				SetStatus(newslettersubscription.Status(status)).SetCreatedAt(at).SetUpdatedAt(at).SaveX(ctx)
			c.ConsentEvidence.Create().SetSubscriptionID(ns.ID).SetEvent("SIGNUP").SetSource("FORM").SetAt(at).ExecX(ctx)
			return ns
		}
		due, kept := now.Add(-30*day-time.Second), now.Add(-30*day+time.Second)
		gone := sub("gone@example.org")
		goneSub := subscribe(gone, list, "UNCONFIRMED", due)
		mixed := sub("mixed@example.org")
		mixedOld := subscribe(mixed, list, "UNCONFIRMED", due)
		mixedConfirmed := subscribe(mixed, other, "CONFIRMED", due)
		fresh := sub("fresh@example.org")
		freshSub := subscribe(fresh, list, "UNCONFIRMED", kept)

		n, err := s.Retention.PurgeUnconfirmed(ctx)
		if err != nil || n != 2 {
			t.Fatalf("purged %d (%v), want 2", n, err)
		}
		exists := func(id pulid.ID) bool {
			ok, err := c.NewsletterSubscription.Query().Where(newslettersubscription.ID(id)).Exist(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if exists(goneSub.ID) || exists(mixedOld.ID) || !exists(mixedConfirmed.ID) || !exists(freshSub.ID) {
			t.Errorf("subscriptions left: gone %v, mixed old %v, mixed confirmed %v, fresh %v",
				exists(goneSub.ID), exists(mixedOld.ID), exists(mixedConfirmed.ID), exists(freshSub.ID))
		}
		for who, want := range map[*ent.Subscriber]bool{gone: false, mixed: true, fresh: true} {
			if got, _ := c.Subscriber.Query().Where(subscriber.ID(who.ID)).Exist(ctx); got != want {
				t.Errorf("subscriber %s exists %v, want %v", who.Email, got, want)
			}
		}
		if n := c.ConsentEvidence.Query().CountX(ctx); n != 2 {
			t.Errorf("%d consent rows left, want 2 (mixed confirmed, fresh)", n)
		}
	})
}

func TestAuthCleanupDeletesDeadTokens(t *testing.T) {
	testkit.EachServices(t, func(t *testing.T, s *testkit.Services) {
		ctx := s.System()
		now := s.Clock.Now()
		u := testkit.MustUser(t, s, "ana@example.org", "Ana")
		mk := func(name string, expires, revoked *time.Time) pulid.ID {
			c := s.DB.Client.ApiToken.Create().SetUserID(u.ID).SetName(name).SetTokenHash(name + "-hash").SetHint("ct_x").
				SetScopes([]viewer.Scope{viewer.ScopeRead})
			if expires != nil {
				c.SetExpiresAt(*expires)
			}
			if revoked != nil {
				c.SetRevokedAt(*revoked)
			}
			return c.SaveX(ctx).ID
		}
		old, recent := now.Add(-25*time.Hour), now.Add(-23*time.Hour)
		expired, revoked := mk("expired", &old, nil), mk("revoked", nil, &old)
		justExpired, live := mk("just-expired", &recent, nil), mk("live", nil, nil)
		if _, err := s.Auth.DeleteExpired(ctx); err != nil {
			t.Fatal(err)
		}
		left := s.DB.Client.ApiToken.Query().Order(ent.Asc(apitoken.FieldName)).IDsX(ctx)
		if slices.Contains(left, expired) || slices.Contains(left, revoked) || !slices.Contains(left, justExpired) || !slices.Contains(left, live) {
			t.Fatalf("tokens left %v", left)
		}
	})
}

func TestPruneAuditJob(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		key := "an audit key of at least 32 characters"
		s := servicesWith(t, d, func(c *config.Config) { c.AuditKey = key })
		record := func(at time.Time) {
			testkit.MustDo(t, s, s.System(), func(ctx context.Context, tx *ent.Client) error {
				return audit.Record(ctx, tx, at, audit.Event{Action: "test.event"})
			})
		}
		now := s.Clock.Now()
		record(now.AddDate(-6, 0, 0).Add(-time.Hour)) // due
		record(now.AddDate(-6, 0, 0).Add(time.Hour))  // kept
		before := s.DB.Client.AuditEvent.Query().CountX(s.System())
		out, err := s.Retention.PruneAudit(s.System())
		if err != nil || out.Deleted != 1 {
			t.Fatalf("prune: %+v %v, want 1 deleted", out, err)
		}
		if n := s.DB.Client.AuditEvent.Query().CountX(s.System()); n != before-1 {
			t.Fatalf("%d events left, want %d", n, before-1)
		}
		if rep, err := audit.Verify(s.System(), s.DB.Client, []byte(key)); err != nil || rep.Broken != nil {
			t.Fatalf("verify after the job: %v %v", err, rep.Broken)
		}
		// Without a key, the job keeps everything.
		s2 := servicesWith(t, d, nil)
		s2.Clock.Set(now.AddDate(10, 0, 0))
		if out, err := s2.Retention.PruneAudit(s2.System()); err != nil || out.Deleted != 0 {
			t.Fatalf("without a key: %+v %v", out, err)
		}
	})
}

// TestTwoProcessesRunEachRetentionJobOnce: two services (two pools on one database, as two
// `serve` processes) run their due jobs at the same moment; each retention job runs once.
func TestTwoProcessesRunEachRetentionJobOnce(t *testing.T) {
	for _, name := range testkit.Dialects() {
		t.Run(name, func(t *testing.T) {
			url := testkit.MigratedURL(t, name)
			var procs [2]*testkit.Services
			for i := range procs {
				d, err := db.Open(context.Background(), url, db.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				procs[i] = servicesWith(t, d, nil)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(procs))
			for i, p := range procs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = p.Jobs.RunDue(p.System())
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("process %d: %v", i, err)
				}
			}
			list, err := procs[0].Jobs.List(procs[0].System())
			if err != nil {
				t.Fatal(err)
			}
			runs := map[string]int64{}
			for _, st := range list {
				runs[st.Name] = st.Runs
			}
			for _, r := range retention.Rules() {
				if runs[r.Job] != 1 {
					t.Errorf("job %s ran %d times, want 1", r.Job, runs[r.Job])
				}
			}
		})
	}
}

func servicesWith(t *testing.T, d *db.DB, f func(*config.Config)) *testkit.Services {
	t.Helper()
	return testkit.NewServicesWith(t, d, f)
}

// TestEveryRuleHasAREADMELine: the README's Retention section has a row for every rule of
// the registry naming its job, and its variable with the default period.
func TestEveryRuleHasAREADMELine(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	start := strings.Index(readme, "\n### Retention\n")
	if start < 0 {
		t.Fatal("README has no Retention section")
	}
	section := readme[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	cfg := config.Defaults()
	defaults := map[string]int{
		"COALITION_RETENTION_MAIL_BODY_DAYS":      cfg.RetentionMailBodyDays,
		"COALITION_RETENTION_UNCONFIRMED_DAYS":    cfg.RetentionUnconfirmedDays,
		"COALITION_RETENTION_AUDIT_YEARS":         cfg.RetentionAuditYears,
		"COALITION_RETENTION_APPLICATIONS_MONTHS": cfg.RetentionApplicationsMonths,
	}
	for _, r := range retention.Rules() {
		var row string
		for _, line := range strings.Split(section, "\n") {
			if strings.HasPrefix(line, "|") && strings.HasSuffix(line, "| `"+r.Job+"` |") {
				row = line
			}
		}
		if row == "" {
			t.Errorf("README's Retention table has no row for job %s", r.Job)
			continue
		}
		if r.Variable == "" {
			if !strings.Contains(row, "| fixed |") {
				t.Errorf("README row of %s: want \"fixed\" for a rule without a variable", r.Job)
			}
			continue
		}
		def, ok := defaults[r.Variable]
		if want := fmt.Sprintf("`%s` (%d)", r.Variable, def); !ok || !strings.Contains(row, want) {
			t.Errorf("README row of %s lacks %s", r.Job, want)
		}
	}
}
