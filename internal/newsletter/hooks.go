package newsletter

import (
	"context"
	"fmt"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// SuppressBulk is the outbox worker's claim-time check of newsletter mail
// (outbox.WorkerConfig.SuppressBulk): which of recipients are on the suppression list now,
// read in the claiming transaction.
func SuppressBulk(ctx context.Context, client *ent.Client, recipients []string) ([]bool, error) {
	found, err := IsSuppressed(viewer.NewSystemContext(ctx), client, recipients)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(recipients))
	for i, r := range recipients {
		out[i] = found[r]
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
