package outbox_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// Each message's result is written as soon as the relay has answered it, not when the
// whole batch is done: a crash at any moment repeats at most the message in flight.
func TestResultsAreRecordedAsTheRelayAnswers(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "worker-a")
		f.enqueueN(t, 5)
		held, release := f.smtp.Hold(3) // the relay stalls on the fourth message
		defer release()
		done := make(chan drained, 1)
		go func() { done <- drain(t, w) }()
		select {
		case <-held:
		case <-time.After(waitLimit):
			t.Fatal("timed out waiting for the relay to hold the fourth message")
		}
		// The process could die now: what would a restart send again?
		counts := map[outboxmessage.State]int{}
		rows, err := d.Client.OutboxMessage.Query().All(sys)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			counts[r.State]++
		}
		if counts[outboxmessage.StateSent] != 3 || counts[outboxmessage.StateSending] != 2 {
			t.Fatalf("while the fourth message is in flight: %v; want 3 sent (recorded already), 2 sending (one in flight, one not started)", counts)
		}
		release()
		select {
		case got := <-done:
			if got != (drained{sent: 5}) {
				t.Fatalf("drain = %+v, want 5 sent", got)
			}
		case <-time.After(waitLimit):
			t.Fatal("timed out waiting for the drain")
		}
		if n := len(f.smtp.Messages()); n != 5 {
			t.Fatalf("relay received %d messages, want 5", n)
		}
	})
}

// Rows left sending in a worker's own name (its results could not be written while the
// database was away) go out at its next drain, without waiting for their lease; another
// worker still respects the lease.
func TestOwnLeftoverRowsAreTakenBackAtOnce(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a := f.worker(t, "worker-a")
		b := f.worker(t, "worker-b")
		f.enqueue(t, email("a"), email("b"))
		if err := d.Client.OutboxMessage.Update().
			SetState(outboxmessage.StateSending).SetLeaseOwner("worker-a").SetLeaseUntil(f.clock.Now().Add(time.Hour)).SetAttempts(1).
			Exec(sys); err != nil {
			t.Fatal(err)
		}
		wantDrained(t, b, drained{})
		wantDrained(t, a, drained{sent: 2})
		if r := f.row(t, "a"); r.State != outboxmessage.StateSent || r.Attempts != 2 {
			t.Fatalf("row a: %s after %d attempts, want sent after 2", r.State, r.Attempts)
		}
	})
}

// An outage of the relay is logged once when it starts and once when it ends, not once
// per message and retry.
func TestRelayOutageIsLoggedOnceNotPerMessage(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		logs := &lineBuffer{}
		w := f.worker(t, "worker-a", func(c *outbox.WorkerConfig) {
			c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
		})
		f.enqueueN(t, 20)
		f.smtp.Reject(421, -1)
		wantDrained(t, w, drained{retried: 20})
		f.clock.Advance(11 * time.Minute) // past every back-off
		wantDrained(t, w, drained{retried: 20})
		if got := logs.count("level=WARN"); got != 1 {
			t.Fatalf("WARN lines during the outage = %d, want 1:\n%s", got, logs)
		}
		f.smtp.ClearRejects()
		f.clock.Advance(11 * time.Minute)
		wantDrained(t, w, drained{sent: 20})
		if got := logs.count("mail relay available again"); got != 1 {
			t.Fatalf("recovery lines = %d, want 1:\n%s", got, logs)
		}
		if !strings.Contains(logs.String(), "deferred_attempts=40") {
			t.Fatalf("recovery line does not count the 40 deferred attempts:\n%s", logs)
		}
	})
}

type lineBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lineBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *lineBuffer) count(s string) int { return strings.Count(b.String(), s) }

// TestRecordGroupSkipsRowsTakenOver: the results of a group are written by one UPDATE; when
// one of its rows was taken over by another worker meanwhile (its lease ran out), the
// others are still recorded sent and that one is left to its new owner, not overwritten.
func TestRecordGroupSkipsRowsTakenOver(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.enqueue(t, email("g1"), email("g2"), email("g3"))
		w := f.worker(t, "first", func(c *outbox.WorkerConfig) { c.BatchSize = 3 })
		rows, err := w.ClaimAndSendWithoutRecording(context.Background())
		if err != nil || len(rows) != 3 {
			t.Fatalf("claim = %d rows, %v", len(rows), err)
		}
		taken := f.row(t, "g2")
		if err := d.Client.OutboxMessage.UpdateOneID(taken.ID).SetLeaseOwner("second").Exec(sys); err != nil {
			t.Fatal(err)
		}
		written, err := w.RecordAllAccepted(context.Background(), rows)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range rows {
			got := f.row(t, *r.DedupeKey)
			want := r.ID != taken.ID
			if written[i] != want {
				t.Errorf("%s: written %v, want %v", *r.DedupeKey, written[i], want)
			}
			switch {
			case want && (got.State != outboxmessage.StateSent || got.SentAt == nil || got.LeaseOwner != ""):
				t.Errorf("%s = %s (owner %q), want sent", *r.DedupeKey, got.State, got.LeaseOwner)
			case !want && (got.State != outboxmessage.StateSending || got.LeaseOwner != "second"):
				t.Errorf("taken-over %s = %s (owner %q), want sending under second", *r.DedupeKey, got.State, got.LeaseOwner)
			}
		}
	})
}
