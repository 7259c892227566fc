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

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func newsletter() outbox.Body {
	return outbox.Body{
		Template:  "newsletter",
		Subject:   "News for {{name}}",
		Preheader: "The quarter in brief",
		Text:      "Dear {{name}} <{{email}}>,\nthe news.\nUnsubscribe: {{unsubscribe_url}}\n",
		HTML:      `<p>Dear {{name}},</p><p>the news.</p><a href="{{unsubscribe_url}}">Unsubscribe</a> {{not a key}} {{`,
		Headers:   map[string]string{"List-Id": "Coalition news <news.coalition.example>"},
	}
}

func reader(i int) outbox.Recipient {
	return outbox.Recipient{
		To:     mail.Address{Name: fmt.Sprintf("Reader %d", i), Email: fmt.Sprintf("reader%05d@hospital.example", i)},
		Values: map[string]string{outbox.UnsubscribeURLKey: fmt.Sprintf("https://coalition.example/unsubscribe/tok%05d", i)},
	}
}

func readers(from, to int) []outbox.Recipient {
	rs := make([]outbox.Recipient, 0, to-from)
	for i := from; i < to; i++ {
		rs = append(rs, reader(i))
	}
	return rs
}

// bulk saves body and queues rs with it in one transaction; it returns the body's id,
// which names the bulk send.
func (f *fixture) bulk(t testing.TB, body outbox.Body, rs []outbox.Recipient) pulid.ID {
	t.Helper()
	var id pulid.ID
	err := db.InTx(sys, f.d.Client, func(ctx context.Context, tx *ent.Client) error {
		var err error
		if id, err = outbox.SaveBody(ctx, tx, f.clock.Now(), body); err != nil {
			return err
		}
		_, err = outbox.EnqueueBulk(ctx, tx, f.clock.Now(), id, slices.Values(rs))
		return err
	})
	if err != nil {
		t.Fatalf("bulk: %v", err)
	}
	return id
}

func counts(t testing.TB, f *fixture, body pulid.ID) map[string]int {
	t.Helper()
	c, err := outbox.BatchCounts(sys, f.d.Client, body)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBulkSharesOneBodyAndPersonalisesSafely(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "w1")
		tricky := reader(1)
		tricky.To.Name = `<b>Ann & "Bob"</b> {{email}}`
		id := f.bulk(t, newsletter(), []outbox.Recipient{reader(0), tricky})

		if n, err := d.Client.MailBody.Query().Count(sys); err != nil || n != 1 {
			t.Fatalf("mail bodies = %d, %v; want 1", n, err)
		}
		rows, err := d.Client.OutboxMessage.Query().All(sys)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.TextBody != "" || r.HTMLBody != "" || r.Subject != "" || r.Lane != outboxmessage.LaneBulk || r.BodyID == nil {
				t.Fatalf("row %s copies the body or misses its lane/body: %+v", r.ID, r)
			}
		}
		wantDrained(t, w, drained{sent: 2})
		msgs := f.smtp.WaitForMessages(t, 2, waitLimit)
		byRcpt := map[string]testkit.ReceivedMessage{}
		for _, m := range msgs {
			byRcpt[m.To[0]] = m
		}
		m := byRcpt["reader00001@hospital.example"]
		if got, want := m.HTMLBody(), `<p>Dear &lt;b&gt;Ann &amp; &#34;Bob&#34;&lt;/b&gt; {{email}},</p>`; !strings.Contains(got, want) {
			t.Errorf("HTML = %q, want the name escaped and not expanded again: %q", got, want)
		}
		if got := m.HTMLBody(); !strings.Contains(got, `href="https://coalition.example/unsubscribe/tok00001"`) || !strings.Contains(got, "{{not a key}} {{") {
			t.Errorf("HTML = %q, want the unsubscribe URL and non-placeholders kept", got)
		}
		if got := m.TextBody(); !strings.Contains(got, `Dear <b>Ann & "Bob"</b> {{email}} <reader00001@hospital.example>,`) {
			t.Errorf("text = %q, want the name as it is", got)
		}
		if m.Subject != `News for <b>Ann & "Bob"</b> {{email}}` {
			t.Errorf("subject = %q", m.Subject)
		}
		m0 := byRcpt["reader00000@hospital.example"]
		for name, want := range map[string]string{
			"List-Unsubscribe":      "<https://coalition.example/unsubscribe/tok00000>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               "Coalition news <news.coalition.example>",
		} {
			if got := m0.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if c := counts(t, f, id); c["sent"] != 2 || c["queued"] != 0 {
			t.Errorf("counts = %v", c)
		}
	})
}

