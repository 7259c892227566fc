package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/db"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/testkit"
)

func offerBody() outbox.Body {
	return outbox.Body{
		Template: "match_result",
		Subject:  "Your offer: {{centre}}",
		Text:     "Hello {{name}},\nyou are offered {{centre}}.\nAccept: {{accept_url}}\n",
		HTML:     `<p>Hello {{name}},</p><p>you are offered <strong>{{centre}}</strong>.</p><a href="{{accept_url}}">Accept</a>`,
		Headers:  map[string]string{"Reply-To": "office@coalition.example"},
	}
}

func offerEmail(i int) outbox.SharedEmail {
	return outbox.SharedEmail{
		DedupeKey: fmt.Sprintf("match_offer:plc_%04d", i),
		To:        mail.Address{Name: fmt.Sprintf("Trainee %d", i), Email: fmt.Sprintf("trainee%04d@hospital.example", i)},
		Values: map[string]string{"name": fmt.Sprintf("Trainee %d", i), "centre": fmt.Sprintf("Centre <%d> & co", i),
			"accept_url": fmt.Sprintf("https://coalition.example/signin?token=lt_%04d", i)},
	}
}

func (f *fixture) shared(t testing.TB, shared ...outbox.Shared) error {
	t.Helper()
	return db.InTx(sys, f.d.Client, func(ctx context.Context, tx *ent.Client) error {
		return outbox.EnqueueShared(ctx, tx, f.clock.Now(), shared)
	})
}

// Emails sharing a body are transactional rows that carry only their values; the worker
// sends each one personalised, with the body's headers; a suppressed one is recorded, not
// sent; a key queued again is queued once.
func TestEnqueueSharedQueuesTransactionalRowsWithoutTheirBodies(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		w := f.worker(t, "w1")
		var emails []outbox.SharedEmail
		for i := range 1100 { // three INSERTs of rows
			emails = append(emails, offerEmail(i))
		}
		emails[7].Suppressed = true
		emails = append(emails, offerEmail(3)) // repeated in the batch
		other := offerBody()
		other.Subject = "Another offer: {{centre}}"
		if err := f.shared(t, outbox.Shared{Body: offerBody(), Emails: emails}, outbox.Shared{Body: other, Emails: []outbox.SharedEmail{offerEmail(2000)}}); err != nil {
			t.Fatal(err)
		}
		// Queued again (a repeated publication): nothing more.
		if err := f.shared(t, outbox.Shared{Body: offerBody(), Emails: emails[:10]}); err != nil {
			t.Fatal(err)
		}
		if n := f.count(t); n != 1101 {
			t.Fatalf("%d rows, want 1,101", n)
		}
		r := f.row(t, "match_offer:plc_0001")
		if r.Lane != outboxmessage.LaneTransactional || r.BodyID == nil || r.TextBody != "" || r.HTMLBody != "" || r.Subject != "" ||
			r.Personal["centre"] != "Centre <1> & co" || r.Template != "match_result" || r.State != outboxmessage.StateQueued {
			t.Fatalf("row = %+v", r)
		}
		if s := f.row(t, "match_offer:plc_0007").State; s != outboxmessage.StateSuppressed {
			t.Errorf("suppressed recipient's row is %s", s)
		}
		for sent := 0; sent < 1099; {
			got := drain(t, w)
			if got.sent == 0 {
				t.Fatalf("drained nothing after %d sent", sent)
			}
			sent += got.sent
		}
		msgs := f.smtp.WaitForMessages(t, 1099, waitLimit)
		byRcpt := map[string]testkit.ReceivedMessage{}
		for _, m := range msgs {
			byRcpt[m.To[0]] = m
		}
		if _, ok := byRcpt["trainee0007@hospital.example"]; ok {
			t.Error("the suppressed recipient got the email")
		}
		m := byRcpt["trainee0001@hospital.example"]
		if m.Subject != "Your offer: Centre <1> & co" || m.Header.Get("Reply-To") != "office@coalition.example" {
			t.Errorf("subject %q, Reply-To %q", m.Subject, m.Header.Get("Reply-To"))
		}
		if !strings.Contains(strings.ReplaceAll(m.TextBody(), "\r\n", "\n"), "Hello Trainee 1,\nyou are offered Centre <1> & co.\nAccept: https://coalition.example/signin?token=lt_0001") {
			t.Errorf("text:\n%s", m.TextBody())
		}
		if !strings.Contains(m.HTMLBody(), `<strong>Centre &lt;1&gt; &amp; co</strong>.</p><a href="https://coalition.example/signin?token=lt_0001">`) {
			t.Errorf("html:\n%s", m.HTMLBody())
		}
		if m := byRcpt["trainee2000@hospital.example"]; m.Subject != "Another offer: Centre <2000> & co" {
			t.Errorf("second body's subject %q", m.Subject)
		}
	})
}

// EnqueueShared refuses a plain client, an invalid body, an email without a value its body
// needs, and an invalid value, and then queues nothing (bodies included).
func TestEnqueueSharedRefusesAndQueuesNothing(t *testing.T) {
	testkit.EachDialect(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ok := outbox.Shared{Body: offerBody(), Emails: []outbox.SharedEmail{offerEmail(1)}}
		if err := outbox.EnqueueShared(sys, d.Client, f.clock.Now(), []outbox.Shared{ok}); !errors.Is(err, outbox.ErrNoTransaction) {
			t.Errorf("plain client: %v, want ErrNoTransaction", err)
		}
		missing := offerEmail(2)
		delete(missing.Values, "accept_url")
		twoLines := offerEmail(3)
		twoLines.Values["centre"] = "Centre\r\nBcc: x@example.org"
		noKey := offerEmail(4)
		noKey.DedupeKey = ""
		badBody := offerBody()
		badBody.Subject = "Two\nlines"
		for name, bad := range map[string]outbox.Shared{
			"missing value": {Body: offerBody(), Emails: []outbox.SharedEmail{missing}},
			"two lines":     {Body: offerBody(), Emails: []outbox.SharedEmail{twoLines}},
			"no dedupe key": {Body: offerBody(), Emails: []outbox.SharedEmail{noKey}},
			"bad body":      {Body: badBody, Emails: []outbox.SharedEmail{offerEmail(5)}},
		} {
			if err := f.shared(t, ok, bad); !errors.Is(err, outbox.ErrInvalidEmail) {
				t.Errorf("%s: %v, want ErrInvalidEmail", name, err)
			}
		}
		if n := f.count(t); n != 0 {
			t.Errorf("%d rows queued", n)
		}
		if n, err := d.Client.MailBody.Query().Count(sys); err != nil || n != 0 {
			t.Errorf("%d bodies stored, %v", n, err)
		}
	})
}
