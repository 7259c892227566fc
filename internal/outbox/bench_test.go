package outbox_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

// BenchmarkOutboxSend measures draining b.N queued messages to the in-process SMTP
// server on SQLite: claim, send over one connection per worker goroutine, record.
// Run with a fixed count, e.g. -benchtime 5000x.
func BenchmarkOutboxSend(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			d := testkit.NewDB(b, dialect.SQLite)
			f := newFixture(b, d)
			w := f.worker(b, "bench", func(c *outbox.WorkerConfig) { c.Concurrency = workers })
			f.enqueueN(b, b.N)

			b.ResetTimer()
			start := time.Now()
			sent, failed, retried, err := w.DrainOnce(context.Background())
			elapsed := time.Since(start)
			b.StopTimer()

			if err != nil || sent != b.N || failed+retried != 0 {
				b.Fatalf("drain = %d sent, %d failed, %d retried, %v; want %d sent", sent, failed, retried, err, b.N)
			}
			if got := len(f.smtp.WaitForMessages(b, b.N, waitLimit)); got != b.N {
				b.Fatalf("relay received %d, want %d", got, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkOutboxBulkSend measures draining b.N bulk rows (one shared newsletter body) to
// the in-process SMTP server on SQLite with the default worker settings.
func BenchmarkOutboxBulkSend(b *testing.B) {
	d := testkit.NewDB(b, dialect.SQLite)
	f := newFixture(b, d)
	w := f.worker(b, "bench", func(c *outbox.WorkerConfig) { c.Concurrency = workersDefault })
	for start := 0; start < b.N; start += 10_000 {
		f.bulk(b, newsletter(), readers(start, min(b.N, start+10_000)))
	}
	b.ResetTimer()
	start := time.Now()
	sent, failed, retried, err := w.DrainOnce(context.Background())
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || sent != b.N || failed+retried != 0 {
		b.Fatalf("drain = %d sent, %d failed, %d retried, %v; want %d sent", sent, failed, retried, err, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msgs/s")
}

// workersDefault is the service's default number of SMTP connections (COALITION_MAIL_WORKERS).
const workersDefault = 8
