package outbox

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Shared is a body rendered once and the transactional emails that share it (e.g. the
// offers of a published match): each email's row carries only its recipient, dedupe key
// and personal values, filled into the body's {{placeholders}} when the worker builds the
// message, exactly as for a bulk send's rows (Body, personalise).
type Shared struct {
	Body   Body
	Emails []SharedEmail
}

// SharedEmail is one email of a Shared batch.
type SharedEmail struct {
	// DedupeKey is unique per logical email, as Email's.
	DedupeKey string
	To        mail.Address
	// Values are the email's values for the body's placeholders (as Recipient's).
	Values map[string]string
	// Suppressed records the email without ever sending it, as Email's.
	Suppressed bool
}

// sharedBodiesPerInsert bounds the bodies of one INSERT: a body binds 9 values.
const sharedBodiesPerInsert = 500

// EnqueueShared stores the body of every batch of shared (multi-row INSERTs) and queues
// their emails, due at now, on the transactional lane with EnqueueBatch's guarantees:
// client must be a transactional client (ErrNoTransaction otherwise); an email whose
// DedupeKey is queued already, or repeated in shared, is queued once; nothing is queued
// if a body or an email is invalid, or an email lacks a value for one of its body's
// placeholders (errors wrap ErrInvalidEmail). Rows are written 500 per INSERT.
func EnqueueShared(ctx context.Context, client *ent.Client, now time.Time, shared []Shared) error {
	if len(shared) == 0 {
		return nil
	}
	for _, s := range shared {
		if err := s.Body.Validate(); err != nil {
			return fmt.Errorf("enqueue shared %s: %w", s.Body.Template, err)
		}
		keys := placeholders(append([]string{s.Body.Subject, s.Body.Text, s.Body.HTML}, mapValues(s.Body.Headers)...)...)
		for _, e := range s.Emails {
			if e.DedupeKey == "" || len(e.DedupeKey) > maxDedupeKeyLen {
				return fmt.Errorf("enqueue %s: %w: dedupe key must be 1–%d bytes", e.DedupeKey, ErrInvalidEmail, maxDedupeKeyLen)
			}
			if err := (Recipient{To: e.To, Values: e.Values}).validate(keys); err != nil {
				return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
			}
		}
	}
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return fmt.Errorf("enqueue shared %s: %w", shared[0].Body.Template, err)
	}
	now = utc(now)
	bodies := make([]*ent.MailBody, 0, len(shared))
	for start := 0; start < len(shared); start += sharedBodiesPerInsert {
		chunk := shared[start:min(start+sharedBodiesPerInsert, len(shared))]
		creates := make([]*ent.MailBodyCreate, len(chunk))
		for i, s := range chunk {
			creates[i] = client.MailBody.Create().
				SetCreatedAt(now).SetUpdatedAt(now).
				SetTemplate(s.Body.Template).
				SetSubject(s.Body.Subject).
				SetPreheader(s.Body.Preheader).
				SetTextBody(s.Body.Text).
				SetHTMLBody(s.Body.HTML)
			if len(s.Body.Headers) > 0 {
				creates[i].SetHeaders(s.Body.Headers)
			}
		}
		saved, err := client.MailBody.CreateBulk(creates...).Save(ctx)
		if err != nil {
			return fmt.Errorf("enqueue shared %s: save %d bodies: %w", chunk[0].Body.Template, len(chunk), err)
		}
		bodies = append(bodies, saved...)
	}
	var (
		seen    = map[string]bool{}
		creates = make([]*ent.OutboxMessageCreate, 0, batchSize)
	)
	flush := func() error {
		if len(creates) == 0 {
			return nil
		}
		err := client.OutboxMessage.CreateBulk(creates...).OnConflictColumns(outboxmessage.FieldDedupeKey).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return fmt.Errorf("enqueue %d shared emails: %w", len(creates), err)
		}
		creates = creates[:0]
		return nil
	}
	for i, s := range shared {
		for _, e := range s.Emails {
			if seen[e.DedupeKey] {
				continue
			}
			seen[e.DedupeKey] = true
			c := client.OutboxMessage.Create().
				SetCreatedAt(now).
				SetUpdatedAt(now).
				SetDedupeKey(e.DedupeKey).
				SetTemplate(s.Body.Template).
				SetRecipient(e.To.Email).
				SetRecipientName(e.To.Name).
				SetSubject("").
				SetTextBody("").
				SetHTMLBody("").
				SetBodyID(bodies[i].ID).
				SetNextAttemptAt(now)
			if len(e.Values) > 0 {
				c.SetPersonal(e.Values)
			}
			if e.Suppressed {
				c.SetState(outboxmessage.StateSuppressed)
			}
			creates = append(creates, c)
			if len(creates) == batchSize {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}
