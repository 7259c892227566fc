package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/jobs"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func TestEnqueueCommitsAndRollsBackWithTheCaller(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()

		tx, err := d.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit; frees the writer if the test fails
		if err := outbox.Enqueue(ctx, tx.Client(), f.clock.Now(), email("rolled-back")); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t); n != 0 {
			t.Fatalf("rows after rollback = %d, want 0", n)
		}

		f.enqueue(t, email("committed"))
		r := f.row(t, "committed")
		if r.State != outboxmessage.StateQueued || r.Attempts != 0 || !r.NextAttemptAt.Equal(testkit.DefaultNow) ||
			!r.CreatedAt.Equal(testkit.DefaultNow) || r.Recipient != "ana.committed@hospital.example" || r.RecipientName != "Dr Ana Novák" {
			t.Fatalf("row = %+v, want queued, 0 attempts, due and created at %v, the recipient", r, testkit.DefaultNow)
		}

		// A plain client: Enqueue refuses (an email beside a change must commit with it)…
		if err := outbox.Enqueue(ctx, d.Client, f.clock.Now(), email("outside")); !errors.Is(err, outbox.ErrNoTransaction) {
			t.Fatalf("enqueue with a plain client = %v, want ErrNoTransaction", err)
		}
		if n := f.count(t); n != 1 {
			t.Fatalf("rows after a refused enqueue = %d, want 1", n)
		}
		// …and EnqueueAlone, named for it, commits in a transaction of its own.
		if err := outbox.EnqueueAlone(ctx, d.Client, f.clock.Now(), email("standalone")); err != nil {
			t.Fatalf("enqueue alone: %v", err)
		}
		if n := f.count(t); n != 2 {
			t.Fatalf("rows = %d, want 2", n)
		}
	})
}

func TestEnqueueDedupes(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		first := email("placement:plc_1:confirmed")
		second := first
		second.Subject = "A different rendering"

		tx, err := d.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit; frees the writer if the test fails
		for _, e := range []outbox.Email{first, second} {
			if err := outbox.Enqueue(ctx, tx.Client(), f.clock.Now(), e); err != nil {
				t.Fatalf("enqueue: %v", err)
			}
		}
		// The caller's transaction is still usable (on PostgreSQL a unique violation
		// would have aborted it).
		if err := outbox.Enqueue(ctx, tx.Client(), f.clock.Now(), email("other")); err != nil {
			t.Fatalf("enqueue after the duplicate: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatalf("commit: %v", err)
		}
		f.enqueue(t, second) // again, in a later transaction

		if n := f.count(t); n != 2 {
			t.Fatalf("rows = %d, want 2", n)
		}
		if got := f.row(t, first.DedupeKey).Subject; got != first.Subject {
			t.Fatalf("subject = %q, want the first rendering %q", got, first.Subject)
		}
	})
}

