package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/job"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/jobs"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// waitLimit bounds every wait for a signal, so a broken runner fails instead of hanging.
const waitLimit = 10 * time.Second

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func newRunner(t *testing.T, client *ent.Client, clock *testkit.Clock, owner string, js ...jobs.Job) *jobs.Runner {
	t.Helper()
	// Leases last five minutes of the test clock and the heartbeat never beats by itself:
	// the tests that are about leases renew and take them over explicitly.
	r, err := jobs.NewRunner(jobs.RunnerConfig{Client: client, Now: clock.Now, Owner: owner, Logger: discard, Tick: 5 * time.Millisecond,
		Lease: 5 * time.Minute, Heartbeat: time.Hour})
	if err != nil {
		t.Fatalf("new runner: %v", err)
	}
	for _, j := range js {
		if err := r.Register(j); err != nil {
			t.Fatalf("register %s: %v", j.Name, err)
		}
	}
	return r
}

func runDue(t *testing.T, r *jobs.Runner) {
	t.Helper()
	if err := r.RunDue(context.Background()); err != nil {
		t.Fatalf("run due: %v", err)
	}
}

func status(t *testing.T, r *jobs.Runner, name string) jobs.Status {
	t.Helper()
	list, err := r.List(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, s := range list {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("job %s not in list %+v", name, list)
	return jobs.Status{}
}

func row(t *testing.T, client *ent.Client, name string) *ent.Job {
	t.Helper()
	j, err := client.Job.Query().Where(job.NameEQ(name)).Only(viewer.NewSystemContext(context.Background()))
	if err != nil {
		t.Fatalf("job row %s: %v", name, err)
	}
	return j
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitLimit):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

func TestRunsOnlyWhenDue(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var runs atomic.Int32
		var sawSystem atomic.Bool
		r := newRunner(t, d.Client, clock, "a", jobs.Job{
			Name: "reminders.send", Interval: 10 * time.Minute,
			Run: func(ctx context.Context) error {
				runs.Add(1)
				sawSystem.Store(viewer.FromContext(ctx).IsSystem())
				return nil
			},
		})

		runDue(t, r) // never ran: due
		if got := runs.Load(); got != 1 {
			t.Fatalf("runs after first RunDue = %d, want 1", got)
		}
		if !sawSystem.Load() {
			t.Fatal("job context does not carry the system viewer")
		}
		clock.Advance(9*time.Minute + 59*time.Second)
		runDue(t, r)
		if got := runs.Load(); got != 1 {
			t.Fatalf("runs before the interval = %d, want 1", got)
		}
		clock.Advance(time.Second) // exactly last start + interval
		runDue(t, r)
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs at the interval = %d, want 2", got)
		}

		st := status(t, r, "reminders.send")
		want := testkit.DefaultNow.Add(10 * time.Minute)
		if st.Runs != 2 || st.Failures != 0 || st.LastOutcome != "ok" || st.LastError != "" {
			t.Fatalf("status = %+v, want 2 ok runs", st)
		}
		if st.LastStartedAt == nil || !st.LastStartedAt.Equal(want) || st.LastStartedAt.Location() != time.UTC {
			t.Fatalf("last started = %v, want %v UTC", st.LastStartedAt, want)
		}
		if st.LastFinishedAt == nil || !st.LastFinishedAt.Equal(want) {
			t.Fatalf("last finished = %v, want %v", st.LastFinishedAt, want)
		}
		if st.Running || st.LeaseOwner != "" || st.LeaseUntil != nil {
			t.Fatalf("lease after the run: owner %q until %v running %v, want released", st.LeaseOwner, st.LeaseUntil, st.Running)
		}
		if !st.NextDue.Equal(want.Add(10 * time.Minute)) {
			t.Fatalf("next due = %v, want %v", st.NextDue, want.Add(10*time.Minute))
		}
	})
}

