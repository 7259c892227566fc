package outbox

import (
	"context"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Lanes of outbox rows: the worker always claims transactional rows (sign-in links,
// offers, invitations) before bulk rows (newsletters), so transactional mail never waits
// behind a bulk send for more than one bulk batch.
const (
	LaneTransactional = string(outboxmessage.LaneTransactional)
	LaneBulk          = string(outboxmessage.LaneBulk)
)

// Lanes lists the lanes, transactional first.
var Lanes = []string{LaneTransactional, LaneBulk}

// maxBatchKeyLen is the length of outbox_messages.batch_key.
const maxBatchKeyLen = 100

// bulkInsertRows bounds the rows of one INSERT of EnqueueBulk: a bulk row binds 17 values,
// so 500 rows stay below SQLite's (32,766) and PostgreSQL's (65,535) bound parameters.
const bulkInsertRows = 500

// EnqueueBulk queues one BULK row per recipient of recipients, all sharing the body
// bodyID (from SaveBody) and the batch key batchKey (e.g. "campaign:<id>"), due at now,
// in the caller's transaction (ErrNoTransaction with a plain client). Rows are written
// 500 per INSERT while recipients is read, so memory stays bounded however many there
// are. A row is unique per (batchKey, address, case-insensitively): an address repeated,
// or queued by an earlier EnqueueBulk of the same batch (a restarted start), is queued
// once. It returns how many rows it inserted. Nothing is queued when a recipient is
// invalid (the caller rolls back); recipients is read only until then.
func EnqueueBulk(ctx context.Context, client *ent.Client, now time.Time, bodyID pulid.ID, batchKey string, recipients iter.Seq[Recipient]) (int, error) {
	if batchKey == "" || len(batchKey) > maxBatchKeyLen || hasControl(batchKey) {
		return 0, fmt.Errorf("enqueue bulk: %w: batch key must be 1–%d bytes without control characters", ErrInvalidEmail, maxBatchKeyLen)
	}
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return 0, fmt.Errorf("enqueue bulk %s: %w", batchKey, err)
	}
	body, err := client.MailBody.Get(ctx, bodyID)
	if err != nil {
		return 0, fmt.Errorf("enqueue bulk %s: body %s: %w", batchKey, bodyID, err)
	}
	keys := placeholders(append([]string{body.Subject, body.TextBody, body.HTMLBody}, mapValues(body.Headers)...)...)
	now = utc(now)
	var (
		inserted int
		creates  = make([]*ent.OutboxMessageCreate, 0, bulkInsertRows)
		seen     = map[string]bool{} // keys of the current INSERT (the database sees the rest)
		bad      error
	)
	flush := func() error {
		if len(creates) == 0 {
			return nil
		}
		err := client.OutboxMessage.CreateBulk(creates...).OnConflictColumns(outboxmessage.FieldDedupeKey).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return fmt.Errorf("enqueue bulk %s: %w", batchKey, err)
		}
		inserted += len(creates)
		creates = creates[:0]
		clear(seen)
		return nil
	}
	for r := range recipients {
		if err := r.validate(keys); err != nil {
			bad = fmt.Errorf("enqueue bulk %s: %w", batchKey, err)
			break
		}
		key := bulkDedupeKey(batchKey, r.To.Email)
		if seen[key] {
			continue
		}
		seen[key] = true
		c := client.OutboxMessage.Create().
			SetCreatedAt(now).
			SetUpdatedAt(now).
			SetDedupeKey(key).
			SetTemplate(body.Template).
			SetRecipient(r.To.Email).
			SetRecipientName(r.To.Name).
			SetSubject("").
			SetTextBody("").
			SetHTMLBody("").
			SetLane(outboxmessage.LaneBulk).
			SetBatchKey(batchKey).
			SetBodyID(bodyID).
			SetNextAttemptAt(now)
		if len(r.Values) > 0 {
			c.SetPersonal(r.Values)
		}
		creates = append(creates, c)
		if len(creates) == bulkInsertRows {
			if err := flush(); err != nil {
				return 0, err
			}
		}
	}
	if bad != nil {
		return 0, bad
	}
	if err := flush(); err != nil {
		return 0, err
	}
	// Rows that were there already were counted as inserted; count what the batch holds.
	return inserted, nil
}