func TestEnqueueValidates(t *testing.T) {
	d := testkit.NewDB(t, dialect.SQLite)
	now := testkit.DefaultNow
	for _, tc := range []struct {
		name string
		edit func(*outbox.Email)
	}{
		{"no key", func(e *outbox.Email) { e.DedupeKey = "" }},
		{"no template", func(e *outbox.Email) { e.Template = "" }},
		{"no body", func(e *outbox.Email) { e.Text, e.HTML = "", "" }},
		{"two-line subject", func(e *outbox.Email) { e.Subject = "Hello\r\nBcc: everyone@example.org" }},
		{"long subject", func(e *outbox.Email) { e.Subject = strings.Repeat("s", 999) }},
		{"bad address", func(e *outbox.Email) { e.To.Email = "not an address" }},
		{"address with name", func(e *outbox.Email) { e.To.Email = "Ana <ana@hospital.example>" }},
		{"header injection", func(e *outbox.Email) { e.Headers = map[string]string{"X-A": "b\r\nBcc: x@example.org"} }},
		{"attachment without name", func(e *outbox.Email) { e.Attachments = []mailtype.Attachment{{Content: []byte("x")}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := email("k")
			tc.edit(&e)
			err := outbox.Enqueue(context.Background(), d.Client, now, e)
			if !errors.Is(err, outbox.ErrInvalidEmail) {
				t.Fatalf("enqueue: got %v, want ErrInvalidEmail", err)
			}
		})
	}
	n, err := d.Client.OutboxMessage.Query().Count(sys)
	if err != nil || n != 0 {
		t.Fatalf("rows after invalid enqueues = %d, %v; want 0", n, err)
	}
}

func TestSendHappyPath(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) { c.Concurrency = 2 })
		withICS := email("with-ics")
		withICS.Attachments = []mailtype.Attachment{ics}
		f.enqueue(t, email("a"), email("b"), withICS)

		wantDrained(t, w, drained{sent: 3})
		msgs := f.smtp.WaitForMessages(t, 3, waitLimit)
		if len(msgs) != 3 {
			t.Fatalf("relay received %d messages, want 3", len(msgs))
		}
		byID := map[string]testkit.ReceivedMessage{}
		for _, m := range msgs {
			byID[m.MessageID] = m
		}
		for _, key := range []string{"a", "b", "with-ics"} {
			r := f.row(t, key)
			if r.State != outboxmessage.StateSent || r.SentAt == nil || !r.SentAt.Equal(testkit.DefaultNow) ||
				r.Attempts != 1 || r.LeaseUntil != nil || r.LeaseOwner != "" {
				t.Fatalf("row %s = state %s sent_at %v attempts %d lease %v/%q; want sent at %v, 1 attempt, no lease",
					key, r.State, r.SentAt, r.Attempts, r.LeaseUntil, r.LeaseOwner, testkit.DefaultNow)
			}
			m, ok := byID[messageID(r)]
			if !ok {
				t.Fatalf("no message with Message-ID %s; got %v", messageID(r), keys(byID))
			}
			if len(m.To) != 1 || m.To[0] != r.Recipient || m.From != from.Email {
				t.Fatalf("envelope %s → %v, want %s → %s", m.From, m.To, from.Email, r.Recipient)
			}
			if m.Subject != "Your sign-in link" || !strings.Contains(m.TextBody(), "/login/"+key) ||
				!strings.Contains(m.HTMLBody(), "/login/"+key) || m.Header.Get("X-Coalition-Template") != "login_link" {
				t.Fatalf("message %s: subject %q text %q header %q", key, m.Subject, m.TextBody(), m.Header.Get("X-Coalition-Template"))
			}
		}
		att := byID[messageID(f.row(t, "with-ics"))].Attachments()
		if len(att) != 1 || att[0].Filename != "placement.ics" || string(att[0].Content) != string(ics.Content) {
			t.Fatalf("attachments = %+v, want placement.ics", att)
		}
		wantDrained(t, w, drained{}) // nothing left
	})
}

func TestRelayDownThenBack(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a")
		f.enqueue(t, email("a"))
		f.smtp.Stop()

		wantDrained(t, w, drained{retried: 1})
		r := f.row(t, "a")
		now := testkit.DefaultNow
		if r.State != outboxmessage.StateQueued || r.Attempts != 1 || r.LastError == "" || r.LeaseOwner != "" {
			t.Fatalf("after refused connection: state %s attempts %d error %q owner %q; want queued, 1, an error, none",
				r.State, r.Attempts, r.LastError, r.LeaseOwner)
		}
		// First retry: exactly BackoffBase later (the jitter range starts at the base).
		if !r.NextAttemptAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("next attempt at %v, want %v", r.NextAttemptAt, now.Add(time.Minute))
		}
		wantDrained(t, w, drained{}) // not due yet

		f.smtp.Restart(t)
		f.clock.Advance(59 * time.Second)
		wantDrained(t, w, drained{})
		f.clock.Advance(time.Second)
		wantDrained(t, w, drained{sent: 1})
		msgs := f.smtp.WaitForMessages(t, 1, waitLimit)
		r = f.row(t, "a")
		if msgs[0].MessageID != messageID(r) || r.State != outboxmessage.StateSent || r.Attempts != 2 {
			t.Fatalf("after restart: Message-ID %s state %s attempts %d; want %s, sent, 2", msgs[0].MessageID, r.State, r.Attempts, messageID(r))
		}
	})
}

func TestPermanentRejectionFails(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a")
		f.enqueue(t, email("a"))
		f.smtp.Reject(550, -1)

		wantDrained(t, w, drained{failed: 1})
		r := f.row(t, "a")
		if r.State != outboxmessage.StateFailed || r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
			t.Fatalf("row: state %s attempts %d error %q; want failed, 1, a 550 error", r.State, r.Attempts, r.LastError)
		}
		f.smtp.ClearRejects()
		f.clock.Advance(24 * time.Hour)
		wantDrained(t, w, drained{})
		if n := len(f.smtp.Messages()); n != 0 {
			t.Fatalf("relay received %d messages, want 0", n)
		}
		if got := f.row(t, "a"); got.State != outboxmessage.StateFailed || got.Attempts != 1 {
			t.Fatalf("failed row was retried: state %s attempts %d", got.State, got.Attempts)
		}
	})
}

