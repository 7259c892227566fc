package jobs

import (
	"context"
	"crypto/rand"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/job"
	"github.com/gocart-coalition/coalition/internal/clip"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Defaults of a Job and a Runner.
const (
	// DefaultTimeout bounds a run when Job.Timeout is zero.
	DefaultTimeout = 5 * time.Minute
	// DefaultTick is how often Start looks for due jobs when RunnerConfig.Tick is zero.
	DefaultTick = time.Second
	// DefaultLease is how long a lease lasts without renewal when RunnerConfig.Lease is
	// zero. A running job renews it every Lease/3, so another process takes a job over
	// at most this long after its holder died.
	DefaultLease = 10 * time.Second
)

// Limits of the jobs table (see ent/schema/job.go).
const (
	maxNameLen  = 100
	maxOwnerLen = 100
	maxErrorLen = 2000
)

// recordTimeout bounds writing a run's result (retried until it succeeds or this much
// time has passed), which happens even after the runner's context was cancelled so that a
// stopped run is still on record. A result that could not be written leaves the lease in
// this process's name, which this process takes back at its next look (see acquire).
const recordTimeout = 30 * time.Second

// Errors returned by the runner.
var (
	// ErrUnknownJob is returned by Trigger for a name that was never registered.
	ErrUnknownJob = errors.New("unknown job")
	// ErrAlreadyStarted is returned by a second call to Start.
	ErrAlreadyStarted = errors.New("job runner already started")
)

// Job is one periodic, idempotent job.
type Job struct {
	// Name identifies the job across processes, e.g. "outbox.dispatch" (at most 100 bytes).
	Name string
	// Interval is the least time from the start of one run to the start of the next.
	Interval time.Duration
	// Timeout bounds one run (DefaultTimeout when zero): a run still going after Timeout
	// has its context cancelled. The lease is not the timeout: it is short and renewed
	// while the run goes on (RunnerConfig.Lease).
	Timeout time.Duration
	// Run does the work. Its context carries the system viewer and is cancelled at
	// Timeout or when the runner stops.
	Run func(ctx context.Context) error
}

func (j Job) timeout() time.Duration {
	if j.Timeout > 0 {
		return j.Timeout
	}
	return DefaultTimeout
}

// Validate reports whether j can be registered.
func (j Job) Validate() error {
	switch {
	case j.Name == "":
		return errors.New("job name is empty")
	case len(j.Name) > maxNameLen:
		return fmt.Errorf("job name %q is longer than %d bytes", j.Name, maxNameLen)
	case j.Interval <= 0:
		return fmt.Errorf("job %s: interval must be positive, got %s", j.Name, j.Interval)
	case j.Timeout < 0:
		return fmt.Errorf("job %s: timeout must not be negative, got %s", j.Name, j.Timeout)
	case j.Run == nil:
		return fmt.Errorf("job %s: Run is nil", j.Name)
	}
	return nil
}

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Client is the ent client of the database that holds the jobs' state (required).
	Client *ent.Client
	// Now is the clock (time.Now when nil). Times are stored in UTC.
	Now func() time.Time
	// Owner names this process in leases, e.g. from NewOwner (required, at most 100 bytes).
	Owner string
	// Logger receives run outcomes (slog.Default when nil).
	Logger *slog.Logger
	// Tick is how often Start looks for due jobs (DefaultTick when zero).
	Tick time.Duration
	// Lease is how long a lease lasts unless renewed (DefaultLease when zero). A running
	// job's lease is renewed every Lease/3 (a heartbeat); a run whose lease could not be
	// renewed for a whole Lease, or was taken over, has its context cancelled.
	Lease time.Duration
	// Heartbeat is how often a running job's lease is renewed (Lease/3 when zero).
	Heartbeat time.Duration
}

// Runner runs registered jobs when they are due, at most one run of a job at a time
// across every process that shares the database.
type Runner struct {
	client *ent.Client
	now    func() time.Time
	owner  string
	log    *slog.Logger
	tick   time.Duration
	lease  time.Duration
	beat   time.Duration

	mu        sync.Mutex
	jobs      map[string]Job
	order     []string        // registration order
	ensured   map[string]bool // jobs whose row is known to exist
	triggered map[string]bool // run on the next look regardless of interval
	running   map[string]bool // runs in progress in this process

	wake chan struct{} // nudges Start's loop (Trigger)

	life    sync.Mutex
	started bool
	cancel  context.CancelFunc
	done    chan struct{}
}

