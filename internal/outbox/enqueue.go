package outbox

import (
	"context"
	stdsql "database/sql"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/internal/mail"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Limits of an outbox row (see ent/schema/outboxmessage.go; RFC 5321 §4.5.3.1.3 and
// RFC 5322 §2.1.1 for the address and line lengths).
const (
	maxDedupeKeyLen = 255
	maxTemplateLen  = 100
	maxAddressLen   = 254
	maxNameLen      = 200
	maxSubjectLen   = 998
	maxErrorLen     = 2000
)

// ErrInvalidEmail is wrapped by the errors of Email.Validate (and so of Enqueue).
var ErrInvalidEmail = errors.New("invalid email")

// Email is one email to one recipient, rendered, ready to be queued.
type Email struct {
	// DedupeKey is unique per logical email, e.g. "login_link:lnk_01J…": queueing the
	// same key again does nothing, so a repeated event never sends twice.
	DedupeKey string
	// Template names what the email was rendered from, e.g. "login_link".
	Template string
	// To is the recipient: a bare address (name@example.org) and an optional name.
	To mail.Address
	// Subject is one line of at most 998 bytes.
	Subject string
	// Text and HTML are the two alternative bodies; at least one must be set.
	Text, HTML string
	// Headers are extra header fields, e.g. List-Unsubscribe.
	Headers map[string]string
	// Attachments are attached files, e.g. calendar invitations.
	Attachments []mailtype.Attachment
	// Suppressed records the email without ever sending it (state suppressed), e.g. for a
	// disabled account: the caller does the same work either way, and operators see it.
	Suppressed bool
}

// Validate reports what makes e impossible to queue. Its errors wrap ErrInvalidEmail.
func (e Email) Validate() error {
	invalid := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidEmail}, args...)...)
	}
	switch {
	case e.DedupeKey == "" || len(e.DedupeKey) > maxDedupeKeyLen:
		return invalid("dedupe key must be 1–%d bytes", maxDedupeKeyLen)
	case e.Template == "" || len(e.Template) > maxTemplateLen:
		return invalid("template must be 1–%d bytes", maxTemplateLen)
	case e.Text == "" && e.HTML == "":
		return invalid("no text or html body")
	case strings.ContainsAny(e.Subject, "\r\n"):
		return invalid("subject is more than one line")
	case len(e.Subject) > maxSubjectLen:
		return invalid("subject is longer than %d bytes", maxSubjectLen)
	case len(e.To.Name) > maxNameLen || hasControl(e.To.Name):
		return invalid("recipient name is longer than %d bytes or has control characters", maxNameLen)
	case len(e.To.Email) > maxAddressLen:
		return invalid("recipient address is longer than %d bytes", maxAddressLen)
	}
	addr, err := netmail.ParseAddress(e.To.Email)
	if err != nil {
		return invalid("recipient %q: %v", e.To.Email, err)
	}
	if addr.Name != "" || addr.Address != e.To.Email {
		return invalid("recipient %q: want a bare address such as name@example.org", e.To.Email)
	}
	for name, value := range e.Headers {
		if name == "" || strings.ContainsAny(name, ": \t") || hasControl(name) || hasControl(value) {
			return invalid("header %q: malformed name or value", name)
		}
	}
	for i, a := range e.Attachments {
		if a.Filename == "" || hasControl(a.Filename) {
			return invalid("attachment %d: file name %q is empty or has control characters", i, a.Filename)
		}
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// ErrNoTransaction is returned by Enqueue and EnqueueBatch when they are given a client
// that is not in a transaction.
var ErrNoTransaction = errors.New("outbox.Enqueue needs the caller's transaction (db.InTx); use EnqueueAlone for an email that belongs to no change")

// Enqueue queues e, due at now, in the caller's transaction: client must be a
// transactional client (tx.Client(), or the one db.InTx passes), so that the row commits
// or rolls back with the change that caused it. Given a plain client, it queues nothing
// and returns ErrNoTransaction: an email committed on its own beside a change that later
// rolls back would be sent for nothing.
//
// A second Enqueue with the same DedupeKey does nothing and returns nil. It never fails
// on the unique key (INSERT … ON CONFLICT DO NOTHING), so it cannot abort the caller's
// PostgreSQL transaction.
func Enqueue(ctx context.Context, client *ent.Client, now time.Time, e Email) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
	}
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
	}
	// The caller's transaction: the row is theirs to commit.
	return insert(ctx, client, now, e)
}

