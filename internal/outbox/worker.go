package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	netmail "net/mail"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"golang.org/x/time/rate"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/mailbody"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/predicate"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/clip"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/jobs"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Defaults of WorkerConfig.
const (
	DefaultConcurrency  = 1
	DefaultBatchSize    = 100
	DefaultLease        = 30 * time.Second
	DefaultMaxAttempts  = 10
	DefaultBackoffBase  = 30 * time.Second
	DefaultBackoffMax   = time.Hour
	DefaultPollInterval = 5 * time.Second
)

// DispatchJobName is the name of the periodic job that drains the outbox (DispatchJob).
const DispatchJobName = "outbox.dispatch"

// recordTimeout bounds writing a message's result (retried while the database is away),
// which happens even after the worker's context was cancelled: a message the relay
// accepted must not be sent again.
const recordTimeout = 30 * time.Second

// maxOwnerLen is the length of outbox_messages.lease_owner.
const maxOwnerLen = 100

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Client is the ent client of the database holding the outbox (required).
	Client *ent.Client
	// Dialect is the database's, dialect.SQLite or dialect.Postgres (required): claims
	// use FOR UPDATE SKIP LOCKED on PostgreSQL only.
	Dialect string
	// Transport delivers messages (required). The worker takes one Sender from it per
	// sending goroutine.
	Transport mail.Transport
	// From is the sender of every message (required).
	From mail.Address
	// Now is the clock (time.Now when nil). Times are stored in UTC.
	Now func() time.Time
	// Concurrency is the number of sending goroutines, each with its own connection
	// (DefaultConcurrency when zero).
	Concurrency int
	// RatePerSecond caps messages sent per second across the worker; 0 means no cap.
	RatePerSecond float64
	// BulkRatePerSecond caps BULK messages sent per second across the worker (within
	// RatePerSecond); 0 means no cap. A bulk batch then holds at most one second of
	// messages, so transactional mail never waits longer than that.
	BulkRatePerSecond float64
	// SuppressBulk, when set, is asked in the claiming transaction about the recipients
	// of the BULK rows being claimed (client is that transaction's); the rows it answers
	// true for are recorded suppressed and not sent. Transactional rows are never asked
	// about: a sign-in link to a bounced address is still attempted.
	SuppressBulk func(ctx context.Context, client *ent.Client, recipients []string) ([]bool, error)
	// HaltedBulk, when set, says in the claiming transaction (client is that
	// transaction's) which of bodies, the bulk sends of the BULK rows being claimed, are
	// halted now: paused (StatePaused) or cancelled (StateCancelled), or running ("").
	// Its answer overrides what this process remembers of Pause, Resume and Cancel, so a
	// halt made in another process, or before a crash, holds here too: the rows of a halted
	// batch are put in that state and not sent — among them the rows a dead worker had
	// claimed, whose lease ran out. Keys it leaves out keep this process's memory.
	HaltedBulk func(ctx context.Context, client *ent.Client, bodies []pulid.ID) (map[pulid.ID]string, error)
	// OnHardBounce, when set, is called (as the system viewer, after the failure was
	// recorded) for every message the relay refused permanently at RCPT or DATA (5xx), of
	// either lane, so the newsletter domain can suppress the address.
	OnHardBounce func(ctx context.Context, b Bounce)
	// BatchSize is the number of rows claimed at once (DefaultBatchSize when zero).
	BatchSize int
	// Lease is how long claimed rows belong to this worker unless renewed; the worker
	// renews the lease of a batch every Lease/3 while it sends it, so rows of a crashed
	// worker are claimed again one Lease after the crash (DefaultLease when zero).
	Lease time.Duration
	// MaxAttempts is the number of attempts after which a temporary failure fails the
	// row (DefaultMaxAttempts when zero).
	MaxAttempts int
	// BackoffBase and BackoffMax shape the delay before a retry: after attempt n, a
	// random delay between BackoffBase and min(BackoffMax, BackoffBase·2ⁿ⁻¹) (full
	// jitter above a floor of BackoffBase). Defaults DefaultBackoffBase, DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// PollInterval is how long Run waits for a Notify before it looks for due rows again
	// (DefaultPollInterval when zero).
	PollInterval time.Duration
	// Owner names this worker in leases, e.g. jobs.NewOwner() (required, at most 100 bytes).
	Owner string
	// Logger receives the worker's logs (slog.Default when nil).
	Logger *slog.Logger
	// Metrics, when set, counts results and send durations.
	Metrics *Metrics
}

// Worker claims due outbox rows, sends them, and records the results.
type Worker struct {
	client      *ent.Client
	postgres    bool
	transport   mail.Transport
	from        mail.Address
	now         func() time.Time
	concurrency int
	limiter     *rate.Limiter
	bulkLimiter *rate.Limiter
	bulkBatch   int
	suppress    func(context.Context, *ent.Client, []string) ([]bool, error)
	halted      func(context.Context, *ent.Client, []pulid.ID) (map[pulid.ID]string, error)
	onBounce    func(context.Context, Bounce)

	// bodies caches the shared bodies of bulk rows by id (they are frozen).
	bodiesMu    sync.Mutex
	bodies      map[pulid.ID]*ent.MailBody
	batchSize   int
	lease       time.Duration
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	poll        time.Duration
	owner       string
	log         *slog.Logger
	metrics     *Metrics

	notify chan struct{}

	// drainMu serialises drains of this worker; it guards senders, of which sending
	// goroutine i uses senders[i] only (a go-mail client must not be shared).
	drainMu sync.Mutex
	senders []mail.Sender

	// An outage of the relay: since when, and how many attempts it deferred.
	outageMu       sync.Mutex
	outageSince    time.Time
	outageDeferred int
}