func TestTemporaryRejectionIsRetried(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a")
		f.enqueue(t, email("a"))
		f.smtp.Reject(451, 1)

		wantDrained(t, w, drained{retried: 1})
		r := f.row(t, "a")
		if r.State != outboxmessage.StateQueued || !strings.Contains(r.LastError, "451") || !r.NextAttemptAt.After(testkit.DefaultNow) {
			t.Fatalf("row: state %s error %q next %v; want queued, a 451 error, later than now", r.State, r.LastError, r.NextAttemptAt)
		}
		f.clock.Advance(10 * time.Minute)
		wantDrained(t, w, drained{sent: 1})
		msgs := f.smtp.WaitForMessages(t, 1, waitLimit)
		r = f.row(t, "a")
		if r.State != outboxmessage.StateSent || r.Attempts != 2 || msgs[0].MessageID != messageID(r) {
			t.Fatalf("row: state %s attempts %d, Message-ID %s; want sent, 2, %s", r.State, r.Attempts, msgs[0].MessageID, messageID(r))
		}
	})
}

func TestCrashedWorkerRowsAreResentWithTheSameMessageID(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		crashed := f.worker(t, "worker-crashed", func(c *outbox.WorkerConfig) { c.Lease = 2 * time.Minute })
		survivor := f.worker(t, "worker-survivor")
		f.enqueue(t, email("a"))

		// The first worker hands the message to the relay and dies before recording it.
		rows, err := crashed.ClaimAndSendWithoutRecording(context.Background())
		if err != nil || len(rows) != 1 {
			t.Fatalf("claim and send: %d rows, %v", len(rows), err)
		}
		first := f.smtp.WaitForMessages(t, 1, waitLimit)[0]
		r := f.row(t, "a")
		if r.State != outboxmessage.StateSending || r.LeaseOwner != "worker-crashed" || r.Attempts != 1 {
			t.Fatalf("after the crash: state %s owner %q attempts %d; want sending, worker-crashed, 1", r.State, r.LeaseOwner, r.Attempts)
		}

		wantDrained(t, survivor, drained{}) // the lease holds
		f.clock.Advance(2*time.Minute + time.Second)
		wantDrained(t, survivor, drained{sent: 1})

		msgs := f.smtp.WaitForMessages(t, 2, waitLimit)
		r = f.row(t, "a")
		if msgs[1].MessageID != first.MessageID || first.MessageID != messageID(r) {
			t.Fatalf("Message-IDs %s then %s, want both %s", first.MessageID, msgs[1].MessageID, messageID(r))
		}
		if r.State != outboxmessage.StateSent || r.Attempts != 2 || r.LeaseOwner != "" {
			t.Fatalf("row: state %s attempts %d owner %q; want sent, 2, none", r.State, r.Attempts, r.LeaseOwner)
		}
	})
}

func TestMaxAttemptsFails(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) { c.MaxAttempts = 3 })
		f.enqueue(t, email("a"))
		f.smtp.Reject(421, -1)

		for attempt := 1; attempt <= 2; attempt++ {
			wantDrained(t, w, drained{retried: 1})
			f.clock.Advance(10 * time.Minute)
		}
		wantDrained(t, w, drained{failed: 1})
		r := f.row(t, "a")
		if r.State != outboxmessage.StateFailed || r.Attempts != 3 || !strings.Contains(r.LastError, "421") {
			t.Fatalf("row: state %s attempts %d error %q; want failed, 3, a 421 error", r.State, r.Attempts, r.LastError)
		}
		f.smtp.ClearRejects()
		f.clock.Advance(time.Hour)
		wantDrained(t, w, drained{})
	})
}