// requireTx returns nil when client is in a transaction and ErrNoTransaction otherwise.
// ent answers ErrTxStarted to a transactional client's Tx without asking the database;
// only a misused plain client costs a BEGIN, rolled back at once.
func requireTx(ctx context.Context, client *ent.Client) error {
	tx, err := client.Tx(ctx)
	switch {
	case errors.Is(err, ent.ErrTxStarted):
		return nil
	case err != nil:
		return err
	}
	_ = tx.Rollback()
	return ErrNoTransaction
}

// EnqueueAlone queues e, due at now, in a transaction of its own, for an email that
// belongs to no change in the database (an operator's test message, say). Everything
// that changes data and emails about it uses Enqueue in that change's transaction.
func EnqueueAlone(ctx context.Context, client *ent.Client, now time.Time, e Email) error {
	if err := e.Validate(); err != nil {
		return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
	}
	ctx = viewer.NewSystemContext(ctx)
	// A transaction even for one statement: ent sends the upsert as INSERT … RETURNING,
	// a query, which on SQLite would otherwise go to the read-only pool.
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
	}
	if err := insert(ctx, tx.Client(), now, e); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("enqueue %s: commit: %w", e.DedupeKey, err)
	}
	return nil
}

// batchSize bounds the rows of one INSERT: an outbox row binds 14 values, so 500 rows stay
// far below SQLite's and PostgreSQL's limits on bound parameters.
const batchSize = 500

// EnqueueBatch queues every email of es, due at now, with as few INSERT statements as
// possible (one per 500 emails), with Enqueue's guarantees: client must be a transactional
// client, so that the rows commit or roll back with the caller's change (given a plain
// client, it queues nothing and returns ErrNoTransaction), and an email whose DedupeKey is
// queued already, or repeated in es, is queued once. Nothing is queued if any email is
// invalid.
func EnqueueBatch(ctx context.Context, client *ent.Client, now time.Time, es []Email) error {
	if len(es) == 0 {
		return nil
	}
	for _, e := range es {
		if err := e.Validate(); err != nil {
			return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
		}
	}
	ctx = viewer.NewSystemContext(ctx)
	if err := requireTx(ctx, client); err != nil {
		return fmt.Errorf("enqueue %d emails: %w", len(es), err)
	}
	// The caller's transaction: the rows are theirs to commit.
	return insertBatch(ctx, client, now, es)
}

func insertBatch(ctx context.Context, client *ent.Client, now time.Time, es []Email) error {
	seen := make(map[string]bool, len(es))
	creates := make([]*ent.OutboxMessageCreate, 0, min(len(es), batchSize))
	flush := func() error {
		if len(creates) == 0 {
			return nil
		}
		err := client.OutboxMessage.CreateBulk(creates...).OnConflictColumns(outboxmessage.FieldDedupeKey).DoNothing().Exec(ctx)
		if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
			return fmt.Errorf("enqueue %d emails: %w", len(creates), err)
		}
		creates = creates[:0]
		return nil
	}
	for _, e := range es {
		if seen[e.DedupeKey] {
			continue
		}
		seen[e.DedupeKey] = true
		creates = append(creates, create(client, now, e))
		if len(creates) == batchSize {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func insert(ctx context.Context, client *ent.Client, now time.Time, e Email) error {
	err := create(client, now, e).OnConflictColumns(outboxmessage.FieldDedupeKey).DoNothing().Exec(ctx)
	// With DO NOTHING and an existing key, RETURNING yields no row: the email is queued.
	if err != nil && !errors.Is(err, stdsql.ErrNoRows) {
		return fmt.Errorf("enqueue %s: %w", e.DedupeKey, err)
	}
	return nil
}

// create is the builder of e's row.
func create(client *ent.Client, now time.Time, e Email) *ent.OutboxMessageCreate {
	now = utc(now)
	c := client.OutboxMessage.Create().
		SetCreatedAt(now).
		SetUpdatedAt(now).
		SetDedupeKey(e.DedupeKey).
		SetTemplate(e.Template).
		SetRecipient(e.To.Email).
		SetRecipientName(e.To.Name).
		SetSubject(e.Subject).
		SetTextBody(e.Text).
		SetHTMLBody(e.HTML).
		SetNextAttemptAt(now)
	if len(e.Headers) > 0 {
		c.SetHeaders(e.Headers)
	}
	if len(e.Attachments) > 0 {
		c.SetAttachments(e.Attachments)
	}
	if e.Suppressed {
		c.SetState(outboxmessage.StateSuppressed)
	}
	return c
}

// utc returns t in UTC at the precision PostgreSQL stores, so that times compare the same
// on both dialects (SQLite compares them as strings).
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
