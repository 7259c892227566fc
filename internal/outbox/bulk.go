package outbox

import (
	"context"
	stdsql "database/sql"

	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"time"

	entsql "entgo.io/ent/dialect/sql"

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

// bulkInsertRows bounds the rows of one INSERT of EnqueueBulk: a bulk row binds 15 values,
// so 500 rows stay below SQLite's (32,766) and PostgreSQL's (65,535) bound parameters.
const bulkInsertRows = 500

// EnqueueBulk queues one BULK row per recipient of recipients, all sharing the body
// bodyID (from SaveBody), due at now, in the caller's transaction (ErrNoTransaction with a
// plain client). The body names the bulk send (e.g. one campaign's): Pause, Resume, Cancel
// and BatchCounts take it. Rows are written 500 per INSERT while recipients is read, so
// memory stays bounded however many there are. A row is unique per (body, address) — the
// address is stored lower-cased, as mailbox providers treat it —: an address repeated, or
// queued by an earlier EnqueueBulk of the same body (a restarted start), is queued once.
// It returns how many rows it inserted. Nothing is queued when a recipient is invalid (the
// caller rolls back); recipients is read only until then.
func EnqueueBulk(ctx context.Context, client *ent.Client, now time.Time, bodyID pulid.ID, recipients iter.Seq[Recipient]) (int, error) {
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return 0, fmt.Errorf("enqueue bulk %s: %w", bodyID, err)
	}
	body, err := client.MailBody.Get(ctx, bodyID)
	if err != nil {
		return 0, fmt.Errorf("enqueue bulk: body %s: %w", bodyID, err)
	}
	keys := placeholders(append([]string{body.Subject, body.TextBody, body.HTMLBody}, mapValues(body.Headers)...)...)
	// Whole seconds: a timestamp is text on SQLite, and a fraction adds 7 bytes to each of
	// the row's three times, for every recipient (due a fraction of a second early is due).
	now = utc(now).Truncate(time.Second)
	var (
		inserted int
		creates  = make([]*ent.OutboxMessageCreate, 0, bulkInsertRows)
		seen     = map[string]bool{} // addresses of the current INSERT (the database sees the rest)
		bad      error
	)
	flush := func() error {
		if len(creates) == 0 {
			return nil
		}
		err := client.OutboxMessage.CreateBulk(creates...).
			OnConflict(
				// the partial unique index of the bulk lane (the WHERE lets both
				// dialects infer it)
				entsql.ConflictColumns(outboxmessage.FieldBodyID, outboxmessage.FieldRecipient),
				entsql.ConflictWhere(entsql.ExprP("lane = 'bulk'")), // literal, as in the index: SQLite cannot match a bound parameter
			).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return fmt.Errorf("enqueue bulk %s: %w", bodyID, err)
		}
		inserted += len(creates)
		creates = creates[:0]
		clear(seen)
		return nil
	}
	for r := range recipients {
		if err := r.validate(keys); err != nil {
			bad = fmt.Errorf("enqueue bulk %s: %w", bodyID, err)
			break
		}
		address := strings.ToLower(r.To.Email)
		if seen[address] {
			continue
		}
		seen[address] = true
		c := client.OutboxMessage.Create().
			SetCreatedAt(now).
			SetUpdatedAt(now).
			SetTemplate(body.Template).
			SetRecipient(address).
			SetRecipientName(r.To.Name).
			SetSubject("").
			SetTextBody("").
			SetHTMLBody("").
			SetLane(outboxmessage.LaneBulk).
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

// haltedBatches holds the bulk sends (their bodies) paused or cancelled by this process
// (a cancelled one stays cancelled here until Resume), so its workers stop
// them at once, even the rows of a batch already claimed; workers of other processes stop
// them at their next claim (WorkerConfig.HaltedBulk, which also brings this memory up to
// date when another process resumed the batch). Values are the state the rows go to.
var haltedBatches sync.Map // body id → halt

// halt is a batch's entry in haltedBatches: the state its rows go to, and when it was
// noted (a claim that began earlier does not undo it: see Worker.haltBulk).
type halt struct {
	state outboxmessage.State
	at    time.Time
}

func noteHalt(body pulid.ID, st outboxmessage.State) {
	haltedBatches.Store(body, halt{state: st, at: time.Now()})
}

// forgetHalt removes body's entry unless it was noted after since.
func forgetHalt(body pulid.ID, since time.Time) {
	if v, ok := haltedBatches.Load(body); ok && !v.(halt).at.After(since) {
		haltedBatches.CompareAndDelete(body, v)
	}
}

// Pause makes the rows of the bulk send of body that are queued unclaimable (state paused) and returns
// how many it paused. Rows already handed to the relay finish; rows claimed by a worker of
// this process and not yet sent go back to paused too. Resume continues exactly there.
func Pause(ctx context.Context, client *ent.Client, body pulid.ID) (int, error) {
	noteHalt(body, outboxmessage.StatePaused)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk), outboxmessage.BodyID(body), outboxmessage.StateEQ(outboxmessage.StateQueued)).
		SetState(outboxmessage.StatePaused).
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("pause %s: %w", body, err)
	}
	return n, nil
}

// Resume puts the paused rows of the bulk send of body back in the queue and returns how many.
func Resume(ctx context.Context, client *ent.Client, body pulid.ID) (int, error) {
	haltedBatches.Delete(body)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk), outboxmessage.BodyID(body), outboxmessage.StateEQ(outboxmessage.StatePaused)).
		SetState(outboxmessage.StateQueued).
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("resume %s: %w", body, err)
	}
	return n, nil
}

// Cancel cancels every row of the bulk send of body not yet handed to the relay (queued or paused;
// claimed by a worker of this process and not yet sent) and returns how many it
// cancelled at once; claimed rows are cancelled by their worker when it reaches them.
func Cancel(ctx context.Context, client *ent.Client, body pulid.ID) (int, error) {
	noteHalt(body, outboxmessage.StateCancelled)
	n, err := client.OutboxMessage.Update().
		Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk), outboxmessage.BodyID(body), outboxmessage.StateIn(outboxmessage.StateQueued, outboxmessage.StatePaused)).
		SetState(outboxmessage.StateCancelled).
		ClearLeaseUntil().ClearLeaseOwner().
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return 0, fmt.Errorf("cancel %s: %w", body, err)
	}
	return n, nil
}

// haltedState returns the state a row of the bulk send of body goes to instead of being
// sent, if that send was paused or cancelled in this process.
func haltedState(body *pulid.ID) (outboxmessage.State, bool) {
	if body == nil {
		return "", false
	}
	v, ok := haltedBatches.Load(*body)
	if !ok {
		return "", false
	}
	return v.(halt).state, true
}

// BatchCounts returns the rows of the bulk send of body by state, every state of States present (0
// when none): queued, sending, sent, failed, suppressed, cancelled, paused.
func BatchCounts(ctx context.Context, client *ent.Client, body pulid.ID) (map[string]int, error) {
	var groups []struct {
		State string `json:"state"`
		Count int    `json:"count"`
	}
	err := client.OutboxMessage.Query().
		Where(outboxmessage.LaneEQ(outboxmessage.LaneBulk), outboxmessage.BodyID(body)).
		GroupBy(outboxmessage.FieldState).
		Aggregate(ent.Count()).
		Scan(viewer.NewSystemContext(ctx), &groups)
	if err != nil {
		return nil, fmt.Errorf("count %s: %w", body, err)
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