func TestEnqueueBulkIsUniquePerBodyAndAddress(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		rs := readers(0, 1200) // three INSERTs
		upper := reader(3)
		upper.To.Email = strings.ToUpper(upper.To.Email)
		rs = append(rs, reader(5), upper)
		id := f.bulk(t, newsletter(), rs)
		// A restarted start queues the same recipients again, and a few more.
		err := db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
			_, err := outbox.EnqueueBulk(ctx, tx, f.clock.Now(), id, slices.Values(readers(1000, 1300)))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if c := counts(t, f, id); c["queued"] != 1300 {
			t.Fatalf("queued = %d, want 1300 (one per address)", c["queued"])
		}
		// Another bulk send may reach the same people.
		if c := counts(t, f, f.bulk(t, newsletter(), readers(0, 10))); c["queued"] != 10 {
			t.Fatalf("second send queued = %d, want 10", c["queued"])
		}

		id3 := f.bulk(t, newsletter(), nil)
		bad := func(mod func(*outbox.Recipient)) error {
			r := reader(9999)
			mod(&r)
			return db.InTx(sys, d.Client, func(ctx context.Context, tx *ent.Client) error {
				_, err := outbox.EnqueueBulk(ctx, tx, f.clock.Now(), id3, slices.Values([]outbox.Recipient{reader(7), r}))
				return err
			})
		}
		for name, mod := range map[string]func(*outbox.Recipient){
			"no unsubscribe url":    func(r *outbox.Recipient) { delete(r.Values, outbox.UnsubscribeURLKey) },
			"http unsubscribe url":  func(r *outbox.Recipient) { r.Values[outbox.UnsubscribeURLKey] = "http://coalition.example/u/1" },
			"header injection":      func(r *outbox.Recipient) { r.To.Name = "Eve\r\nBcc: all@example.org" },
			"value injection":       func(r *outbox.Recipient) { r.Values[outbox.UnsubscribeURLKey] += "\r\nBcc: x@example.org" },
			"malformed address":     func(r *outbox.Recipient) { r.To.Email = "not an address" },
			"bad value name":        func(r *outbox.Recipient) { r.Values["Bad-Name"] = "x" },
			"address with a name":   func(r *outbox.Recipient) { r.To.Email = "Eve <eve@example.org>" },
			"overlong address":      func(r *outbox.Recipient) { r.To.Email = strings.Repeat("a", 250) + "@example.org" },
			"unsubscribe not a url": func(r *outbox.Recipient) { r.Values[outbox.UnsubscribeURLKey] = "javascript:alert(1)" },
		} {
			if err := bad(mod); !errors.Is(err, outbox.ErrInvalidEmail) {
				t.Errorf("%s: err = %v, want ErrInvalidEmail", name, err)
			}
		}
		if c := counts(t, f, id3); c["queued"] != 0 {
			t.Errorf("an invalid recipient still queued %d rows", c["queued"])
		}
		if _, err := outbox.EnqueueBulk(sys, d.Client, f.clock.Now(), id3, slices.Values(readers(0, 1))); !errors.Is(err, outbox.ErrNoTransaction) {
			t.Errorf("plain client: err = %v, want ErrNoTransaction", err)
		}
	})
}

// TestTransactionalMailIsNotQueuedBehindBulk: while 10,000 bulk messages are queued and
// being sent, a sign-in link queued meanwhile goes out after at most one bulk batch (plus
// the messages in flight); then the campaign is cancelled, exactly.
func TestTransactionalMailIsNotQueuedBehindBulk(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		const batch, workers = 50, 2
		w := f.worker(t, "w1", func(c *outbox.WorkerConfig) { c.BatchSize = batch; c.Concurrency = workers })
		// Pause and Cancel mark the send (its body) for every worker of the process.
		big := f.bulk(t, newsletter(), readers(0, 10_000))

		held, release := f.smtp.Hold(120)
		done := make(chan error, 1)
		go func() { _, _, _, err := w.DrainOnce(context.Background()); done <- err }()
		select {
		case <-held:
		case err := <-done:
			t.Fatalf("drain ended before the relay held a message: %v (relay received %d)", err, len(f.smtp.Messages()))
		}
		f.enqueue(t, email("login_link:lnk_1"))
		before := len(f.smtp.Messages())
		release()
		msgs := waitFor(t, f, func(ms []testkit.ReceivedMessage) bool {
			return slices.ContainsFunc(ms, func(m testkit.ReceivedMessage) bool { return m.Subject == "Your sign-in link" })
		})
		at := slices.IndexFunc(msgs, func(m testkit.ReceivedMessage) bool { return m.Subject == "Your sign-in link" })
		if bulkBetween := at - before; bulkBetween > batch+workers {
			t.Errorf("%d bulk messages went out between queueing the sign-in link and sending it; want at most one batch (%d) + in flight (%d)", bulkBetween, batch, workers)
		}

		n, err := outbox.Cancel(sys, d.Client, big)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("drain: %v", err)
		}
		c := counts(t, f, big)
		received := len(f.smtp.Messages()) - 1 // the sign-in link
		if c["sent"] != received || c["sent"]+c["cancelled"] != 10_000 || c["queued"]+c["sending"]+c["paused"] != 0 {
			t.Errorf("after cancel (%d at once): counts %v, relay received %d bulk; want sent = received, sent + cancelled = 10000", n, c, received)
		}
	})
}