// NewWorker checks cfg, fills in defaults, and returns a worker. It does not connect to
// the relay: the senders connect on their first message.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if cfg.Client == nil {
		bad("Client is nil")
	}
	if cfg.Dialect != dialect.SQLite && cfg.Dialect != dialect.Postgres {
		bad("Dialect %q is neither %q nor %q", cfg.Dialect, dialect.SQLite, dialect.Postgres)
	}
	if cfg.Transport == nil {
		bad("Transport is nil")
	}
	if a, err := netmail.ParseAddress(cfg.From.Email); err != nil || a.Address != cfg.From.Email {
		bad("From %q is not a bare email address", cfg.From.Email)
	}
	if cfg.Owner == "" || len(cfg.Owner) > maxOwnerLen {
		bad("Owner must be 1–%d bytes, got %q", maxOwnerLen, cfg.Owner)
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"Concurrency", int64(cfg.Concurrency)}, {"BatchSize", int64(cfg.BatchSize)}, {"MaxAttempts", int64(cfg.MaxAttempts)},
		{"Lease", int64(cfg.Lease)}, {"BackoffBase", int64(cfg.BackoffBase)}, {"BackoffMax", int64(cfg.BackoffMax)},
		{"PollInterval", int64(cfg.PollInterval)},
	} {
		if f.v < 0 {
			bad("%s must not be negative", f.name)
		}
	}
	if cfg.RatePerSecond < 0 {
		bad("RatePerSecond must not be negative, got %g", cfg.RatePerSecond)
	}
	if cfg.BulkRatePerSecond < 0 {
		bad("BulkRatePerSecond must not be negative, got %g", cfg.BulkRatePerSecond)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("new outbox worker: %w", errors.Join(errs...))
	}
	w := &Worker{
		client:      cfg.Client,
		postgres:    cfg.Dialect == dialect.Postgres,
		transport:   cfg.Transport,
		from:        cfg.From,
		now:         cfg.Now,
		concurrency: orDefault(cfg.Concurrency, DefaultConcurrency),
		batchSize:   orDefault(cfg.BatchSize, DefaultBatchSize),
		lease:       orDefault(cfg.Lease, DefaultLease),
		maxAttempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		backoffBase: orDefault(cfg.BackoffBase, DefaultBackoffBase),
		backoffMax:  orDefault(cfg.BackoffMax, DefaultBackoffMax),
		poll:        orDefault(cfg.PollInterval, DefaultPollInterval),
		owner:       cfg.Owner,
		log:         cfg.Logger,
		metrics:     cfg.Metrics,
		notify:      make(chan struct{}, 1),
		suppress:    cfg.SuppressBulk,
		halted:      cfg.HaltedBulk,
		onBounce:    cfg.OnHardBounce,
		bodies:      map[pulid.ID]*ent.MailBody{},
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if w.backoffMax < w.backoffBase {
		w.backoffMax = w.backoffBase
	}
	if cfg.RatePerSecond > 0 {
		// A burst of one per sender lets every goroutine start at once, then paces them.
		w.limiter = rate.NewLimiter(rate.Limit(cfg.RatePerSecond), w.concurrency)
	}
	w.bulkBatch = w.batchSize
	if cfg.BulkRatePerSecond > 0 {
		w.bulkLimiter = rate.NewLimiter(rate.Limit(cfg.BulkRatePerSecond), 1)
		w.bulkBatch = max(1, min(w.batchSize, int(math.Ceil(cfg.BulkRatePerSecond))))
	}
	w.senders = make([]mail.Sender, w.concurrency)
	return w, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (w *Worker) clock() time.Time { return utc(w.now()) }

// Notify tells Run that rows were queued, so it drains at once instead of at the next
// poll. It never blocks; call it after the enqueueing transaction commits.
func (w *Worker) Notify() {
	select {
	case w.notify <- struct{}{}:
	default:
	}
}

// outcome is what became of one claimed row.
type outcome int

const (
	unsent    outcome = iota // not attempted (the drain was cancelled first)
	accepted                 // the relay accepted it
	rejected                 // a permanent failure
	temporary                // a failure worth retrying
	halted                   // not attempted: its batch was paused or cancelled meanwhile
)

type result struct {
	outcome outcome
	err     error
	// state is the state a halted row goes to (paused or cancelled).
	state outboxmessage.State
}

// DrainOnce claims and sends batches until no row is due, and returns how many messages
// were sent, failed and scheduled for a retry. Each message's result is written as soon
// as the relay has answered, so a crash repeats at most the SMTP transactions in flight
// (one per sending goroutine). When ctx is cancelled it stops claiming, lets the sends
// already started finish and records them, puts the rows it did not get to back in the
// queue, and returns ctx's error. Drains of one Worker run one at a time.
func (w *Worker) DrainOnce(ctx context.Context) (sent, failed, retried int, err error) {
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return sent, failed, retried, err
		}
		batch, err := w.claim(ctx)
		if err != nil {
			return sent, failed, retried, err
		}
		if len(batch) == 0 {
			return sent, failed, retried, nil
		}
		t, err := w.sendBatch(ctx, batch)
		sent, failed, retried = sent+t.sent, failed+t.failed, retried+t.retried
		if err != nil {
			return sent, failed, retried, err
		}
	}
}