// NewRunner checks cfg and returns a runner with no jobs.
func NewRunner(cfg RunnerConfig) (*Runner, error) {
	if cfg.Client == nil {
		return nil, errors.New("new job runner: Client is nil")
	}
	if cfg.Owner == "" || len(cfg.Owner) > maxOwnerLen {
		return nil, fmt.Errorf("new job runner: Owner must be 1–%d bytes, got %q", maxOwnerLen, cfg.Owner)
	}
	if cfg.Tick < 0 {
		return nil, fmt.Errorf("new job runner: Tick must not be negative, got %s", cfg.Tick)
	}
	if cfg.Lease < 0 || cfg.Heartbeat < 0 {
		return nil, fmt.Errorf("new job runner: Lease and Heartbeat must not be negative, got %s and %s", cfg.Lease, cfg.Heartbeat)
	}
	r := &Runner{
		client:    cfg.Client,
		now:       cfg.Now,
		owner:     cfg.Owner,
		log:       cfg.Logger,
		tick:      cfg.Tick,
		lease:     cfg.Lease,
		beat:      cfg.Heartbeat,
		jobs:      map[string]Job{},
		ensured:   map[string]bool{},
		triggered: map[string]bool{},
		running:   map[string]bool{},
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.tick == 0 {
		r.tick = DefaultTick
	}
	if r.lease == 0 {
		r.lease = DefaultLease
	}
	if r.beat == 0 {
		r.beat = r.lease / 3
	}
	return r, nil
}

// NewOwner returns a lease owner name for this process: hostname:pid:random.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	suffix := fmt.Sprintf(":%d:%s", os.Getpid(), hex.EncodeToString(b))
	if len(host)+len(suffix) > maxOwnerLen {
		host = host[:maxOwnerLen-len(suffix)]
	}
	return host + suffix
}

// Register adds j. Names are unique within a runner.
func (r *Runner) Register(j Job) error {
	if err := j.Validate(); err != nil {
		return fmt.Errorf("register job: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.jobs[j.Name]; dup {
		return fmt.Errorf("register job %s: already registered", j.Name)
	}
	r.jobs[j.Name] = j
	r.order = append(r.order, j.Name)
	return nil
}

// Trigger makes the named job run at the next look (the next RunDue or tick of Start)
// regardless of its interval. It still waits for a lease held elsewhere.
func (r *Runner) Trigger(name string) error {
	r.mu.Lock()
	_, ok := r.jobs[name]
	if ok {
		r.triggered[name] = true
	}
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("trigger job %s: %w", name, ErrUnknownJob)
	}
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// clock returns the current time in UTC at the precision PostgreSQL stores, so a time
// written and read back compares equal on both dialects.
func (r *Runner) clock() time.Time { return r.now().UTC().Truncate(time.Microsecond) }

// RunDue runs every registered job that is due and not leased elsewhere, concurrently,
// and returns when they have all finished. A job's own error (or panic) is recorded in
// its row and logged, not returned: the error RunDue returns is about the jobs' state
// (reading it, taking a lease, recording a result).
func (r *Runner) RunDue(ctx context.Context) error {
	var wg sync.WaitGroup
	var (
		mu   sync.Mutex
		errs []error
	)
	err := r.startDue(ctx, &wg, func(err error) {
		mu.Lock()
		errs = append(errs, err)
		mu.Unlock()
	})
	wg.Wait()
	return errors.Join(append([]error{err}, errs...)...)
}

// startDue starts a goroutine per due job it acquires, tracked by wg; recording errors
// of those runs go to onErr.
func (r *Runner) startDue(ctx context.Context, wg *sync.WaitGroup, onErr func(error)) error {
	if err := ctx.Err(); err != nil {
		return nil
	}
	sys := viewer.NewSystemContext(ctx)
	r.mu.Lock()
	var missing []string
	for _, n := range r.order {
		if !r.ensured[n] {
			missing = append(missing, n)
		}
	}
	names := slices.Clone(r.order)
	r.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	for _, n := range missing {
		if err := r.ensureRow(sys, n); err != nil {
			return err
		}
	}

	rows, err := r.client.Job.Query().Where(job.NameIn(names...)).All(sys)
	if err != nil {
		return fmt.Errorf("read jobs: %w", err)
	}
	byName := make(map[string]*ent.Job, len(rows))
	for _, row := range rows {
		byName[row.Name] = row
	}

	now := r.clock()
	var errs []error
	for _, name := range names {
		r.mu.Lock()
		j := r.jobs[name]
		forced := r.triggered[name]
		busy := r.running[name]
		r.mu.Unlock()
		row := byName[name]
		if row == nil { // deleted behind our back: create it again at the next look
			r.mu.Lock()
			delete(r.ensured, name)
			r.mu.Unlock()
			continue
		}
		if busy {
			continue
		}
		// A cheap look first, so an idle tick costs one SELECT rather than an UPDATE per job;
		// acquire re-checks the same conditions atomically.
		if !forced && !isDue(row, j.Interval, now) {
			continue
		}
		if row.LeaseUntil != nil && !row.LeaseUntil.Before(now) && row.LeaseOwner != r.owner {
			continue
		}
		ok, err := r.acquire(sys, j, now, forced)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		r.mu.Lock()
		r.running[name] = true
		delete(r.triggered, name)
		r.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				r.mu.Lock()
				delete(r.running, name)
				r.mu.Unlock()
			}()
			if err := r.run(ctx, j, now); err != nil {
				onErr(err)
			}
		}()
	}
	return errors.Join(errs...)
}