// waitFor waits until cond holds for the relay's messages and returns them.
func waitFor(t *testing.T, f *fixture, cond func([]testkit.ReceivedMessage) bool) []testkit.ReceivedMessage {
	t.Helper()
	ms := f.smtp.Messages()
	for !cond(ms) {
		ms = f.smtp.WaitForMessages(t, len(ms)+1, waitLimit)
	}
	return ms
}

func TestPauseAndResumeKeepTheExactPosition(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "w1", func(c *outbox.WorkerConfig) { c.BatchSize = 40 })
		key := f.bulk(t, newsletter(), readers(0, 300))

		held, release := f.smtp.Hold(25)
		done := make(chan error, 1)
		go func() { _, _, _, err := w.DrainOnce(context.Background()); done <- err }()
		select {
		case <-held:
		case err := <-done:
			t.Fatalf("drain ended before the relay held a message: %v (relay received %d)", err, len(f.smtp.Messages()))
		}
		if _, err := outbox.Pause(sys, d.Client, key); err != nil {
			t.Fatal(err)
		}
		release()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		c := counts(t, f, key)
		sent := len(f.smtp.Messages())
		if c["sent"] != sent || c["sent"]+c["paused"] != 300 || sent != 26 {
			t.Fatalf("paused: counts %v, relay received %d; want 26 sent (25 + the one in flight), the rest paused", c, sent)
		}
		wantDrained(t, w, drained{}) // paused rows are not claimable

		if n, err := outbox.Resume(sys, d.Client, key); err != nil || n != 300-26 {
			t.Fatalf("resume = %d, %v", n, err)
		}
		wantDrained(t, w, drained{sent: 300 - 26})
		seen := map[string]int{}
		for _, m := range f.smtp.Messages() {
			seen[m.To[0]]++
		}
		for addr, k := range seen {
			if k != 1 {
				t.Errorf("%s received %d messages", addr, k)
			}
		}
		if len(seen) != 300 {
			t.Errorf("%d recipients received the newsletter, want 300", len(seen))
		}
		if c := counts(t, f, key); c["sent"] != 300 {
			t.Errorf("counts = %v", c)
		}
	})
}

func TestSuppressionHookAndHardBounces(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var (
			mu      sync.Mutex
			asked   []string
			bounces []outbox.Bounce
		)
		gone := "reader00001@hospital.example"
		w := f.worker(t, "w1", func(c *outbox.WorkerConfig) {
			c.Concurrency = 1
			c.SuppressBulk = func(_ context.Context, _ *ent.Client, rcpts []string) ([]bool, error) {
				mu.Lock()
				defer mu.Unlock()
				asked = append(asked, rcpts...)
				out := make([]bool, len(rcpts))
				for i, r := range rcpts {
					out[i] = r == gone
				}
				return out, nil
			}
			c.OnHardBounce = func(_ context.Context, b outbox.Bounce) {
				mu.Lock()
				defer mu.Unlock()
				bounces = append(bounces, b)
			}
		})
		first := f.bulk(t, newsletter(), readers(0, 4))
		link := email("login_link:lnk_gone")
		link.To.Email = gone
		f.enqueue(t, link)

		f.smtp.Reject(550, 1) // the first message tried is the sign-in link (transactional first)
		wantDrained(t, w, drained{sent: 3, failed: 1})

		if slices.Contains(asked, "ana.login_link-lnk_gone@hospital.example") || len(asked) != 4 {
			t.Errorf("the hook was asked about %v; want the 4 bulk recipients only", asked)
		}
		if len(bounces) != 1 || bounces[0].Recipient != gone || bounces[0].Lane != outbox.LaneTransactional || bounces[0].Code != 550 || bounces[0].Body != "" {
			t.Errorf("bounces = %+v, want the sign-in link's 550", bounces)
		}
		if c := counts(t, f, first); c["suppressed"] != 1 || c["sent"] != 3 {
			t.Errorf("counts = %v, want 1 suppressed, 3 sent", c)
		}
		for _, m := range f.smtp.Messages() {
			if m.To[0] == gone {
				t.Errorf("a message reached the suppressed address: %q", m.Subject)
			}
		}

		// A bulk message refused at RCPT is a hard bounce of the bulk lane.
		second := f.bulk(t, newsletter(), readers(10, 11))
		f.smtp.Reject(550, 1)
		wantDrained(t, w, drained{failed: 1})
		if len(bounces) != 2 || bounces[1].Lane != outbox.LaneBulk || bounces[1].Body != string(second) {
			t.Errorf("bounces = %+v", bounces)
		}
	})
}