func TestBackoffGrowsWithJitterWithinBounds(t *testing.T) {
	d := testkit.NewDB(t, dialect.SQLite)
	f := &fixture{d: d, clock: testkit.NewClock(testkit.DefaultNow), smtp: testkit.StartSMTP(t)}
	w := f.worker(t, "w", func(c *outbox.WorkerConfig) { c.BackoffBase, c.BackoffMax = time.Second, 40*time.Second })
	for n, ceiling := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 6: 32 * time.Second, 7: 40 * time.Second, 60: 40 * time.Second} {
		seen := map[time.Duration]bool{}
		for range 200 {
			b := w.Backoff(n)
			if b < time.Second || b > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [1s, %s]", n, b, ceiling)
			}
			seen[b] = true
		}
		if n > 1 && len(seen) < 10 {
			t.Fatalf("backoff(%d) took %d distinct values in 200 draws, want jitter", n, len(seen))
		}
	}
}

func TestConcurrentWorkersNeverSendTwice(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const n = 300
		f.enqueueN(t, n)
		tune := func(c *outbox.WorkerConfig) { c.Concurrency, c.BatchSize = 2, 10 }
		workers := []*outbox.Worker{f.worker(t, "worker-a", tune), f.worker(t, "worker-b", tune)}

		start := make(chan struct{})
		var wg sync.WaitGroup
		got := make([]drained, len(workers))
		errs := make([]error, len(workers))
		for i, w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				s, fl, r, err := w.DrainOnce(context.Background())
				got[i], errs[i] = drained{s, fl, r}, err
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
		if total := got[0].sent + got[1].sent; total != n || got[0].failed+got[1].failed+got[0].retried+got[1].retried != 0 {
			t.Fatalf("drains %+v and %+v, want %d sent in total and nothing else", got[0], got[1], n)
		}
		msgs := f.smtp.WaitForMessages(t, n, waitLimit)
		seen := map[string]int{}
		for _, m := range msgs {
			seen[m.MessageID]++
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("Message-ID %s received %d times, want once", id, c)
			}
		}
		if len(msgs) != n || len(seen) != n {
			t.Fatalf("relay received %d messages with %d distinct ids, want %d", len(msgs), len(seen), n)
		}
		t.Logf("worker a sent %d, worker b sent %d", got[0].sent, got[1].sent)
	})
}

func TestCancelledDrainFinishesInFlightAndRequeuesTheRest(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// One message per 1000 s: the first goes at once (burst), the rest wait on the
		// limiter until the drain is cancelled.
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) { c.RatePerSecond = 0.001 })
		f.enqueue(t, email("a"), email("b"), email("c"))

		ctx, cancel := context.WithCancel(context.Background())
		type res struct {
			d   drained
			err error
		}
		done := make(chan res, 1)
		go func() {
			s, fl, r, err := w.DrainOnce(ctx)
			done <- res{drained{s, fl, r}, err}
		}()
		f.smtp.WaitForMessages(t, 1, waitLimit)
		cancel()
		var got res
		select {
		case got = <-done:
		case <-time.After(waitLimit):
			t.Fatal("DrainOnce did not return after cancel")
		}
		if !errors.Is(got.err, context.Canceled) || got.d != (drained{sent: 1}) {
			t.Fatalf("drain = %+v, %v; want 1 sent, context.Canceled", got.d, got.err)
		}
		states := map[outboxmessage.State]int{}
		for _, k := range []string{"a", "b", "c"} {
			r := f.row(t, k)
			states[r.State]++
			if r.State == outboxmessage.StateQueued && (r.Attempts != 0 || r.LeaseOwner != "" || r.LastError != "") {
				t.Fatalf("requeued row %s: attempts %d owner %q error %q; want 0, none, none", k, r.Attempts, r.LeaseOwner, r.LastError)
			}
		}
		if states[outboxmessage.StateSent] != 1 || states[outboxmessage.StateQueued] != 2 {
			t.Fatalf("states = %v, want 1 sent and 2 queued", states)
		}
	})
}

func TestRunDrainsOnNotifyAndStopsOnCancel(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// A poll interval that never comes: only Notify can wake the worker.
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) { c.PollInterval = time.Hour })
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- w.Run(ctx) }()

		f.enqueue(t, email("a"))
		w.Notify()
		msgs := f.smtp.WaitForMessages(t, 1, waitLimit)
		if msgs[0].MessageID != messageID(f.row(t, "a")) {
			t.Fatalf("Message-ID %s, want %s", msgs[0].MessageID, messageID(f.row(t, "a")))
		}
		f.enqueue(t, email("b"))
		w.Notify()
		f.smtp.WaitForMessages(t, 2, waitLimit)

		cancel()
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(waitLimit):
			t.Fatal("Run did not return after cancel")
		}
		for _, k := range []string{"a", "b"} {
			if r := f.row(t, k); r.State != outboxmessage.StateSent {
				t.Fatalf("row %s is %s, want sent", k, r.State)
			}
		}
	})
}

