package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/consentevidence"
	"github.com/gocart-coalition/coalition/ent/mailbody"
	"github.com/gocart-coalition/coalition/ent/newslettersubscription"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/subscriber"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/jobs"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// batch is how many rows one transaction of a purge changes, so a large backlog never
// holds SQLite's write lock for long.
const batch = 1000

// Config configures a Service.
type Config struct {
	Client   *ent.Client
	Now      func() time.Time
	Logger   *slog.Logger
	Settings Settings
	// AuditKey signs the audit trail's checkpoints; empty: the audit trail is not pruned.
	AuditKey []byte
}

// Service applies the retention rules of this package.
type Service struct{ cfg Config }

// New checks cfg.
func New(cfg Config) (*Service, error) {
	switch {
	case cfg.Client == nil:
		return nil, errors.New("retention: Client is nil")
	case cfg.Now == nil:
		return nil, errors.New("retention: Now is nil")
	case cfg.Settings.AuditYears < 1 || cfg.Settings.MailBodyDays < 1 || cfg.Settings.UnconfirmedDays < 1 || cfg.Settings.ApplicationsMonths < 1:
		return nil, fmt.Errorf("retention: every period must be positive, got %+v", cfg.Settings)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Service{cfg: cfg}, nil
}

// Jobs are the periodic jobs of the rules this package applies.
func (s *Service) Jobs() []jobs.Job {
	every := map[string]time.Duration{}
	for _, r := range s.cfg.Settings.Rules() {
		every[r.Job] = r.Every
	}
	return []jobs.Job{
		{Name: JobMailBodies, Interval: every[JobMailBodies], Run: func(ctx context.Context) error {
			_, err := s.PurgeMailBodies(ctx)
			return err
		}},
		{Name: JobUnconfirmedSubs, Interval: every[JobUnconfirmedSubs], Run: func(ctx context.Context) error {
			_, err := s.PurgeUnconfirmed(ctx)
			return err
		}},
		{Name: JobAuditPrune, Interval: every[JobAuditPrune], Run: func(ctx context.Context) error {
			_, err := s.PruneAudit(ctx)
			return err
		}},
	}
}

func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }

// finished are the outbox states a message never leaves.
var finished = []outboxmessage.State{
	outboxmessage.StateSent, outboxmessage.StateFailed, outboxmessage.StateSuppressed, outboxmessage.StateCancelled,
}

// PurgeMailBodies empties the content of emails finished (sent, failed, suppressed or
// cancelled) more than MailBodyDays ago: text, HTML, headers, attachments and personal
// values; recipient, subject, template, state and times stay as the delivery record. Then
// it deletes the shared bodies (bulk mail) older than that which no campaign and no
// unfinished email uses. It returns how many messages and bodies it changed.
func (s *Service) PurgeMailBodies(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	cutoff := s.cfg.Now().Add(-days(s.cfg.Settings.MailBodyDays))
	due := outboxmessage.And(
		outboxmessage.StateIn(finished...),
		outboxmessage.Or(
			outboxmessage.SentAtLT(cutoff),
			outboxmessage.And(outboxmessage.SentAtIsNil(), outboxmessage.UpdatedAtLT(cutoff)),
		),
		outboxmessage.Or(
			outboxmessage.TextBodyNEQ(""), outboxmessage.HTMLBodyNEQ(""), outboxmessage.HeadersNotNil(),
			outboxmessage.AttachmentsNotNil(), outboxmessage.PersonalNotNil(),
		),
	)
	total := 0
	for {
		n := 0
		err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			ids, err := tx.OutboxMessage.Query().Where(due).Limit(batch).IDs(ctx)
			if err != nil || len(ids) == 0 {
				return err
			}
			n, err = tx.OutboxMessage.Update().Where(outboxmessage.IDIn(ids...)).
				SetTextBody("").SetHTMLBody("").ClearHeaders().ClearAttachments().ClearPersonal().
				Save(ctx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge mail bodies: %w", err)
		}
		total += n
		if n < batch {
			break
		}
	}
	err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
		used, err := tx.Campaign.Query().Where(campaign.MailBodyIDNotNil()).Select(campaign.FieldMailBodyID).Strings(ctx)
		if err != nil {
			return err
		}
		ids := make([]pulid.ID, len(used))
		for i, id := range used {
			ids[i] = pulid.ID(id)
		}
		n, err := tx.MailBody.Delete().Where(
			mailbody.CreatedAtLT(cutoff),
			mailbody.IDNotIn(ids...),
			mailbody.Not(mailbody.HasMessagesWith(outboxmessage.StateNotIn(finished...))),
		).Exec(ctx)
		total += n
		return err
	})
	if err != nil {
		return total, fmt.Errorf("purge shared mail bodies: %w", err)
	}
	return total, nil
}

// PurgeUnconfirmed deletes the subscriptions still UNCONFIRMED more than UnconfirmedDays
// after they were made, with their consent evidence, and their subscribers when no
// subscription is left. It returns how many subscriptions it deleted.
func (s *Service) PurgeUnconfirmed(ctx context.Context) (int, error) {
	sys := viewer.NewSystemContext(ctx)
	cutoff := s.cfg.Now().Add(-days(s.cfg.Settings.UnconfirmedDays))
	total := 0
	for {
		n := 0
		err := db.InTx(sys, s.cfg.Client, func(ctx context.Context, tx *ent.Client) error {
			subs, err := tx.NewsletterSubscription.Query().
				Where(newslettersubscription.StatusEQ(newslettersubscription.StatusUNCONFIRMED),
					newslettersubscription.CreatedAtLT(cutoff)).
				Limit(batch).All(ctx)
			if err != nil || len(subs) == 0 {
				return err
			}
			ids := make([]pulid.ID, len(subs))
			owners := make([]pulid.ID, len(subs))
			for i, sub := range subs {
				ids[i], owners[i] = sub.ID, sub.SubscriberID
			}
			if _, err := tx.ConsentEvidence.Delete().Where(consentevidence.SubscriptionIDIn(ids...)).Exec(ctx); err != nil {
				return err
			}
			if n, err = tx.NewsletterSubscription.Delete().Where(newslettersubscription.IDIn(ids...)).Exec(ctx); err != nil {
				return err
			}
			_, err = tx.Subscriber.Delete().
				Where(subscriber.IDIn(owners...), subscriber.Not(subscriber.HasSubscriptions())).
				Exec(ctx)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("purge unconfirmed subscriptions: %w", err)
		}
		total += n
		if n < batch {
			return total, nil
		}
	}
}

// PruneAudit deletes the audit events older than AuditYears from the start of the chain
// under a signed checkpoint (audit.Prune). Without an audit key it does nothing and says
// so in the log: the trail is then kept whole.
func (s *Service) PruneAudit(ctx context.Context) (audit.Pruned, error) {
	if len(s.cfg.AuditKey) == 0 {
		s.cfg.Logger.WarnContext(ctx, "audit trail not pruned: no COALITION_AUDIT_KEY to sign the checkpoint")
		return audit.Pruned{}, nil
	}
	now := s.cfg.Now()
	out, err := audit.Prune(ctx, s.cfg.Client, now, now.AddDate(-s.cfg.Settings.AuditYears, 0, 0), s.cfg.AuditKey)
	if err != nil {
		return out, fmt.Errorf("prune audit trail: %w", err)
	}
	if out.Deleted > 0 {
		s.cfg.Logger.InfoContext(ctx, "audit trail pruned", "checkpoint", out.Checkpoint, "through", out.ThroughSeq, "deleted", out.Deleted)
	}
	return out, nil
}