// The rows a dead worker had claimed come back when its lease runs out; if their batch was
// paused meanwhile (by another process, whose memory of the pause this worker does not
// share), the HaltedBulk hook holds them: they are paused, not sent. And a batch this
// process paused, resumed by another process, is sent again here (the hook's answer wins
// over this process's memory).
func TestHaltedHookHoldsADeadWorkersRowsAndFollowsResume(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var mu sync.Mutex
		state := map[pulid.ID]string{}
		w := f.worker(t, "survivor", func(c *outbox.WorkerConfig) {
			c.HaltedBulk = func(_ context.Context, _ *ent.Client, keys []pulid.ID) (map[pulid.ID]string, error) {
				mu.Lock()
				defer mu.Unlock()
				out := map[pulid.ID]string{}
				for _, k := range keys {
					out[k] = state[k]
				}
				return out, nil
			}
		})
		set := func(key pulid.ID, st string) { mu.Lock(); state[key] = st; mu.Unlock() }
		key := f.bulk(t, newsletter(), readers(0, 10))
		// A worker of a process that died claimed 4 of them; the campaign was paused since.
		ids, err := d.Client.OutboxMessage.Query().Where(outboxmessage.BodyID(key)).Order(outboxmessage.ByRecipient()).Limit(4).IDs(sys)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Client.OutboxMessage.Update().Where(outboxmessage.IDIn(ids...)).
			SetState(outboxmessage.StateSending).SetLeaseOwner("dead").SetLeaseUntil(f.clock.Now().Add(time.Minute)).SetAttempts(1).
			Exec(sys); err != nil {
			t.Fatal(err)
		}
		if err := d.Client.OutboxMessage.Update().Where(outboxmessage.BodyID(key), outboxmessage.StateEQ(outboxmessage.StateQueued)).
			SetState(outboxmessage.StatePaused).Exec(sys); err != nil {
			t.Fatal(err)
		}
		set(key, "paused")
		f.clock.Advance(2 * time.Minute) // the dead worker's lease ran out
		wantDrained(t, w, drained{})
		if c := counts(t, f, key); c["paused"] != 10 {
			t.Fatalf("after the takeover while paused: counts %v, want all 10 paused", c)
		}
		if n := len(f.smtp.Messages()); n != 0 {
			t.Fatalf("relay received %d messages of a paused campaign", n)
		}

		// Paused here, resumed by another process: this worker sends them.
		if _, err := outbox.Pause(sys, d.Client, key); err != nil {
			t.Fatal(err)
		}
		if err := d.Client.OutboxMessage.Update().Where(outboxmessage.BodyID(key)).
			SetState(outboxmessage.StateQueued).Exec(sys); err != nil { // another process's Resume
			t.Fatal(err)
		}
		set(key, "")
		wantDrained(t, w, drained{sent: 10})
		if c := counts(t, f, key); c["sent"] != 10 {
			t.Fatalf("after the resume elsewhere: counts %v, want 10 sent", c)
		}

		// Cancelled elsewhere: queued rows are cancelled when claimed.
		other := f.bulk(t, newsletter(), readers(20, 23))
		set(other, "cancelled")
		wantDrained(t, w, drained{})
		if c := counts(t, f, other); c["cancelled"] != 3 {
			t.Fatalf("cancelled elsewhere: counts %v, want 3 cancelled", c)
		}
	})
}