func isDue(row *ent.Job, interval time.Duration, now time.Time) bool {
	return row.LastStartedAt == nil || !row.LastStartedAt.Add(interval).After(now)
}

// ensureRow creates the job's row on first sight. Several processes may race here:
// the insert does nothing when the row exists.
func (r *Runner) ensureRow(ctx context.Context, name string) error {
	// In a transaction because ent sends an upsert as INSERT … RETURNING, a query, which
	// on SQLite would otherwise go to the read-only pool; transactions use the writer.
	tx, err := r.client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("create job row %s: %w", name, err)
	}
	err = tx.Job.Create().SetName(name).
		OnConflictColumns(job.FieldName).DoNothing().
		Exec(ctx)
	// With DO NOTHING and an existing row, RETURNING yields no row: that is success.
	if err != nil && !isNoRows(err) {
		_ = tx.Rollback()
		return fmt.Errorf("create job row %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("create job row %s: %w", name, err)
	}
	r.mu.Lock()
	r.ensured[name] = true
	r.mu.Unlock()
	return nil
}

// acquire takes the job's lease with one conditional UPDATE: it succeeds (one row
// affected) only if nobody else holds an unexpired lease and, unless forced, the job is
// due. Checking "due" in the same statement means a runner that looked before another
// one's whole run cannot run the job a second time in the same interval.
//
// A lease in this runner's own name is free to it: the caller has checked that no run of
// the job is in progress here, so the lease is left over from a run whose result could
// not be recorded (the database was away), and waiting for it to run out would only
// stall the job.
func (r *Runner) acquire(ctx context.Context, j Job, now time.Time, forced bool) (bool, error) {
	upd := r.client.Job.Update().Where(
		job.NameEQ(j.Name),
		job.Or(job.LeaseUntilIsNil(), job.LeaseUntilLT(now), job.LeaseOwnerEQ(r.owner)),
	)
	if !forced {
		upd.Where(job.Or(job.LastStartedAtIsNil(), job.LastStartedAtLTE(now.Add(-j.Interval))))
	}
	n, err := upd.
		SetLeaseOwner(r.owner).
		SetLeaseUntil(now.Add(r.lease)).
		SetLastStartedAt(now).
		Save(ctx)
	if err != nil {
		return false, fmt.Errorf("acquire lease of job %s: %w", j.Name, err)
	}
	return n == 1, nil
}

// run runs j under the lease taken at started, renewing the lease while the run goes
// on, and records the outcome.
func (r *Runner) run(ctx context.Context, j Job, started time.Time) error {
	log := r.log.With("op", "jobs.run", "job", j.Name, "owner", r.owner)
	// The run's context carries the runner's clock for rules that read "today" from it.
	jctx, cancel := context.WithTimeout(clock.WithNow(viewer.NewSystemContext(ctx), r.now), j.timeout())
	beat := r.heartbeat(jctx, cancel, j.Name, started, log)
	runErr := safeRun(jctx, j.Run)
	cancel()
	<-beat
	finished := r.clock()

	// Record even when ctx was cancelled (Stop): the run happened.
	rctx, rcancel := context.WithTimeout(viewer.NewSystemContext(context.WithoutCancel(ctx)), recordTimeout)
	defer rcancel()
	var n int
	err := db.Retry(rctx, func() error {
		upd := r.client.Job.Update().
			// Only while the lease is still ours: if it ran out and another process took
			// the job over, that run's record is the one that counts.
			Where(job.NameEQ(j.Name), job.LeaseOwnerEQ(r.owner), job.LastStartedAtEQ(started)).
			SetLastFinishedAt(finished).
			SetLastDurationMs(finished.Sub(started).Milliseconds()).
			AddRuns(1).
			ClearLeaseOwner().
			ClearLeaseUntil()
		if runErr != nil {
			upd.SetLastOutcome(job.LastOutcomeError).SetLastError(clip.String(runErr.Error(), maxErrorLen)).AddFailures(1)
		} else {
			upd.SetLastOutcome(job.LastOutcomeOk).SetLastError("")
		}
		var err error
		n, err = upd.Save(rctx)
		return err
	})
	dur := finished.Sub(started)
	if err != nil {
		// The lease stays in this process's name; the next look takes it back.
		return fmt.Errorf("record run of job %s (the run itself: %v): %w", j.Name, orOK(runErr), err)
	}
	switch {
	case n == 0:
		log.Warn("job lease ran out before the run ended; another process owns it now", "err", runErr)
	case runErr != nil:
		log.Error("job failed", "duration", dur, "err", runErr)
	default:
		log.Debug("job ran", "duration", dur) // routine: jobs like outbox.dispatch run every few seconds
	}
	return nil
}