func TestDispatchJobDrainsThroughTheRunner(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a")
		r, err := jobs.NewRunner(jobs.RunnerConfig{Client: d.Client, Now: f.clock.Now, Owner: "runner-a", Logger: discard})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Register(w.DispatchJob(time.Minute)); err != nil {
			t.Fatal(err)
		}
		f.enqueue(t, email("a"))
		if err := r.RunDue(context.Background()); err != nil {
			t.Fatalf("run due: %v", err)
		}
		f.smtp.WaitForMessages(t, 1, waitLimit)
		list, err := r.List(context.Background())
		if err != nil || len(list) != 1 || list[0].Name != outbox.DispatchJobName || list[0].LastOutcome != "ok" {
			t.Fatalf("jobs = %+v, %v; want %s ok", list, err, outbox.DispatchJobName)
		}
	})
}

func TestStatusRetryAndRetryFailed(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		w := f.worker(t, "worker-a")
		f.enqueue(t, email("a"))
		f.clock.Advance(time.Second) // distinct creation times, so the order is a, b, c
		f.enqueue(t, email("b"))
		f.clock.Advance(time.Second)
		f.enqueue(t, email("c"))
		f.clock.Advance(time.Second)
		f.enqueue(t, email("d"))

		rep, err := outbox.Status(ctx, d.Client, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if rep.Counts["queued"] != 4 || rep.Due != 4 || rep.OldestQueued == nil || !rep.OldestQueued.Equal(testkit.DefaultNow) {
			t.Fatalf("status = %+v, want 4 queued and due, oldest at %v", rep, testkit.DefaultNow)
		}

		if _, err := d.Client.OutboxMessage.UpdateOne(f.row(t, "d")).SetState(outboxmessage.StateCancelled).Save(sys); err != nil {
			t.Fatal(err) // as an operator would
		}
		f.smtp.Reject(550, 2) // a and b fail, c goes
		wantDrained(t, w, drained{sent: 1, failed: 2})
		rep, err = outbox.Status(ctx, d.Client, f.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"queued": 0, "sending": 0, "sent": 1, "failed": 2, "suppressed": 0, "cancelled": 1, "paused": 0}
		if fmt.Sprint(rep.Counts) != fmt.Sprint(want) || rep.Due != 0 || rep.OldestQueued != nil {
			t.Fatalf("status = %+v, want counts %v, nothing due or queued", rep, want)
		}

		a, c := f.row(t, "a"), f.row(t, "c")
		f.clock.Advance(time.Hour)
		if err := outbox.Retry(ctx, d.Client, a.ID.String(), f.clock.Now()); err != nil {
			t.Fatalf("retry a: %v", err)
		}
		if r := f.row(t, "a"); r.State != outboxmessage.StateQueued || r.Attempts != 0 || !r.NextAttemptAt.Equal(f.clock.Now()) {
			t.Fatalf("retried a: state %s attempts %d next %v; want queued, 0, %v", r.State, r.Attempts, r.NextAttemptAt, f.clock.Now())
		}
		err = outbox.Retry(ctx, d.Client, a.ID.String(), f.clock.Now())
		if !errors.Is(err, outbox.ErrNotRetryable) || apperr.KindOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "queued") {
			t.Fatalf("retry a again: got %v, want a conflict naming the state", err)
		}
		if err := outbox.Retry(ctx, d.Client, c.ID.String(), f.clock.Now()); !errors.Is(err, outbox.ErrNotRetryable) {
			t.Fatalf("retry sent c: got %v, want ErrNotRetryable", err)
		}
		err = outbox.Retry(ctx, d.Client, "msg_01JAAAAAAAAAAAAAAAAAAAAAAA", f.clock.Now())
		if !errors.Is(err, outbox.ErrMessageNotFound) || apperr.KindOf(err) != apperr.NotFound {
			t.Fatalf("retry unknown: got %v, want NotFound", err)
		}

		n, err := outbox.RetryFailed(ctx, d.Client, f.clock.Now())
		if err != nil || n != 1 {
			t.Fatalf("retry failed = %d, %v; want 1 (b)", n, err)
		}
		if err := outbox.Retry(ctx, d.Client, f.row(t, "d").ID.String(), f.clock.Now()); err != nil {
			t.Fatalf("retry cancelled d: %v", err)
		}
		rep, err = outbox.Status(ctx, d.Client, f.clock.Now())
		if err != nil || rep.Counts["queued"] != 3 || rep.Due != 3 || rep.OldestQueued == nil || !rep.OldestQueued.Equal(testkit.DefaultNow) {
			t.Fatalf("status = %+v, %v; want 3 queued and due, oldest created at %v", rep, err, testkit.DefaultNow)
		}
		wantDrained(t, w, drained{sent: 3})
		f.smtp.WaitForMessages(t, 4, waitLimit)
	})
}

