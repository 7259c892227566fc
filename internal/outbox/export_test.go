package outbox

import (
	"context"
	"time"

	"github.com/gocart-coalition/coalition/ent"
)

// ClaimAndSendWithoutRecording plays a worker that claims a batch, hands it to the relay,
// and dies before recording anything: the rows stay sending under its lease.
func (w *Worker) ClaimAndSendWithoutRecording(ctx context.Context) ([]*ent.OutboxMessage, error) {
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	rows, err := w.claim(ctx)
	if err != nil {
		return nil, err
	}
	sender, err := w.sender(ctx, 0)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		w.sendOne(ctx, sender, r)
	}
	return rows, nil
}

// Backoff exposes the retry delay after attempt n.
func (w *Worker) Backoff(n int) time.Duration { return w.backoff(n) }

// RecordAllAccepted writes rows as accepted by the relay, all in one group (as the
// committer does when every sending goroutine answered at once), and says per row whether
// the result was written (false: the row was no longer this worker's).
func (w *Worker) RecordAllAccepted(ctx context.Context, rows []*ent.OutboxMessage) ([]bool, error) {
	group := make([]recording, len(rows))
	for i, r := range rows {
		group[i] = recording{row: r, res: result{outcome: accepted}}
	}
	outcomes, err := w.recordGroup(ctx, group)
	if err != nil {
		return nil, err
	}
	written := make([]bool, len(rows))
	for i, o := range outcomes {
		written[i] = o == accepted
	}
	return written, nil
}
