package newsletter

import (
	"context"
	"fmt"
	"iter"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
)

// NewsletterTemplate names the campaigns' bodies and deliveries in the outbox.
const NewsletterTemplate = "newsletter"

// Templates of the newsletter's other outbox rows: the double opt-in and staff's test sends.
const (
	confirmTemplate = "newsletter_confirm"
	testTemplate    = "newsletter_test"
)

// OutboxTemplates are the templates of every outbox row the newsletter writes to a
// subscriber's address (what erasure redacts).
var OutboxTemplates = []string{NewsletterTemplate, confirmTemplate, testTemplate}

// BatchKey is the outbox batch of a campaign's deliveries: each delivery's dedupe key is
// the batch key and the recipient's address, so a recipient is written once whatever is
// retried or resumed.
func BatchKey(campaign pulid.ID) string { return "campaign:" + string(campaign) }

// OutboxDeliveries writes a campaign's deliveries through the outbox's bulk path: the body
// stored once (outbox.SaveBody), one BULK row per recipient holding only their address,
// name and personal values (outbox.EnqueueBulk), paused, resumed, cancelled and counted as
// one batch.
type OutboxDeliveries struct{}

var _ Deliveries = OutboxDeliveries{}

// Freeze implements Deliveries.
func (OutboxDeliveries) Freeze(ctx context.Context, tx *ent.Client, now time.Time, body Frozen) (pulid.ID, error) {
	return outbox.SaveBody(ctx, tx, now, outbox.Body{
		Template: NewsletterTemplate, Subject: body.Subject, Preheader: body.Preheader,
		Text: body.Text, HTML: body.HTML, Headers: body.Headers,
	})
}

// Enqueue implements Deliveries.
func (OutboxDeliveries) Enqueue(ctx context.Context, tx *ent.Client, now time.Time, c *ent.Campaign, rs []Recipient) error {
	if c.MailBodyID == nil {
		return fmt.Errorf("campaign %s has no frozen body", c.ID)
	}
	seq := func(yield func(outbox.Recipient) bool) {
		for _, r := range rs {
			if r.Suppressed {
				continue
			}
			if !yield(outbox.Recipient{To: mail.Address{Name: r.Name, Email: r.Email}, Values: r.Personal}) {
				return
			}
		}
	}
	_, err := outbox.EnqueueBulk(ctx, tx, now, *c.MailBodyID, BatchKey(c.ID), iter.Seq[outbox.Recipient](seq))
	return err
}

// Pause implements Deliveries.
func (OutboxDeliveries) Pause(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	return outbox.Pause(ctx, tx, BatchKey(id))
}

// Resume implements Deliveries.
func (OutboxDeliveries) Resume(ctx context.Context, tx *ent.Client, id pulid.ID, _ time.Time) (int, error) {
	return outbox.Resume(ctx, tx, BatchKey(id))
}

// Cancel implements Deliveries.
func (OutboxDeliveries) Cancel(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	return outbox.Cancel(ctx, tx, BatchKey(id))
}

// Counts implements Deliveries.
func (OutboxDeliveries) Counts(ctx context.Context, client *ent.Client, id pulid.ID) (Counts, error) {
	m, err := outbox.BatchCounts(ctx, client, BatchKey(id))
	if err != nil {
		return Counts{}, err
	}
	return Counts{
		Queued: m["queued"], Sending: m["sending"], Paused: m["paused"], Sent: m["sent"],
		Failed: m["failed"], Suppressed: m["suppressed"], Cancelled: m["cancelled"],
	}, nil
}