func TestRecordsErrorOutcome(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		fail := true
		r := newRunner(t, d.Client, clock, "a", jobs.Job{
			Name: "placements.expire", Interval: time.Minute,
			Run: func(context.Context) error {
				if fail {
					return errors.New("smtp relay is on fire")
				}
				return nil
			},
		})
		runDue(t, r)
		st := status(t, r, "placements.expire")
		if st.LastOutcome != "error" || st.LastError != "smtp relay is on fire" || st.Runs != 1 || st.Failures != 1 {
			t.Fatalf("after failure: outcome %q error %q runs %d failures %d; want error, the message, 1, 1",
				st.LastOutcome, st.LastError, st.Runs, st.Failures)
		}

		fail = false
		clock.Advance(time.Minute)
		runDue(t, r)
		st = status(t, r, "placements.expire")
		if st.LastOutcome != "ok" || st.LastError != "" || st.Runs != 2 || st.Failures != 1 {
			t.Fatalf("after success: outcome %q error %q runs %d failures %d; want ok, empty, 2, 1",
				st.LastOutcome, st.LastError, st.Runs, st.Failures)
		}
	})
}

func TestPanicIsRecordedAndRunnerSurvives(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var others atomic.Int32
		r := newRunner(t, d.Client, clock, "a",
			jobs.Job{Name: "boom", Interval: time.Minute, Run: func(context.Context) error { panic("nil map somewhere") }},
			jobs.Job{Name: "steady", Interval: time.Minute, Run: func(context.Context) error { others.Add(1); return nil }},
		)
		runDue(t, r)
		clock.Advance(time.Minute)
		runDue(t, r)

		st := status(t, r, "boom")
		if st.LastOutcome != "error" || !strings.Contains(st.LastError, "panic: nil map somewhere") || st.Failures != 2 {
			t.Fatalf("panicking job: outcome %q error %q failures %d; want error, the panic, 2", st.LastOutcome, st.LastError, st.Failures)
		}
		if st.LeaseOwner != "" || st.Running {
			t.Fatalf("panicking job kept its lease: owner %q", st.LeaseOwner)
		}
		if got := others.Load(); got != 2 {
			t.Fatalf("other job ran %d times, want 2", got)
		}
	})
}

func TestTwoRunnersNeverRunAJobAtOnce(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var runs atomic.Int32
		entered := make(chan struct{}, 2)
		release := make(chan struct{})
		j := jobs.Job{Name: "statements.publish", Interval: time.Minute, Run: func(context.Context) error {
			runs.Add(1)
			entered <- struct{}{}
			<-release
			return nil
		}}
		a := newRunner(t, d.Client, clock, "host-a:1:aaaa", j)
		b := newRunner(t, d.Client, clock, "host-b:2:bbbb", j)

		start := make(chan struct{})
		type result struct {
			owner string
			err   error
		}
		done := make(chan result, 2)
		var ready sync.WaitGroup
		for _, r := range []struct {
			name string
			r    *jobs.Runner
		}{{"a", a}, {"b", b}} {
			ready.Add(1)
			go func() {
				ready.Done()
				<-start
				done <- result{r.name, r.r.RunDue(context.Background())}
			}()
		}
		ready.Wait()
		close(start) // barrier: both go at once

		wait(t, entered, "one runner to enter the job")
		// The other runner gives up while the first is still inside the job.
		loser := wait(t, done, "the losing runner")
		if loser.err != nil {
			t.Fatalf("losing runner %s: %v", loser.owner, loser.err)
		}
		close(release)
		winner := wait(t, done, "the winning runner")
		if winner.err != nil {
			t.Fatalf("winning runner %s: %v", winner.owner, winner.err)
		}
		if got := runs.Load(); got != 1 {
			t.Fatalf("job body ran %d times, want exactly 1", got)
		}
		st := status(t, a, "statements.publish")
		if st.Runs != 1 {
			t.Fatalf("recorded runs = %d, want 1", st.Runs)
		}
	})
}