// orOK describes a run's own outcome for an error message.
func orOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// heartbeat renews the lease of the run started at started every Heartbeat until ctx ends,
// and closes the returned channel when it has stopped. When the lease was taken over, or
// could not be renewed for a whole Lease (the database is away, so another process may
// take the job over once the database is back), it cancels the run.
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelFunc, name string, started time.Time, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.beat)
		defer t.Stop()
		renewed := r.clock()
		failing := false
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			ok, err := r.Renew(ctx, name, started)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil:
				if !failing {
					log.Warn("cannot renew the job's lease", "err", err)
					failing = true
				}
				if r.clock().Sub(renewed) >= r.lease {
					log.Warn("job lease not renewed for a whole lease; stopping the run")
					cancel()
					return
				}
			case !ok:
				log.Warn("job lease was taken over; stopping the run")
				cancel()
				return
			default:
				if failing {
					log.Info("job lease renewed again")
					failing = false
				}
				renewed = r.clock()
			}
		}
	}()
	return done
}

// Renew extends the lease of the run of the named job that started at started, if this
// runner still holds it, and reports whether it did. The heartbeat of a running job calls
// it every Heartbeat.
func (r *Runner) Renew(ctx context.Context, name string, started time.Time) (bool, error) {
	n, err := r.client.Job.Update().
		Where(job.NameEQ(name), job.LeaseOwnerEQ(r.owner), job.LastStartedAtEQ(started)).
		SetLeaseUntil(r.clock().Add(r.lease)).
		Save(viewer.NewSystemContext(ctx))
	if err != nil {
		return false, fmt.Errorf("renew lease of job %s: %w", name, err)
	}
	return n == 1, nil
}

// safeRun calls fn, turning a panic into an error so that one job cannot kill the runner.
func safeRun(ctx context.Context, fn func(context.Context) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return fn(ctx)
}

// Start runs due jobs every Tick until ctx is cancelled or Stop is called, then waits for
// the runs in progress (whose contexts are cancelled) and returns. It blocks: call it in
// its own goroutine. A runner starts once.
func (r *Runner) Start(ctx context.Context) error {
	r.life.Lock()
	if r.started {
		r.life.Unlock()
		return ErrAlreadyStarted
	}
	r.started = true
	ctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	r.life.Unlock()
	defer close(r.done)
	defer cancel()

	log := r.log.With("op", "jobs.start", "owner", r.owner)
	ticker := time.NewTicker(r.tick)
	defer ticker.Stop()
	var wg sync.WaitGroup
	onErr := func(err error) { log.Error("job run", "err", err) }
	// While the database is away every look fails: log the first failure and the
	// recovery, not a line per tick.
	var failingSince time.Time
	failures := 0
	for {
		if err := r.startDue(ctx, &wg, onErr); err != nil {
			if failures == 0 {
				failingSince = time.Now()
				log.Error("start due jobs (further failures are counted until it works again)", "err", err)
			}
			failures++
		} else if failures > 0 {
			log.Info("start due jobs works again", "failed_looks", failures, "for", time.Since(failingSince).Round(time.Millisecond).String())
			failures = 0
		}
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-ticker.C:
		case <-r.wake:
		}
	}
}

// Stop stops Start, if it is running, and returns when every run in progress has ended.
// It is safe to call more than once.
func (r *Runner) Stop() {
	r.life.Lock()
	started, cancel := r.started, r.cancel
	r.life.Unlock()
	if !started {
		return
	}
	if cancel != nil {
		cancel()
	}
	<-r.done
}

func isNoRows(err error) bool { return errors.Is(err, stdsql.ErrNoRows) }
