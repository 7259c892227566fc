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
	"github.com/gocart-coalition/coalition/internal/viewer"
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

// OutboxDeliveries writes a campaign's deliveries through the outbox's bulk path: the body
// stored once (outbox.SaveBody, campaign.mail_body_id), one BULK row per recipient holding
// only their address, name and personal values (outbox.EnqueueBulk), unique per (body,
// address) and so per (campaign, address), since a campaign freezes one body when it
// starts; paused, resumed, cancelled and counted as one bulk send, named by that body.
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
	_, err := outbox.EnqueueBulk(ctx, tx, now, *c.MailBodyID, iter.Seq[outbox.Recipient](seq))
	return err
}

// bodyOf returns the body campaign id froze when it started ("" before that, or when
// client cannot see the campaign yet — created in a transaction not committed —: it has
// no deliveries).
func bodyOf(ctx context.Context, client *ent.Client, id pulid.ID) (pulid.ID, error) {
	c, err := client.Campaign.Get(viewer.ForFacts(ctx), id)
	if ent.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("load campaign %s: %w", id, err)
	}
	if c.MailBodyID == nil {
		return "", nil
	}
	return *c.MailBodyID, nil
}

// Pause implements Deliveries.
func (OutboxDeliveries) Pause(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	body, err := bodyOf(ctx, tx, id)
	if err != nil || body == "" {
		return 0, err
	}
	return outbox.Pause(ctx, tx, body)
}

// Resume implements Deliveries.
func (OutboxDeliveries) Resume(ctx context.Context, tx *ent.Client, id pulid.ID, _ time.Time) (int, error) {
	body, err := bodyOf(ctx, tx, id)
	if err != nil || body == "" {
		return 0, err
	}
	return outbox.Resume(ctx, tx, body)
}

// Cancel implements Deliveries.
func (OutboxDeliveries) Cancel(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	body, err := bodyOf(ctx, tx, id)
	if err != nil || body == "" {
		return 0, err
	}
	return outbox.Cancel(ctx, tx, body)
}

// Counts implements Deliveries.
func (OutboxDeliveries) Counts(ctx context.Context, client *ent.Client, id pulid.ID) (Counts, error) {
	body, err := bodyOf(ctx, client, id)
	if err != nil || body == "" {
		return Counts{}, err
	}
	m, err := outbox.BatchCounts(ctx, client, body)
	if err != nil {
		return Counts{}, err
	}
	return Counts{
		Queued: m["queued"], Sending: m["sending"], Paused: m["paused"], Sent: m["sent"],
		Failed: m["failed"], Suppressed: m["suppressed"], Cancelled: m["cancelled"],
	}, nil
}