func TestExpiredLeaseIsTakenOver(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var runs atomic.Int32
		entered := make(chan int32, 2)
		release := make(chan struct{})
		j := jobs.Job{Name: "newsletter.send", Interval: time.Minute, Timeout: 5 * time.Minute, Run: func(context.Context) error {
			n := runs.Add(1)
			entered <- n
			if n == 1 {
				<-release // the first runner hangs (as good as crashed)
			}
			return nil
		}}
		a := newRunner(t, d.Client, clock, "host-a", j)
		b := newRunner(t, d.Client, clock, "host-b", j)

		aDone := make(chan error, 1)
		go func() { aDone <- a.RunDue(context.Background()) }()
		wait(t, entered, "runner a to start the job")

		lease := row(t, d.Client, "newsletter.send")
		if lease.LeaseOwner != "host-a" || lease.LeaseUntil == nil || !lease.LeaseUntil.Equal(testkit.DefaultNow.Add(5*time.Minute)) {
			t.Fatalf("lease = %q until %v, want host-a until %v", lease.LeaseOwner, lease.LeaseUntil, testkit.DefaultNow.Add(5*time.Minute))
		}

		clock.Advance(4 * time.Minute) // due again, but the lease still holds
		runDue(t, b)
		if got := runs.Load(); got != 1 {
			t.Fatalf("runs while the lease holds = %d, want 1", got)
		}

		clock.Advance(time.Minute + time.Second) // past the lease
		runDue(t, b)
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs after the lease ran out = %d, want 2", got)
		}
		takeover := testkit.DefaultNow.Add(5*time.Minute + time.Second)

		// The hung runner finally returns: it must not overwrite the newer run's record.
		close(release)
		if err := wait(t, aDone, "runner a to return"); err != nil {
			t.Fatalf("runner a: %v", err)
		}
		got := row(t, d.Client, "newsletter.send")
		if got.LastStartedAt == nil || !got.LastStartedAt.Equal(takeover) || got.Runs != 1 || got.LeaseOwner != "" {
			t.Fatalf("row after takeover: started %v runs %d owner %q; want %v, 1, released", got.LastStartedAt, got.Runs, got.LeaseOwner, takeover)
		}
	})
}

func TestTriggerIgnoresInterval(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var runs atomic.Int32
		r := newRunner(t, d.Client, clock, "a", jobs.Job{Name: "digest", Interval: time.Hour, Run: func(context.Context) error {
			runs.Add(1)
			return nil
		}})
		runDue(t, r)
		runDue(t, r)
		if got := runs.Load(); got != 1 {
			t.Fatalf("runs before trigger = %d, want 1", got)
		}
		if err := r.Trigger("digest"); err != nil {
			t.Fatalf("trigger: %v", err)
		}
		runDue(t, r)
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs after trigger = %d, want 2", got)
		}
		runDue(t, r) // the trigger is used up
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs after the triggered run = %d, want 2", got)
		}
		if err := r.Trigger("nope"); !errors.Is(err, jobs.ErrUnknownJob) {
			t.Fatalf("trigger unknown: got %v, want ErrUnknownJob", err)
		}
	})
}

func TestStartStopLetsRunningJobFinish(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		entered := make(chan struct{}, 1)
		var sawCancel atomic.Bool
		r := newRunner(t, d.Client, clock, "a", jobs.Job{Name: "long", Interval: time.Minute, Run: func(ctx context.Context) error {
			entered <- struct{}{}
			<-ctx.Done()
			sawCancel.Store(true)
			return ctx.Err()
		}})

		startDone := make(chan error, 1)
		go func() { startDone <- r.Start(context.Background()) }()
		wait(t, entered, "the job to start")

		r.Stop()
		if !sawCancel.Load() {
			t.Fatal("Stop returned before the running job finished")
		}
		if err := wait(t, startDone, "Start to return"); err != nil {
			t.Fatalf("start: %v", err)
		}
		got := row(t, d.Client, "long")
		if got.Runs != 1 || got.LastOutcome == nil || *got.LastOutcome != job.LastOutcomeError ||
			got.LastError != context.Canceled.Error() || got.LeaseOwner != "" {
			t.Fatalf("row after stop: runs %d outcome %v error %q owner %q; want 1, error, %q, released",
				got.Runs, got.LastOutcome, got.LastError, got.LeaseOwner, context.Canceled)
		}
		r.Stop() // idempotent
		if err := r.Start(context.Background()); !errors.Is(err, jobs.ErrAlreadyStarted) {
			t.Fatalf("second start: got %v, want ErrAlreadyStarted", err)
		}
	})
}

