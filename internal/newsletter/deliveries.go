package newsletter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// NewsletterTemplate names the campaigns' deliveries in the outbox.
const NewsletterTemplate = "newsletter"

// BatchKey is the outbox batch of a campaign's deliveries.
func BatchKey(campaign pulid.ID) string { return "campaign:" + string(campaign) }

// DeliveryKey is the dedupe key of the delivery of campaign to address: unique, so each
// recipient is written once whatever is retried. An address too long to fit the key's 255
// bytes is written as its SHA-256.
func DeliveryKey(campaign pulid.ID, address string) string {
	key := BatchKey(campaign) + ":" + address
	if len(key) <= 255 {
		return key
	}
	sum := sha256.Sum256([]byte(address))
	return BatchKey(campaign) + ":sha256:" + hex.EncodeToString(sum[:])
}

// OutboxDeliveries writes a campaign's deliveries as outbox rows. Until the outbox stores
// a shared body, each row holds the body with its recipient's values filled in; paused
// rows wait with a next attempt at the end of time.
type OutboxDeliveries struct{}

var _ Deliveries = OutboxDeliveries{}

// pausedUntil is the next attempt of a paused delivery.
var pausedUntil = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// Enqueue implements Deliveries.
func (OutboxDeliveries) Enqueue(ctx context.Context, tx *ent.Client, now time.Time, c *ent.Campaign, body Frozen, rs []Recipient) error {
	es := make([]outbox.Email, len(rs))
	for i, r := range rs {
		values := map[string]string{"email": r.Email}
		for k, v := range r.Personal {
			values[k] = v
		}
		headers := map[string]string{}
		for k, v := range body.Headers {
			headers[k] = v
		}
		if u := r.Personal["unsubscribe_url"]; u != "" {
			headers["List-Unsubscribe"] = "<" + u + ">"
			headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
		}
		es[i] = outbox.Email{
			DedupeKey: DeliveryKey(c.ID, r.Email), Template: NewsletterTemplate,
			To:      mail.Address{Name: r.Name, Email: r.Email},
			Subject: body.Subject, Text: Personalise(body.Text, false, values), HTML: Personalise(body.HTML, true, values),
			Headers: headers, Suppressed: r.Suppressed,
		}
	}
	return outbox.EnqueueBatch(ctx, tx, now, es)
}

func ofCampaign(id pulid.ID) func(*ent.OutboxMessageUpdate) *ent.OutboxMessageUpdate {
	return func(u *ent.OutboxMessageUpdate) *ent.OutboxMessageUpdate {
		return u.Where(outboxmessage.DedupeKeyHasPrefix(BatchKey(id) + ":"))
	}
}

// Pause implements Deliveries.
func (OutboxDeliveries) Pause(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	n, err := ofCampaign(id)(tx.OutboxMessage.Update()).
		Where(outboxmessage.StateEQ(outboxmessage.StateQueued)).
		SetNextAttemptAt(pausedUntil).Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("pause deliveries of %s: %w", id, err)
	}
	return n, nil
}

// Resume implements Deliveries.
func (OutboxDeliveries) Resume(ctx context.Context, tx *ent.Client, id pulid.ID, now time.Time) (int, error) {
	n, err := ofCampaign(id)(tx.OutboxMessage.Update()).
		Where(outboxmessage.StateEQ(outboxmessage.StateQueued), outboxmessage.NextAttemptAtGTE(pausedUntil)).
		SetNextAttemptAt(now.UTC().Truncate(time.Microsecond)).Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("resume deliveries of %s: %w", id, err)
	}
	return n, nil
}

// Cancel implements Deliveries.
func (OutboxDeliveries) Cancel(ctx context.Context, tx *ent.Client, id pulid.ID) (int, error) {
	n, err := ofCampaign(id)(tx.OutboxMessage.Update()).
		Where(outboxmessage.StateEQ(outboxmessage.StateQueued)).
		SetState(outboxmessage.StateCancelled).Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("cancel deliveries of %s: %w", id, err)
	}
	return n, nil
}

// Counts implements Deliveries.
func (OutboxDeliveries) Counts(ctx context.Context, client *ent.Client, id pulid.ID) (Counts, error) {
	ctx = viewer.NewSystemContext(ctx)
	var rows []struct {
		State outboxmessage.State `json:"state"`
		Count int                 `json:"count"`
	}
	err := client.OutboxMessage.Query().
		Where(outboxmessage.DedupeKeyHasPrefix(BatchKey(id)+":")).
		GroupBy(outboxmessage.FieldState).Aggregate(ent.Count()).Scan(ctx, &rows)
	if err != nil {
		return Counts{}, fmt.Errorf("count deliveries of %s: %w", id, err)
	}
	var c Counts
	for _, r := range rows {
		switch r.State {
		case outboxmessage.StateQueued:
			c.Queued = r.Count
		case outboxmessage.StateSending:
			c.Sending = r.Count
		case outboxmessage.StateSent:
			c.Sent = r.Count
		case outboxmessage.StateFailed:
			c.Failed = r.Count
		case outboxmessage.StateSuppressed:
			c.Suppressed = r.Count
		case outboxmessage.StateCancelled:
			c.Cancelled = r.Count
		}
	}
	if c.Queued > 0 {
		paused, err := client.OutboxMessage.Query().
			Where(outboxmessage.DedupeKeyHasPrefix(BatchKey(id)+":"), outboxmessage.StateEQ(outboxmessage.StateQueued),
				outboxmessage.NextAttemptAtGTE(pausedUntil)).Count(ctx)
		if err != nil {
			return Counts{}, fmt.Errorf("count paused deliveries of %s: %w", id, err)
		}
		c.Queued -= paused
		c.Paused = paused
	}
	return c, nil
}