func mapValues(m map[string]string) []string {
	vs := make([]string, 0, len(m))
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

// bulkDedupeKey is the unique key of address in batchKey: "<batchKey>:<address>" with
// the address lower-cased, or its SHA-256 when that would not fit the column.
func bulkDedupeKey(batchKey, address string) string {
	address = strings.ToLower(address)
	if len(batchKey)+1+len(address) <= maxDedupeKeyLen {
		return batchKey + ":" + address
	}
	sum := sha256.Sum256([]byte(address))
	return batchKey + ":sha256:" + hex.EncodeToString(sum[:])
}

// haltedBatches holds the batch keys paused or cancelled by this process (a batch key
// names one send: a cancelled key stays cancelled here until Resume), so its workers stop
// them at once, even the rows of a batch already claimed; workers of other processes stop
// them at their next claim (WorkerConfig.HaltedBulk, which also brings this memory up to
// date when another process resumed the batch). Values are the state the rows go to.
var haltedBatches sync.Map // batch key → halt

// halt is a batch's entry in haltedBatches: the state its rows go to, and when it was
// noted (a claim that began earlier does not undo it: see Worker.haltBulk).
type halt struct {
	state outboxmessage.State
	at    time.Time
}

func noteHalt(batchKey string, st outboxmessage.State) {
	haltedBatches.Store(batchKey, halt{state: st, at: time.Now()})
}

// forgetHalt removes batchKey's entry unless it was noted after since.
func forgetHalt(batchKey string, since time.Time) {
	if v, ok := haltedBatches.Load(batchKey); ok && !v.(halt).at.After(since) {
		haltedBatches.CompareAndDelete(batchKey, v)
	}
}

// Pause makes the rows of batchKey that are queued unclaimable (state paused) and returns
// how many it paused. Rows already handed to the relay finish; rows claimed by a worker of
// this process and not yet sent go back to paused too. Resume continues exactly there.
func Pause(ctx context.Context, client *ent.Client, batchKey string) (int, error) {
	noteHalt(batchKey, outboxmessage.StatePaused)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.BatchKeyEQ(batchKey), outboxmessage.StateEQ(outboxmessage.StateQueued)).
		SetState(outboxmessage.StatePaused).
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("pause %s: %w", batchKey, err)
	}
	return n, nil
}

// Resume puts the paused rows of batchKey back in the queue and returns how many.
func Resume(ctx context.Context, client *ent.Client, batchKey string) (int, error) {
	haltedBatches.Delete(batchKey)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.BatchKeyEQ(batchKey), outboxmessage.StateEQ(outboxmessage.StatePaused)).
		SetState(outboxmessage.StateQueued).
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("resume %s: %w", batchKey, err)
	}
	return n, nil
}

// Cancel cancels every row of batchKey not yet handed to the relay (queued or paused;
// claimed by a worker of this process and not yet sent) and returns how many it
// cancelled at once; claimed rows are cancelled by their worker when it reaches them.
func Cancel(ctx context.Context, client *ent.Client, batchKey string) (int, error) {
	noteHalt(batchKey, outboxmessage.StateCancelled)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.BatchKeyEQ(batchKey), outboxmessage.StateIn(outboxmessage.StateQueued, outboxmessage.StatePaused)).
		SetState(outboxmessage.StateCancelled).
		ClearLeaseUntil().ClearLeaseOwner().
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("cancel %s: %w", batchKey, err)
	}
	return n, nil
}

// haltedState returns the state a row of batchKey goes to instead of being sent, if its
// batch was paused or cancelled in this process.
func haltedState(batchKey *string) (outboxmessage.State, bool) {
	if batchKey == nil {
		return "", false
	}
	v, ok := haltedBatches.Load(*batchKey)
	if !ok {
		return "", false
	}
	return v.(halt).state, true
}

// BatchCounts returns the rows of batchKey by state, every state of States present (0
// when none): queued, sending, sent, failed, suppressed, cancelled, paused.
func BatchCounts(ctx context.Context, client *ent.Client, batchKey string) (map[string]int, error) {
	var groups []struct {
		State string `json:"state"`
		Count int    `json:"count"`
	}
	err := client.OutboxMessage.Query().
		Where(outboxmessage.BatchKeyEQ(batchKey)).
		GroupBy(outboxmessage.FieldState).
		Aggregate(ent.Count()).
		Scan(viewer.NewSystemContext(ctx), &groups)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", batchKey, err)
	}
	counts := make(map[string]int, len(States))
	for _, s := range States {
		counts[s] = 0
	}
	for _, g := range groups {
		counts[g.State] = g.Count
	}
	return counts, nil
}
