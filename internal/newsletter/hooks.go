package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/campaign"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// SuppressBulk is the outbox worker's claim-time check of newsletter mail
// (outbox.WorkerConfig.SuppressBulk): which of recipients are on the suppression list now,
// read in the claiming transaction.
func SuppressBulk(ctx context.Context, client *ent.Client, recipients []string) ([]bool, error) {
	return suppressBulk(ctx, client, nil, recipients)
}

// SuppressBulkKeyed is SuppressBulk that also finds erased people's addresses (kept as
// their keyed hash under key): the check app wires.
func SuppressBulkKeyed(key []byte) func(ctx context.Context, client *ent.Client, recipients []string) ([]bool, error) {
	return func(ctx context.Context, client *ent.Client, recipients []string) ([]bool, error) {
		return suppressBulk(ctx, client, key, recipients)
	}
}

func suppressBulk(ctx context.Context, client *ent.Client, key []byte, recipients []string) ([]bool, error) {
	found, err := IsSuppressedKeyed(viewer.NewSystemContext(ctx), client, key, recipients)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(recipients))
	for i, r := range recipients {
		out[i] = found[r]
	}
	return out, nil
}

// HaltedBulk is the outbox worker's claim-time check of campaigns
// (outbox.WorkerConfig.HaltedBulk): for each shared body of a campaign
// (campaign.mail_body_id), whether the campaign is paused ("paused"), cancelled
// ("cancelled") or neither (""), read in the claiming transaction. So a pause holds
// whichever process claims the deliveries, and after a crash: the deliveries a dead
// process had claimed are paused, not sent, when their lease runs out. Bodies of no
// campaign are left out of the answer.
func HaltedBulk(ctx context.Context, client *ent.Client, bodies []pulid.ID) (map[pulid.ID]string, error) {
	if len(bodies) == 0 {
		return nil, nil
	}
	cs, err := client.Campaign.Query().Where(campaign.MailBodyIDIn(bodies...)).
		Select(campaign.FieldID, campaign.FieldStatus, campaign.FieldMailBodyID).All(viewer.NewSystemContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("read campaign states: %w", err)
	}
	out := make(map[pulid.ID]string, len(cs))
	for _, c := range cs {
		if c.MailBodyID == nil {
			continue
		}
		switch c.Status {
		case campaign.StatusPAUSED:
			out[*c.MailBodyID] = string(outboxmessage.StatePaused)
		case campaign.StatusCANCELLED:
			out[*c.MailBodyID] = string(outboxmessage.StateCancelled)
		default:
			out[*c.MailBodyID] = ""
		}
	}
	return out, nil
}

// RecordBounce suppresses address for newsletters after the relay refused a message to
// it permanently (outbox.WorkerConfig.OnHardBounce), with the relay's answer as detail.
// Transactional mail to it is still attempted (the worker does not ask about it).
func RecordBounce(ctx context.Context, client *ent.Client, address string, cause error) error {
	detail := ""
	if cause != nil {
		detail = cause.Error()
	}
	return db.InTx(viewer.NewSystemContext(ctx), client, func(ctx context.Context, tx *ent.Client) error {
		if _, err := Suppress(ctx, tx, address, ReasonHardBounce, detail); err != nil {
			return fmt.Errorf("suppress %s after a hard bounce: %w", address, err)
		}
		return nil
	})
}
