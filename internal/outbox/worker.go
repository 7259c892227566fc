package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	netmail "net/mail"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"golang.org/x/time/rate"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
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
)

type result struct {
	outcome outcome
	err     error
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

// claimable is dueNow plus the rows sending in this worker's own name. Those are left
// over from a drain of this worker whose results could not be written (the database was
// away); drains of a worker run one at a time, so none of them is in flight, and waiting
// for their lease to run out would only delay them.
func (w *Worker) claimable(now time.Time) func(*sql.Selector) {
	return func(s *sql.Selector) {
		outboxmessage.Or(
			dueNow(now),
			outboxmessage.And(outboxmessage.StateEQ(outboxmessage.StateSending), outboxmessage.LeaseOwnerEQ(w.owner)),
		)(s)
	}
}

// claim takes up to BatchSize due rows in one transaction: it marks them sending under
// this worker's lease and counts the attempt. The returned rows show that state.
func (w *Worker) claim(ctx context.Context) ([]*ent.OutboxMessage, error) {
	ctx = viewer.NewSystemContext(ctx)
	tx, err := w.client.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("claim outbox rows: %w", err)
	}
	rows, err := w.claimIn(ctx, tx)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("claim outbox rows: %w", err), tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("claim outbox rows: commit: %w", err)
	}
	return rows, nil
}

func (w *Worker) claimIn(ctx context.Context, tx *ent.Tx) ([]*ent.OutboxMessage, error) {
	now := w.clock()
	q := tx.OutboxMessage.Query().
		Where(w.claimable(now)).
		Order(outboxmessage.ByNextAttemptAt(), outboxmessage.ByID()).
		Limit(w.batchSize)
	if w.postgres {
		// Other processes' claims skip the rows this one has locked, instead of waiting
		// for them and then sending them a second time. SQLite has no row locks: its
		// single writer connection serialises claims (ARCHITECTURE §6.4).
		q.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
	rows, err := q.All(ctx)
	if err != nil || len(rows) == 0 {
		return nil, err
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
		return nil, err
	}
	if n != len(rows) {
		return nil, fmt.Errorf("marked %d of %d rows sending", n, len(rows))
	}
	for _, r := range rows {
		r.State = outboxmessage.StateSending
		r.Attempts++
		r.LeaseUntil = &leaseUntil
		r.LeaseOwner = w.owner
	}
	return rows, nil
}

// tally counts what became of a batch's rows.
type tally struct {
	sent, failed, retried, lost int
}

// sendBatch delivers the batch over up to Concurrency goroutines, goroutine i through its
// own senders[i], and writes each row's result as soon as the relay has answered. A send
// that has started runs to completion even if ctx is cancelled (the relay may accept it,
// and then it must be recorded as sent). Rows not yet started when ctx ends, or when a
// result could not be written (the database is away: sending more would only make more
// messages that a restart sends twice), are put back in the queue. While the batch is
// out, its lease is renewed every Lease/3, so a long batch keeps its rows and a crashed
// worker's rows come back one lease after the crash.
func (w *Worker) sendBatch(ctx context.Context, batch []*ent.OutboxMessage) (tally, error) {
	next := make(chan int, len(batch))
	for i := range batch {
		next <- i
	}
	close(next)
	stopRenewal := w.renewLeases(ctx, batch)
	sendCtx := context.WithoutCancel(ctx)
	var (
		mu       sync.Mutex
		t        tally
		leftover []*ent.OutboxMessage
		recErr   error
		recStuck = make(chan struct{})
		stuck    sync.Once
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
	for g := range min(w.concurrency, len(batch)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sender, err := w.sender(ctx, g)
			for i := range next {
				row := batch[i]
				var res result
				switch {
				case stop():
					res = result{outcome: unsent}
				case err != nil:
					res = result{outcome: temporary, err: err}
				case w.limiter != nil && w.limiter.Wait(ctx) != nil:
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
				o, rerr := w.recordOne(ctx, row, res)
				mu.Lock()
				switch {
				case rerr != nil:
					recErr = errors.Join(recErr, rerr)
					stuck.Do(func() { close(recStuck) })
				case o == accepted:
					t.sent++
				case o == rejected:
					t.failed++
				case o == temporary:
					t.retried++
				default:
					t.lost++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
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

// recordOne writes one row's result (retrying while the database is away, for up to
// recordTimeout) and returns the outcome written, or unsent when the row was no longer
// ours (taken over).
func (w *Worker) recordOne(ctx context.Context, row *ent.OutboxMessage, res result) (outcome, error) {
	ctx, cancel := context.WithTimeout(viewer.NewSystemContext(context.WithoutCancel(ctx)), recordTimeout)
	defer cancel()
	now := w.clock()
	o := res.outcome
	if o == temporary && row.Attempts >= w.maxAttempts {
		o = rejected
	}
	var next time.Time
	if o == temporary {
		next = now.Add(w.backoff(row.Attempts))
	}
	var n int
	err := db.Retry(ctx, func() error {
		upd := w.ours(w.client.OutboxMessage.Update(), row.Attempts, row.ID)
		switch o {
		case accepted:
			upd.SetState(outboxmessage.StateSent).SetSentAt(now)
		case rejected:
			upd.SetState(outboxmessage.StateFailed).SetLastError(clip.String(res.err.Error(), maxErrorLen))
		default:
			upd.SetState(outboxmessage.StateQueued).SetNextAttemptAt(next).SetLastError(clip.String(res.err.Error(), maxErrorLen))
		}
		var err error
		n, err = upd.Save(ctx)
		return err
	})
	if err != nil {
		return unsent, fmt.Errorf("message %s: %w", row.ID, err)
	}
	if n == 0 {
		return unsent, nil
	}
	switch o {
	case rejected:
		w.log.Error("outbox message failed", "op", "outbox.record", "id", row.ID, "recipient", row.Recipient, "attempts", row.Attempts, "err", res.err)
	case temporary:
		w.log.Debug("outbox message will be retried", "op", "outbox.record", "id", row.ID, "attempts", row.Attempts, "next_attempt_at", next, "err", res.err)
	}
	return o, nil
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