func TestNewWorkerChecksConfig(t *testing.T) {
	d := testkit.NewDB(t, dialect.SQLite)
	f := &fixture{d: d, clock: testkit.NewClock(testkit.DefaultNow), smtp: testkit.StartSMTP(t)}
	tr := f.transport(t)
	good := outbox.WorkerConfig{Client: d.Client, Dialect: d.Dialect, Transport: tr, From: from, Owner: "w"}
	if _, err := outbox.NewWorker(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, edit := range map[string]func(*outbox.WorkerConfig){
		"no client":      func(c *outbox.WorkerConfig) { c.Client = nil },
		"bad dialect":    func(c *outbox.WorkerConfig) { c.Dialect = "mysql" },
		"no transport":   func(c *outbox.WorkerConfig) { c.Transport = nil },
		"bad from":       func(c *outbox.WorkerConfig) { c.From = mail.Address{Email: "nope"} },
		"no owner":       func(c *outbox.WorkerConfig) { c.Owner = "" },
		"negative lease": func(c *outbox.WorkerConfig) { c.Lease = -time.Second },
		"negative rate":  func(c *outbox.WorkerConfig) { c.RatePerSecond = -1 },
	} {
		cfg := good
		edit(&cfg)
		if _, err := outbox.NewWorker(cfg); err == nil {
			t.Errorf("%s: NewWorker succeeded, want an error", name)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// EnqueueBatch keeps Enqueue's promises for many emails at once: the rows commit and roll
// back with the caller, a plain client is refused, a key already queued or repeated in the
// batch is queued once, and an invalid email queues nothing.
func TestEnqueueBatchDedupesAndFollowsTheCaller(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.enqueue(t, email("b0001"))
		batch := []outbox.Email{email("b0001"), email("b0002"), email("b0002")}
		for i := 3; i <= 1200; i++ { // more than one INSERT of 500
			batch = append(batch, email(fmt.Sprintf("b%04d", i)))
		}
		batch[2].Subject = "A second email with a key already in the batch"
		tx, err := d.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := outbox.EnqueueBatch(ctx, tx.Client(), f.clock.Now(), batch); err != nil {
			t.Fatalf("enqueue batch: %v", err)
		}
		if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t); n != 1 {
			t.Fatalf("rows after rollback = %d, want 1", n)
		}
		bad := append(slices.Clone(batch), outbox.Email{DedupeKey: "bad", Template: "x", Text: "x", To: mail.Address{Email: "not an address"}})
		// A plain client: EnqueueBatch refuses, as Enqueue does, and queues nothing.
		if err := outbox.EnqueueBatch(ctx, d.Client, f.clock.Now(), batch); !errors.Is(err, outbox.ErrNoTransaction) {
			t.Fatalf("enqueue batch with a plain client = %v, want ErrNoTransaction", err)
		}
		if n := f.count(t); n != 1 {
			t.Fatalf("rows after a refused batch = %d, want 1", n)
		}
		tx, err = d.Client.Tx(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback() //nolint:errcheck // a no-op after Commit; frees the writer if the test fails
		if err := outbox.EnqueueBatch(ctx, tx.Client(), f.clock.Now(), bad); !errors.Is(err, outbox.ErrInvalidEmail) {
			t.Fatalf("a batch with an invalid email: %v, want ErrInvalidEmail", err)
		}
		if err := outbox.EnqueueBatch(ctx, tx.Client(), f.clock.Now(), batch); err != nil {
			t.Fatalf("enqueue batch: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t); n != 1200 {
			t.Fatalf("rows = %d, want 1200 (one per key)", n)
		}
		if r := f.row(t, "b0002"); r.Subject != "Your sign-in link" || r.State != outboxmessage.StateQueued {
			t.Errorf("b0002 = %+v, want the first email with that key, queued", r)
		}
	})
}
