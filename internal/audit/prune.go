package audit

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Pruned is what Prune did.
type Pruned struct {
	// Checkpoint is the checkpoint written (empty when nothing was due).
	Checkpoint string
	// ThroughSeq is the position of the last event deleted.
	ThroughSeq int64
	// Deleted counts the events deleted, legacy ones (without a position) included.
	Deleted int
}

// Prune deletes the events that occurred before cutoff from the start of the chain: the
// longest run of positions from the start whose events are all older than cutoff, and the
// legacy events (written before the chain existed) older than cutoff. In the same
// transaction, with the chain locked, it first writes a checkpoint signed with key that
// records the last deleted position, its hash and how many events were ever deleted, so
// Verify checks the rest of the chain from there. The database refuses to delete an event
// no checkpoint covers (internal/db), and the ent policy refuses every delete, so this is
// the one way events leave (statements ent does not build).
func Prune(ctx context.Context, client *ent.Client, now, cutoff time.Time, key []byte) (Pruned, error) {
	var out Pruned
	if len(key) < MinKeyLen {
		return out, ErrNoKey
	}
	sys := viewer.NewSystemContext(ctx)
	cutoff = occurredAt(cutoff)
	err := inChainTx(sys, client, func(tx *ent.Client, h head) error {
		prev, err := lastCheckpoint(sys, tx)
		if err != nil {
			return err
		}
		var prevThrough, prevCount int64
		if prev != nil {
			prevThrough, prevCount = prev.ThroughSeq, prev.PrunedCount
		}
		through := h.seq
		firstKept, err := tx.AuditEvent.Query().
			Where(auditevent.SeqNotNil(), auditevent.OccurredAtGTE(cutoff)).
			Order(ent.Asc(auditevent.FieldSeq)).
			Select(auditevent.FieldSeq).
			First(sys)
		switch {
		case err == nil:
			through = *firstKept.Seq - 1
		case !ent.IsNotFound(err):
			return fmt.Errorf("audit: find the first event to keep: %w", err)
		}
		if through <= prevThrough {
			return nil // nothing new is due; legacy events go with the next checkpoint
		}
		last, err := tx.AuditEvent.Query().Where(auditevent.Seq(through)).Only(sys)
		if err != nil {
			return fmt.Errorf("audit: read the event at position %d: %w", through, err)
		}
		chained, err := tx.AuditEvent.Query().Where(auditevent.SeqLTE(through)).Count(sys)
		if err != nil {
			return fmt.Errorf("audit: count the events to prune: %w", err)
		}
		legacy, err := tx.AuditEvent.Query().Where(auditevent.SeqIsNil(), auditevent.OccurredAtLT(cutoff)).Count(sys)
		if err != nil {
			return fmt.Errorf("audit: count the legacy events to prune: %w", err)
		}
		cp := &ent.AuditCheckpoint{
			ID: pulid.New("ack"), CreatedAt: occurredAt(now), ThroughSeq: through, ThroughHash: last.Hash,
			PrunedCount: prevCount + int64(chained+legacy), Cutoff: cutoff,
		}
		cp.Signature = checkpointSignature(key, cp)
		if err := tx.AuditCheckpoint.Create().
			SetID(cp.ID).SetCreatedAt(cp.CreatedAt).SetThroughSeq(cp.ThroughSeq).SetThroughHash(cp.ThroughHash).
			SetPrunedCount(cp.PrunedCount).SetCutoff(cp.Cutoff).SetSignature(cp.Signature).
			Exec(sys); err != nil {
			return fmt.Errorf("audit: write checkpoint: %w", err)
		}
		n1, err := exec(sys, tx, `DELETE FROM audit_events WHERE seq <= $1`, through)
		if err != nil {
			return err
		}
		n2, err := exec(sys, tx, `DELETE FROM audit_events WHERE seq IS NULL AND occurred_at < $1`, cutoff)
		if err != nil {
			return err
		}
		if n1 != int64(chained) || n2 != int64(legacy) {
			return fmt.Errorf("audit: pruned %d+%d events, counted %d+%d", n1, n2, chained, legacy)
		}
		out = Pruned{Checkpoint: string(cp.ID), ThroughSeq: through, Deleted: chained + legacy}
		return nil
	})
	return out, err
}

func exec(ctx context.Context, tx *ent.Client, query string, args ...any) (int64, error) {
	res, err := tx.RawExec(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("audit: prune: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("audit: prune: %w", err)
	}
	return n, nil
}