func TestStartReturnsWhenContextIsCancelled(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		ran := make(chan struct{}, 10)
		r := newRunner(t, d.Client, clock, "a", jobs.Job{Name: "tick", Interval: time.Minute, Run: func(context.Context) error {
			ran <- struct{}{}
			return nil
		}})
		ctx, cancel := context.WithCancel(context.Background())
		startDone := make(chan error, 1)
		go func() { startDone <- r.Start(ctx) }()
		wait(t, ran, "the first run")

		// The ticker keeps looking; a trigger makes the job due without moving the clock.
		if err := r.Trigger("tick"); err != nil {
			t.Fatal(err)
		}
		wait(t, ran, "the triggered run")

		cancel()
		if err := wait(t, startDone, "Start to return after cancel"); err != nil {
			t.Fatalf("start: %v", err)
		}
	})
}

func TestRegisterValidates(t *testing.T) {
	d := testkit.NewDB(t, dialect.SQLite)
	r := newRunner(t, d.Client, testkit.NewClock(testkit.DefaultNow), "a")
	ok := func(context.Context) error { return nil }
	for _, tc := range []struct {
		name string
		job  jobs.Job
	}{
		{"empty name", jobs.Job{Interval: time.Minute, Run: ok}},
		{"zero interval", jobs.Job{Name: "x", Run: ok}},
		{"negative interval", jobs.Job{Name: "x", Interval: -time.Second, Run: ok}},
		{"nil run", jobs.Job{Name: "x", Interval: time.Minute}},
		{"long name", jobs.Job{Name: strings.Repeat("x", 101), Interval: time.Minute, Run: ok}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := r.Register(tc.job); err == nil {
				t.Fatalf("register %+v succeeded, want an error", tc.job)
			}
		})
	}
	if err := r.Register(jobs.Job{Name: "x", Interval: time.Minute, Run: ok}); err != nil {
		t.Fatalf("register x: %v", err)
	}
	if err := r.Register(jobs.Job{Name: "x", Interval: time.Hour, Run: ok}); err == nil {
		t.Fatal("registering x twice succeeded, want an error")
	}
	if _, err := jobs.NewRunner(jobs.RunnerConfig{Client: d.Client}); err == nil {
		t.Fatal("runner without owner accepted, want an error")
	}
	if _, err := jobs.NewRunner(jobs.RunnerConfig{Owner: "a"}); err == nil {
		t.Fatal("runner without client accepted, want an error")
	}
	if o := jobs.NewOwner(); len(o) == 0 || len(o) > 100 || strings.Count(o, ":") < 2 {
		t.Fatalf("NewOwner() = %q, want host:pid:random within 100 bytes", o)
	}
}

// A lease left in a runner's own name (its run's result could not be written because
// the database was away) must not stop that runner: it takes the job back at once, while
// another runner still waits for the lease to run out.
func TestOwnLeftoverLeaseDoesNotBlock(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		var runs atomic.Int32
		j := jobs.Job{Name: "outbox.dispatch", Interval: 5 * time.Second, Run: func(context.Context) error { runs.Add(1); return nil }}
		a := newRunner(t, d.Client, clock, "host-a", j)
		b := newRunner(t, d.Client, clock, "host-b", j)
		runDue(t, a) // creates the row and runs once
		if got := runs.Load(); got != 1 {
			t.Fatalf("first runs = %d, want 1", got)
		}
		// What a failed record leaves behind: a's lease, far from running out.
		ctx := viewer.NewSystemContext(context.Background())
		if err := d.Client.Job.Update().Where(job.NameEQ(j.Name)).
			SetLeaseOwner("host-a").SetLeaseUntil(clock.Now().Add(time.Hour)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(5 * time.Second)
		runDue(t, b)
		if got := runs.Load(); got != 1 {
			t.Fatalf("runs after b looked = %d, want 1 (a's lease holds against b)", got)
		}
		runDue(t, a)
		if got := runs.Load(); got != 2 {
			t.Fatalf("runs after a looked = %d, want 2 (a's own leftover lease must not block a)", got)
		}
		if st := status(t, a, j.Name); st.LeaseOwner != "" || st.Runs != 2 {
			t.Fatalf("after the run: owner %q runs %d, want released and 2", st.LeaseOwner, st.Runs)
		}
	})
}