// dueNow selects rows a worker may take: queued and due, or sending with a lease that
// ran out (their worker died).
func dueNow(now time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		outboxmessage.Or(
			outboxmessage.And(outboxmessage.StateEQ(outboxmessage.StateQueued), outboxmessage.NextAttemptAtLTE(now)),
			outboxmessage.And(outboxmessage.StateEQ(outboxmessage.StateSending), outboxmessage.LeaseUntilLT(now)),
		)(s)
	}
}

// claim takes up to BatchSize due rows in one transaction: it marks them sending under
// this worker's lease and counts the attempt. The returned rows show that state; bulk
// rows the SuppressBulk hook refused are recorded suppressed and not returned.
func (w *Worker) claim(ctx context.Context) ([]*ent.OutboxMessage, error) {
	ctx = viewer.NewSystemContext(ctx)
	began := time.Now() // wall clock for haltBulk's ordering against Pause, not a domain time
	tx, err := w.client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	rows, suppressed, err := w.claimIn(ctx, tx, began)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("claim outbox rows: %w", err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim outbox rows: commit: %w", err)
	}
	w.metrics.countLane(LaneBulk, ResultSuppressed, suppressed)
	return rows, nil
}

// claimIn claims, in this order, so that transactional mail never waits behind bulk
// mail for more than one bulk batch:
//  1. rows whose lease ran out (their worker died), and this worker's own rows left
//     sending by a drain whose results could not be written (drains of a worker run one
//     at a time, so none of them is in flight, and waiting for their lease to run out
//     would only delay them);
//  2. due transactional rows;
//  3. only when neither gave anything, due bulk rows (a bulk batch: BatchSize, or one
//     second of BulkRatePerSecond).
//
// Each step walks a partial index (queued rows by lane and next_attempt_at, or sending
// rows by lease) and stops at its limit, however many rows wait.
func (w *Worker) claimIn(ctx context.Context, tx *ent.Tx, began time.Time) (rows []*ent.OutboxMessage, suppressed int, err error) {
	now := w.clock()
	take := func(limit int, order []outboxmessage.OrderOption, where ...predicate.OutboxMessage) error {
		if limit <= 0 {
			return nil
		}
		q := tx.OutboxMessage.Query().Where(where...).Order(order...).Limit(limit)
		if w.postgres {
			// Other processes' claims skip the rows this one has locked, instead of waiting
			// for them and then sending them a second time. SQLite has no row locks: its
			// single writer connection serialises claims (ARCHITECTURE §6.4).
			q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
		}
		rs, err := q.All(ctx)
		rows = append(rows, rs...)
		return err
	}
	byDue := []outboxmessage.OrderOption{outboxmessage.ByNextAttemptAt(), outboxmessage.ByID()}
	if err := take(w.batchSize, []outboxmessage.OrderOption{outboxmessage.ByLeaseUntil()},
		inState(outboxmessage.StateSending),
		outboxmessage.Or(outboxmessage.LeaseUntilLT(now), outboxmessage.LeaseOwnerEQ(w.owner))); err != nil {
		return nil, 0, err
	}
	if err := take(w.batchSize-len(rows), byDue,
		inState(outboxmessage.StateQueued), outboxmessage.LaneEQ(outboxmessage.LaneTransactional),
		outboxmessage.NextAttemptAtLTE(now)); err != nil {
		return nil, 0, err
	}
	if len(rows) == 0 {
		// Bulk rows share next_attempt_at by the thousand: ordering by it alone lets the
		// index give them in order without sorting the whole lane.
		if err := take(w.bulkBatch, []outboxmessage.OrderOption{outboxmessage.ByNextAttemptAt()},
			inState(outboxmessage.StateQueued), outboxmessage.LaneEQ(outboxmessage.LaneBulk),
			outboxmessage.NextAttemptAtLTE(now)); err != nil {
			return nil, 0, err
		}
	}
	if len(rows) == 0 {
		return nil, 0, nil
	}
	if rows, err = w.haltBulk(ctx, tx, began, rows); err != nil || len(rows) == 0 {
		return nil, 0, err
	}
	rows, suppressed, err = w.suppressBulk(ctx, tx, rows)
	if err != nil || len(rows) == 0 {
		return nil, suppressed, err
	}
	if err := w.loadBodies(ctx, tx, rows); err != nil {
		return nil, 0, err
	}
	ids := make([]pulid.ID, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	leaseUntil := now.Add(w.lease)
	n, err := tx.OutboxMessage.Update().
		Where(outboxmessage.IDIn(ids...)).
		SetState(outboxmessage.StateSending).
		SetLeaseUntil(leaseUntil).
		SetLeaseOwner(w.owner).
		AddAttempts(1).
		Save(ctx)
	if err != nil {
		return nil, 0, err
	}
	if n != len(rows) {
		return nil, 0, fmt.Errorf("marked %d of %d rows sending", n, len(rows))
	}
	for _, r := range rows {
		r.State = outboxmessage.StateSending
		r.Attempts++
		r.LeaseUntil = &leaseUntil
		r.LeaseOwner = w.owner
	}
	return rows, suppressed, nil
}

// inState is state = '<s>' with the state written literally: a bound parameter would
// keep SQLite's planner from using the partial indexes (WHERE state = 'queued' and
// 'sending') that claims walk.
func inState(st outboxmessage.State) predicate.OutboxMessage {
	return func(s *sql.Selector) {
		s.Where(sql.ExprP(s.C(outboxmessage.FieldState) + " = '" + string(st) + "'"))
	}
}

// suppressBulk asks the SuppressBulk hook about the bulk rows among rows, records those
// it refuses as suppressed, and returns the others.
func (w *Worker) suppressBulk(ctx context.Context, tx *ent.Tx, rows []*ent.OutboxMessage) ([]*ent.OutboxMessage, int, error) {
	if w.suppress == nil {
		return rows, 0, nil
	}
	var bulk []*ent.OutboxMessage
	for _, r := range rows {
		if r.Lane == outboxmessage.LaneBulk {
			bulk = append(bulk, r)
		}
	}
	if len(bulk) == 0 {
		return rows, 0, nil
	}
	addrs := make([]string, len(bulk))
	for i, r := range bulk {
		addrs[i] = r.Recipient
	}
	refused, err := w.suppress(ctx, tx.Client(), addrs)
	if err != nil {
		return nil, 0, fmt.Errorf("suppression hook: %w", err)
	}
	if len(refused) != len(bulk) {
		return nil, 0, fmt.Errorf("suppression hook answered %d of %d recipients", len(refused), len(bulk))
	}
	drop := map[pulid.ID]bool{}
	var ids []pulid.ID
	for i, r := range bulk {
		if refused[i] {
			drop[r.ID] = true
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return rows, 0, nil
	}
	err = tx.OutboxMessage.Update().Where(outboxmessage.IDIn(ids...)).
		SetState(outboxmessage.StateSuppressed).ClearLeaseUntil().ClearLeaseOwner().
		SetLastError("suppressed when claimed").Exec(ctx)
	if err != nil {
		return nil, 0, err
	}
	kept := rows[:0]
	for _, r := range rows {
		if !drop[r.ID] {
			kept = append(kept, r)
		}
	}
	return kept, len(ids), nil
}

// haltBulk asks the HaltedBulk hook about the batches of the bulk rows among rows, puts
// the rows of halted batches in the state it answers (paused or cancelled) instead of
// claiming them, brings this process's memory of halted batches up to date, and returns
// the other rows.
func (w *Worker) haltBulk(ctx context.Context, tx *ent.Tx, began time.Time, rows []*ent.OutboxMessage) ([]*ent.OutboxMessage, error) {
	if w.halted == nil {
		return rows, nil
	}
	var keys []pulid.ID
	seen := map[pulid.ID]bool{}
	for _, r := range rows {
		if r.Lane == outboxmessage.LaneBulk && r.BodyID != nil && !seen[*r.BodyID] {
			seen[*r.BodyID] = true
			keys = append(keys, *r.BodyID)
		}
	}
	if len(keys) == 0 {
		return rows, nil
	}
	answer, err := w.halted(ctx, tx.Client(), keys)
	if err != nil {
		return nil, fmt.Errorf("halted batches hook: %w", err)
	}
	halt := map[pulid.ID]outboxmessage.State{}
	for key, st := range answer {
		switch st {
		case "":
			// A Pause or Cancel of this process that began after this claim's transaction
			// (not visible to it) stays noted.
			forgetHalt(key, began)
		case string(outboxmessage.StatePaused), string(outboxmessage.StateCancelled):
			noteHalt(key, outboxmessage.State(st))
			halt[key] = outboxmessage.State(st)
		default:
			return nil, fmt.Errorf("halted batches hook: batch %s: state %q is neither paused nor cancelled", key, st)
		}
	}
	if len(halt) == 0 {
		return rows, nil
	}
	byState := map[outboxmessage.State][]pulid.ID{}
	kept := rows[:0]
	for _, r := range rows {
		if r.BodyID != nil && r.Lane == outboxmessage.LaneBulk && halt[*r.BodyID] != "" {
			byState[halt[*r.BodyID]] = append(byState[halt[*r.BodyID]], r.ID)
			continue
		}
		kept = append(kept, r)
	}
	for st, ids := range byState {
		err := tx.OutboxMessage.Update().Where(outboxmessage.IDIn(ids...)).
			SetState(st).ClearLeaseUntil().ClearLeaseOwner().Exec(ctx)
		if err != nil {
			return nil, err
		}
	}
	return kept, nil
}

// maxCachedBodies bounds the worker's cache of shared bodies.
const maxCachedBodies = 64

// loadBodies makes sure the shared body of every row that has one is in the cache.
func (w *Worker) loadBodies(ctx context.Context, tx *ent.Tx, rows []*ent.OutboxMessage) error {
	w.bodiesMu.Lock()
	defer w.bodiesMu.Unlock()
	var missing []pulid.ID
	seen := map[pulid.ID]bool{}
	for _, r := range rows {
		if r.BodyID == nil || seen[*r.BodyID] {
			continue
		}
		seen[*r.BodyID] = true
		if w.bodies[*r.BodyID] == nil {
			missing = append(missing, *r.BodyID)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	bodies, err := tx.MailBody.Query().Where(mailbody.IDIn(missing...)).All(ctx)
	if err != nil {
		return fmt.Errorf("load mail bodies: %w", err)
	}
	if len(w.bodies)+len(bodies) > maxCachedBodies {
		clear(w.bodies)
	}
	for _, b := range bodies {
		w.bodies[b.ID] = b
	}
	return nil
}

func (w *Worker) body(id pulid.ID) *ent.MailBody {
	w.bodiesMu.Lock()
	defer w.bodiesMu.Unlock()
	return w.bodies[id]
}

// tally counts what became of a batch's rows.
type tally struct {
	sent, failed, retried, lost int
	// byLane counts results per lane for the metrics.
	byLane map[[2]string]int
}

func (t *tally) add(lane outboxmessage.Lane, o outcome) {
	var r string
	switch o {
	case accepted:
		t.sent++
		r = ResultSent
	case rejected:
		t.failed++
		r = ResultFailed
	case temporary:
		t.retried++
		r = ResultRetry
	case halted:
		return
	default:
		t.lost++
		return
	}
	if t.byLane == nil {
		t.byLane = map[[2]string]int{}
	}
	t.byLane[[2]string{string(lane), r}]++
}

// sendBatch delivers the batch over up to Concurrency goroutines, goroutine i through its
// own senders[i], and has each row's result written as soon as the relay has answered,
// before that goroutine takes its next row; the results of all goroutines that answered
// meanwhile go in one transaction (a group commit, see committer). A send that has
// started runs to completion even if ctx is cancelled (the relay may accept it, and then
// it must be recorded as sent). Rows not yet started when ctx ends, or when a result could
// not be written (the database is away: sending more would only make more messages that
// a restart sends twice), are put back in the queue. A bulk row whose batch was paused or
// cancelled in this process meanwhile is not sent but paused or cancelled. While the
// batch is out, its lease is renewed every Lease/3, so a long batch keeps its rows and a
// crashed worker's rows come back one lease after the crash.
func (w *Worker) sendBatch(ctx context.Context, batch []*ent.OutboxMessage) (tally, error) {
	next := make(chan int, len(batch))
	for i := range batch {
		next <- i
	}
	close(next)
	stopRenewal := w.renewLeases(ctx, batch)
	sendCtx := context.WithoutCancel(ctx)
	senders := min(w.concurrency, len(batch))
	c := w.startCommitter(ctx, senders)
	var (
		mu       sync.Mutex
		t        tally
		leftover []*ent.OutboxMessage
		recErr   error
		recStuck = make(chan struct{})
		stuck    sync.Once
		bounces  []Bounce
	)
	stop := func() bool {
		select {
		case <-recStuck:
			return true
		default:
			return ctx.Err() != nil
		}
	}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.leave()
			sender, err := w.sender(ctx, g)
			for i := range next {
				row := batch[i]
				bulk := row.Lane == outboxmessage.LaneBulk
				var res result
				if state, ok := haltedState(row.BodyID); ok {
					res = result{outcome: halted, state: state}
				}
				switch {
				case res.outcome == halted:
				case stop():
					res = result{outcome: unsent}
				case err != nil:
					res = result{outcome: temporary, err: err}
				case w.limiter != nil && w.limiter.Wait(ctx) != nil:
					res = result{outcome: unsent}
				case bulk && w.bulkLimiter != nil && w.bulkLimiter.Wait(ctx) != nil:
					res = result{outcome: unsent}
				default:
					res = w.sendOne(sendCtx, sender, row)
				}
				if res.outcome == unsent {
					mu.Lock()
					leftover = append(leftover, row)
					mu.Unlock()
					continue
				}
				o, rerr := c.record(row, res)
				mu.Lock()
				if rerr != nil {
					recErr = errors.Join(recErr, rerr)
					stuck.Do(func() { close(recStuck) })
				} else {
					t.add(row.Lane, o)
					if o == rejected && w.onBounce != nil && mail.IsHardBounce(res.err) {
						bounces = append(bounces, bounceOf(row, res.err))
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	c.stop()
	stopRenewal()
	if len(leftover) > 0 {
		if err := w.requeue(ctx, leftover); err != nil {
			recErr = errors.Join(recErr, err)
		}
	}
	if t.lost > 0 {
		w.log.Warn("outbox rows were taken over by another worker before their results were recorded", "op", "outbox.record", "owner", w.owner, "rows", t.lost)
	}
	w.metrics.count(t.sent, t.failed, t.retried)
	for k, n := range t.byLane {
		w.metrics.countLane(k[0], k[1], n)
	}
	for _, b := range bounces {
		w.onBounce(viewer.NewSystemContext(context.WithoutCancel(ctx)), b)
	}
	if recErr != nil {
		return t, fmt.Errorf("record outbox results: %w", recErr)
	}
	return t, nil
}

// renewLeases extends the lease of the batch's rows still sending under this worker
// every Lease/3 until the returned function is called (which waits for it to stop).
func (w *Worker) renewLeases(ctx context.Context, batch []*ent.OutboxMessage) func() {
	ids := make([]pulid.ID, len(batch))
	for i, r := range batch {
		ids[i] = r.ID
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(w.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			err := w.client.OutboxMessage.Update().
				Where(outboxmessage.IDIn(ids...), outboxmessage.StateEQ(outboxmessage.StateSending), outboxmessage.LeaseOwnerEQ(w.owner)).
				SetLeaseUntil(w.clock().Add(w.lease)).
				Exec(viewer.NewSystemContext(context.WithoutCancel(ctx)))
			if err != nil {
				w.log.Debug("renew outbox leases", "op", "outbox.lease", "owner", w.owner, "err", err)
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// sender returns goroutine g's sender, creating it on first use.
func (w *Worker) sender(ctx context.Context, g int) (mail.Sender, error) {
	if w.senders[g] != nil {
		return w.senders[g], nil
	}
	s, err := w.transport.NewSender(ctx)
	if err != nil {
		return nil, fmt.Errorf("new %s sender: %w", w.transport.Name(), err)
	}
	w.senders[g] = s
	return s, nil
}

func (w *Worker) sendOne(ctx context.Context, s mail.Sender, row *ent.OutboxMessage) result {
	msg := &mail.Message{
		// The Message-ID is derived from the row id, so a retry reuses it.
		ID:          row.ID.String(),
		From:        w.from,
		To:          mail.Address{Name: row.RecipientName, Email: row.Recipient},
		Subject:     row.Subject,
		Text:        row.TextBody,
		HTML:        row.HTMLBody,
		Headers:     row.Headers,
		Attachments: row.Attachments,
		Date:        w.clock(),
	}
	if row.BodyID != nil {
		body := w.body(*row.BodyID)
		if body == nil {
			return result{outcome: temporary, err: fmt.Errorf("mail body %s of message %s is not loaded", *row.BodyID, row.ID)}
		}
		personalise(msg, body, row.Personal)
	}
	// Wall-clock time for the latency metric only; no decision depends on it.
	start := time.Now()
	err := s.Send(ctx, msg)
	w.metrics.observeSend(time.Since(start))
	switch {
	case err == nil:
		w.relayUp()
		return result{outcome: accepted}
	case mail.IsPermanent(err):
		w.relayUp()
		return result{outcome: rejected, err: err}
	default:
		w.relayDown(err)
		return result{outcome: temporary, err: err}
	}
}

// relayDown notes a temporary failure. The first one of an outage is logged; the rest
// are counted, and the count is logged when the relay answers again, so an outage is a
// pair of lines, not one line per message and retry.
func (w *Worker) relayDown(err error) {
	w.outageMu.Lock()
	defer w.outageMu.Unlock()
	if w.outageDeferred == 0 {
		w.outageSince = time.Now()
		w.log.Warn("mail relay unavailable: messages stay queued and are retried with back-off", "op", "outbox.send", "owner", w.owner, "err", err)
	}
	w.outageDeferred++
}

// relayUp notes an answer from the relay, ending an outage if there was one.
func (w *Worker) relayUp() {
	w.outageMu.Lock()
	defer w.outageMu.Unlock()
	if w.outageDeferred == 0 {
		return
	}
	w.log.Info("mail relay available again", "op", "outbox.send", "owner", w.owner,
		"deferred_attempts", w.outageDeferred, "outage", time.Since(w.outageSince).Round(time.Millisecond).String())
	w.outageDeferred = 0
}

// backoff returns the delay before the retry that follows attempt n (1-based).
func (w *Worker) backoff(n int) time.Duration {
	ceiling := w.backoffBase
	for i := 1; i < n && ceiling < w.backoffMax; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, w.backoffMax)
	return w.backoffBase + rand.N(ceiling-w.backoffBase+1)
}

// ours narrows an update to rows still under this worker's claim of the given attempt, so
// a result that comes in after the lease ran out and another worker took the row over
// does not overwrite that worker's state.
func (w *Worker) ours(upd *ent.OutboxMessageUpdate, attempts int, ids ...pulid.ID) *ent.OutboxMessageUpdate {
	return upd.Where(
		outboxmessage.IDIn(ids...),
		outboxmessage.StateEQ(outboxmessage.StateSending),
		outboxmessage.LeaseOwnerEQ(w.owner),
		outboxmessage.AttemptsEQ(attempts),
	).ClearLeaseUntil().ClearLeaseOwner()
}

// Bounce is a message the relay refused permanently at RCPT or DATA (a hard bounce),
// given to WorkerConfig.OnHardBounce.
type Bounce struct {
	MessageID string
	Lane      string
	// Body is the shared body of the bulk send of the message, "" for transactional mail.
	Body      string
	Recipient string
	// Code is the SMTP reply code (5xx); Err the whole failure.
	Code int
	Err  error
}

func bounceOf(row *ent.OutboxMessage, err error) Bounce {
	b := Bounce{MessageID: row.ID.String(), Lane: string(row.Lane), Recipient: row.Recipient, Err: err}
	if row.BodyID != nil {
		b.Body = string(*row.BodyID)
	}
	var se *mail.SendError
	if errors.As(err, &se) {
		b.Code = se.Code
	}
	return b
}

// recording is one row's result waiting for the committer.
type recording struct {
	row  *ent.OutboxMessage
	res  result
	done chan recorded
}

type recorded struct {
	o   outcome
	err error
}

// committer writes the results of a batch's sending goroutines: each goroutine hands it
// its result and waits until it is committed, and the committer writes every result that
// is waiting in one transaction. So a crash still repeats at most the messages in flight
// (one per goroutine), while the database sees one commit for several messages.
//
// Once a result is in, the committer waits a little (up to groupWait) for the results of
// the goroutines still talking to the relay, and commits as soon as every goroutine still
// sending has handed in one: on a busy machine a commit of eight results costs hardly more
// than a commit of one.
type committer struct {
	w     *Worker
	ctx   context.Context
	queue chan recording
	done  chan struct{}
	// senders is the number of goroutines that hand in results; each says when it leaves.
	senders int
}

// groupWait bounds how long a result waits for others to share its commit: small next to
// a relay's answer, long enough for the other connections to a relay close by.
const groupWait = time.Millisecond

func (w *Worker) startCommitter(ctx context.Context, senders int) *committer {
	c := &committer{w: w, ctx: ctx, queue: make(chan recording, w.concurrency), done: make(chan struct{}), senders: senders}
	go c.run()
	return c
}

// record hands row's result to the committer and returns the outcome written, or unsent
// when the row was no longer ours (taken over).
func (c *committer) record(row *ent.OutboxMessage, res result) (outcome, error) {
	done := make(chan recorded, 1)
	c.queue <- recording{row: row, res: res, done: done}
	r := <-done
	return r.o, r.err
}

// leave says a sending goroutine has no more results to hand in.
func (c *committer) leave() { c.queue <- recording{} }

// stop ends the committer once every result handed to it is written.
func (c *committer) stop() {
	close(c.queue)
	<-c.done
}

func (c *committer) run() {
	defer close(c.done)
	group := make([]recording, 0, c.w.concurrency)
	active := c.senders
	timer := time.NewTimer(groupWait)
	timer.Stop()
	for first := range c.queue {
		if first.row == nil {
			active--
			continue
		}
		group = append(group[:0], first)
		timer.Reset(groupWait)
	more:
		for len(group) < active {
			select {
			case r, ok := <-c.queue:
				if !ok {
					break more
				}
				if r.row == nil {
					active--
					continue
				}
				group = append(group, r)
			case <-timer.C:
				break more
			}
		}
		timer.Stop()
		outcomes, err := c.w.recordGroup(c.ctx, group)
		for i, r := range group {
			if err != nil {
				r.done <- recorded{o: unsent, err: err}
				continue
			}
			r.done <- recorded{o: outcomes[i]}
		}
	}
}

// errTakenOver says an UPDATE of several rows found fewer of them still under this
// worker's claim than it named.
var errTakenOver = errors.New("some rows were taken over by another worker")

// recordGroup writes the results of group in one transaction (retrying while the
// database is away, for up to recordTimeout) and returns the outcome written for each, or
// unsent for a row that was no longer ours.
func (w *Worker) recordGroup(ctx context.Context, group []recording) ([]outcome, error) {
	ctx, cancel := context.WithTimeout(viewer.NewSystemContext(context.WithoutCancel(ctx)), recordTimeout)
	defer cancel()
	now := w.clock()
	type plan struct {
		o     outcome
		next  time.Time
		state outboxmessage.State
	}
	plans := make([]plan, len(group))
	for i, r := range group {
		p := plan{o: r.res.outcome, state: r.res.state}
		if p.o == temporary && r.row.Attempts >= w.maxAttempts {
			p.o = rejected
		}
		if p.o == temporary {
			p.next = now.Add(w.backoff(r.row.Attempts))
		}
		plans[i] = p
	}
	outcomes := make([]outcome, len(group))
	// The accepted rows of one attempt count (almost always the whole group) are written
	// by one UPDATE; only if it finds fewer rows still ours than it names (some were taken
	// over) is the transaction rolled back and written row by row, to tell which.
	together := true
	writeAll := func() error {
		tx, err := w.client.Tx(ctx)
		if err != nil {
			return err
		}
		write := func(upd *ent.OutboxMessageUpdate, each []int, o outcome) error {
			n, err := upd.Save(ctx)
			if err != nil {
				return err
			}
			if len(each) > 1 && n != len(each) {
				return errTakenOver
			}
			for _, i := range each {
				outcomes[i] = o
				if n == 0 {
					outcomes[i] = unsent
				}
			}
			return nil
		}
		acceptedBy := map[int][]int{} // attempts → indexes of accepted rows
		for i, r := range group {
			p := plans[i]
			if p.o == accepted && together {
				acceptedBy[r.row.Attempts] = append(acceptedBy[r.row.Attempts], i)
				continue
			}
			upd := w.ours(tx.OutboxMessage.Update(), r.row.Attempts, r.row.ID)
			switch p.o {
			case accepted:
				upd.SetState(outboxmessage.StateSent).SetSentAt(now)
			case rejected:
				upd.SetState(outboxmessage.StateFailed).SetLastError(clip.String(r.res.err.Error(), maxErrorLen))
			case halted:
				upd.SetState(p.state).AddAttempts(-1)
			default:
				upd.SetState(outboxmessage.StateQueued).SetNextAttemptAt(p.next).SetLastError(clip.String(r.res.err.Error(), maxErrorLen))
			}
			if err := write(upd, []int{i}, p.o); err != nil {
				return errors.Join(err, tx.Rollback())
			}
		}
		for attempts, each := range acceptedBy {
			ids := make([]pulid.ID, len(each))
			for k, i := range each {
				ids[k] = group[i].row.ID
			}
			upd := w.ours(tx.OutboxMessage.Update(), attempts, ids...).SetState(outboxmessage.StateSent).SetSentAt(now)
			if err := write(upd, each, accepted); err != nil {
				return errors.Join(err, tx.Rollback())
			}
		}
		return tx.Commit()
	}
	err := db.Retry(ctx, writeAll)
	if errors.Is(err, errTakenOver) {
		together = false
		err = db.Retry(ctx, writeAll)
	}
	if err != nil {
		return nil, fmt.Errorf("%d messages: %w", len(group), err)
	}
	for i, r := range group {
		switch outcomes[i] {
		case rejected:
			w.log.Error("outbox message failed", "op", "outbox.record", "id", r.row.ID, "recipient", r.row.Recipient, "attempts", r.row.Attempts, "err", r.res.err)
		case temporary:
			w.log.Debug("outbox message will be retried", "op", "outbox.record", "id", r.row.ID, "attempts", r.row.Attempts, "next_attempt_at", plans[i].next, "err", r.res.err)
		}
	}
	return outcomes, nil
}

// requeue puts rows that were claimed but never attempted back in the queue and gives
// their attempt back, in one UPDATE per attempt count (almost always one).
func (w *Worker) requeue(ctx context.Context, rows []*ent.OutboxMessage) error {
	ctx, cancel := context.WithTimeout(viewer.NewSystemContext(context.WithoutCancel(ctx)), recordTimeout)
	defer cancel()
	byAttempts := map[int][]pulid.ID{}
	for _, r := range rows {
		byAttempts[r.Attempts] = append(byAttempts[r.Attempts], r.ID)
	}
	for attempts, ids := range byAttempts {
		err := db.Retry(ctx, func() error {
			return w.ours(w.client.OutboxMessage.Update(), attempts, ids...).
				SetState(outboxmessage.StateQueued).AddAttempts(-1).Exec(ctx)
		})
		if err != nil {
			return fmt.Errorf("requeue %d unsent rows: %w", len(ids), err)
		}
	}
	return nil
}

// Run drains the outbox until ctx is cancelled: it drains, then waits for Notify or the
// poll interval, and drains again. On cancellation the batch in flight is finished and
// recorded (see DrainOnce) and the senders are closed. Run blocks; it returns nil after
// a cancellation.
func (w *Worker) Run(ctx context.Context) error {
	log := w.log.With("op", "outbox.run", "owner", w.owner)
	defer func() {
		if err := w.Close(); err != nil {
			log.Warn("close senders", "err", err)
		}
	}()
	timer := time.NewTimer(w.poll)
	defer timer.Stop()
	for {
		sent, failed, retried, err := w.DrainOnce(ctx)
		if sent+failed+retried > 0 {
			log.Info("outbox drained", "sent", sent, "failed", failed, "retried", retried)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			log.Error("drain outbox", "err", err)
		}
		timer.Reset(w.poll)
		select {
		case <-ctx.Done():
			return nil
		case <-w.notify:
		case <-timer.C:
		}
	}
}

// Close closes the worker's senders (their connections to the relay). It waits for a
// drain in progress. The worker can still drain afterwards; it then connects again.
func (w *Worker) Close() error {
	w.drainMu.Lock()
	defer w.drainMu.Unlock()
	var errs []error
	for i, s := range w.senders {
		if s != nil {
			errs = append(errs, s.Close())
			w.senders[i] = nil
		}
	}
	return errors.Join(errs...)
}

// DispatchJob returns the periodic job that drains the outbox through w, for runners
// that prefer a job (with its lease: one process at a time) to Run in every process.
func (w *Worker) DispatchJob(interval time.Duration) jobs.Job {
	return jobs.Job{
		Name:     DispatchJobName,
		Interval: interval,
		Run: func(ctx context.Context) error {
			_, _, _, err := w.DrainOnce(ctx)
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				// Shutdown: the batch in flight was finished and recorded; not a failure.
				return nil
			}
			return err
		},
	}
}
