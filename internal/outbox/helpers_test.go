package outbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// waitLimit bounds every wait for a message or a signal.
const waitLimit = 10 * time.Second

var (
	discard = slog.New(slog.NewTextHandler(io.Discard, nil))
	from    = mail.Address{Name: "CAR-T Coalition", Email: "noreply@coalition.example"}
	sys     = viewer.NewSystemContext(context.Background())
)

// fixture is one test's database, clock and relay.
type fixture struct {
	d     *db.DB
	clock *testkit.Clock
	smtp  *testkit.SMTPServer
}

func newFixture(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	return &fixture{d: d, clock: testkit.NewClock(testkit.DefaultNow), smtp: testkit.StartSMTP(t)}
}

func (f *fixture) transport(t testing.TB) mail.Transport {
	t.Helper()
	cfg, err := mail.ParseSMTPURL(f.smtp.URL())
	if err != nil {
		t.Fatalf("parse smtp url: %v", err)
	}
	cfg.Timeout = 5 * time.Second
	tr, err := mail.NewSMTP(cfg)
	if err != nil {
		t.Fatalf("smtp transport: %v", err)
	}
	return tr
}

// worker returns a worker with test-friendly defaults, changed by tune.
func (f *fixture) worker(t testing.TB, owner string, tune ...func(*outbox.WorkerConfig)) *outbox.Worker {
	t.Helper()
	cfg := outbox.WorkerConfig{
		Client:      f.d.Client,
		Dialect:     f.d.Dialect,
		Transport:   f.transport(t),
		From:        from,
		Now:         f.clock.Now,
		Owner:       owner,
		Logger:      discard,
		BackoffBase: time.Minute,
		BackoffMax:  10 * time.Minute,
	}
	for _, fn := range tune {
		fn(&cfg)
	}
	w, err := outbox.NewWorker(cfg)
	if err != nil {
		t.Fatalf("new worker: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func email(key string) outbox.Email {
	return outbox.Email{
		DedupeKey: key,
		Template:  "login_link",
		To:        mail.Address{Name: "Dr Ana Novák", Email: "ana." + localPart(key) + "@hospital.example"},
		Subject:   "Your sign-in link",
		Text:      "Sign in: https://coalition.example/login/" + key,
		HTML:      `<p>Sign in: <a href="https://coalition.example/login/` + key + `">link</a></p>`,
		Headers:   map[string]string{"X-Coalition-Template": "login_link"},
	}
}

// enqueue commits emails in one transaction at the fixture's now.
func (f *fixture) enqueue(t testing.TB, emails ...outbox.Email) {
	t.Helper()
	tx, err := f.d.Client.Tx(context.Background())
	if err != nil {
		t.Fatalf("begin: %v", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	for _, e := range emails {
		if err := outbox.Enqueue(context.Background(), tx.Client(), f.clock.Now(), e); err != nil {
			t.Fatalf("enqueue %s: %v", e.DedupeKey, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func (f *fixture) enqueueN(t testing.TB, n int) {
	t.Helper()
	const perTx = 500
	for start := 0; start < n; start += perTx {
		batch := make([]outbox.Email, 0, perTx)
		for i := start; i < min(n, start+perTx); i++ {
			batch = append(batch, email(fmt.Sprintf("k%06d", i)))
		}
		f.enqueue(t, batch...)
	}
}

func (f *fixture) row(t testing.TB, key string) *ent.OutboxMessage {
	t.Helper()
	r, err := f.d.Client.OutboxMessage.Query().Where(outboxmessage.DedupeKeyEQ(key)).Only(sys)
	if err != nil {
		t.Fatalf("row %s: %v", key, err)
	}
	return r
}

func (f *fixture) count(t testing.TB) int {
	t.Helper()
	n, err := f.d.Client.OutboxMessage.Query().Count(sys)
	if err != nil {
		t.Fatalf("count: %v", err)
	}
	return n
}

type drained struct{ sent, failed, retried int }

func drain(t testing.TB, w *outbox.Worker) drained {
	t.Helper()
	s, f, r, err := w.DrainOnce(context.Background())
	if err != nil {
		t.Fatalf("drain: %v", err)
	}
	return drained{s, f, r}
}

func wantDrained(t testing.TB, w *outbox.Worker, want drained) {
	t.Helper()
	if got := drain(t, w); got != want {
		t.Fatalf("drain = %+v, want %+v", got, want)
	}
}

func messageID(row *ent.OutboxMessage) string {
	return mail.MessageID(row.ID.String(), "coalition.example")
}

var ics = mailtype.Attachment{
	Filename:    "placement.ics",
	ContentType: "text/calendar",
	Content:     []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:plc-1@coalition.example\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"),
}

// localPart makes a dedupe key usable in an address.
func localPart(key string) string {
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, key)
}