// A running job's lease is short and renewed while it runs: another runner cannot take
// over a job whose holder is alive, and takes it over one lease after the holder stopped
// renewing (died).
func TestLeaseIsRenewedWhileRunningAndTakenOverWhenNot(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		entered := make(chan struct{}, 2)
		release := make(chan struct{})
		j := jobs.Job{Name: "outbox.dispatch", Interval: 5 * time.Second, Timeout: time.Hour, Run: func(ctx context.Context) error {
			entered <- struct{}{}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}}
		const lease = 10 * time.Second
		mk := func(owner string) *jobs.Runner {
			r, err := jobs.NewRunner(jobs.RunnerConfig{Client: d.Client, Now: clock.Now, Owner: owner, Logger: discard,
				Lease: lease, Heartbeat: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Register(j); err != nil {
				t.Fatal(err)
			}
			return r
		}
		a, b := mk("host-a"), mk("host-b")
		aDone := make(chan error, 1)
		go func() { aDone <- a.RunDue(context.Background()) }()
		wait(t, entered, "a to start the job")
		started := clock.Now()
		if got := row(t, d.Client, j.Name); got.LeaseUntil == nil || !got.LeaseUntil.Equal(started.Add(lease)) {
			t.Fatalf("lease until %v, want %v (short, not the job's timeout)", got.LeaseUntil, started.Add(lease))
		}

		// a's heartbeat renews: a lease later, b still cannot take the job.
		clock.Advance(lease - time.Second)
		if ok, err := a.Renew(context.Background(), j.Name, started); err != nil || !ok {
			t.Fatalf("renew = %v, %v; want true", ok, err)
		}
		clock.Advance(5 * time.Second)
		runDue(t, b)
		select {
		case <-entered:
			t.Fatal("b ran the job while a renewed its lease")
		default:
		}

		// a stops renewing (as good as dead): a lease later, b takes the job over.
		clock.Advance(lease)
		bDone := make(chan error, 1)
		go func() { bDone <- b.RunDue(context.Background()) }()
		wait(t, entered, "b to take the job over")
		if ok, err := a.Renew(context.Background(), j.Name, started); err != nil || ok {
			t.Fatalf("a's renew after the takeover = %v, %v; want false", ok, err)
		}
		close(release)
		if err := wait(t, aDone, "a to return"); err != nil {
			t.Fatal(err)
		}
		if err := wait(t, bDone, "b to return"); err != nil {
			t.Fatal(err)
		}
		if got := row(t, d.Client, j.Name); got.Runs != 1 || got.LeaseOwner != "" {
			t.Fatalf("after both: runs %d owner %q, want 1 (b's) and released", got.Runs, got.LeaseOwner)
		}
	})
}

// The heartbeat stops a run whose lease another process took over, so two processes
// never go on running the same job.
func TestHeartbeatStopsARunWhoseLeaseWasTakenOver(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		clock := testkit.NewClock(testkit.DefaultNow)
		entered := make(chan struct{}, 1)
		stopped := make(chan struct{})
		j := jobs.Job{Name: "outbox.dispatch", Interval: 5 * time.Second, Timeout: time.Hour, Run: func(ctx context.Context) error {
			entered <- struct{}{}
			<-ctx.Done()
			close(stopped)
			return ctx.Err()
		}}
		r, err := jobs.NewRunner(jobs.RunnerConfig{Client: d.Client, Now: clock.Now, Owner: "host-a", Logger: discard,
			Lease: 10 * time.Second, Heartbeat: 5 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Register(j); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- r.RunDue(context.Background()) }()
		wait(t, entered, "the job to start")
		// Another process takes the lease (as it would after a's lease ran out).
		if err := d.Client.Job.Update().Where(job.NameEQ(j.Name)).SetLeaseOwner("host-b").
			Exec(viewer.NewSystemContext(context.Background())); err != nil {
			t.Fatal(err)
		}
		wait(t, stopped, "the heartbeat to stop the run")
		if err := wait(t, done, "the runner to return"); err != nil {
			t.Fatal(err)
		}
		if got := row(t, d.Client, j.Name); got.LeaseOwner != "host-b" || got.Runs != 0 {
			t.Fatalf("row: owner %q runs %d; want host-b's lease untouched", got.LeaseOwner, got.Runs)
		}
	})
}
