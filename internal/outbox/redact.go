package outbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// RedactedAddress is what Redact writes in place of address: a name that cannot be
// delivered (RFC 2606 .invalid) and tells staff that rows of one erased person belong
// together, without the address.
func RedactedAddress(address string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(address)))
	return "erased-" + hex.EncodeToString(sum[:8]) + "@erased.invalid"
}

// Redact removes a person's address and name from the outbox rows of the given templates
// sent, or to be sent, to address (an erasure): the recipient becomes RedactedAddress, the
// name, the personal values, the row's own bodies and headers are emptied, the address in
// the dedupe key and the last error is replaced; rows not yet handed to the relay (queued
// or paused) are cancelled, since nothing may reach an erased person. States, attempts and
// times stay, so a campaign's counts do not change. address must be in the form the rows
// were written with (normalised). It returns how many rows it changed. The fields are
// immutable for every other writer; this is the one path that rewrites them, through
// client (the caller's transaction).
func Redact(ctx context.Context, client *ent.Client, address string, templates ...string) (int, error) {
	if address == "" || len(templates) == 0 {
		return 0, nil
	}
	ctx = viewer.NewSystemContext(ctx)
	placeholder := RedactedAddress(address)
	preds := outboxmessage.And(outboxmessage.Recipient(address), outboxmessage.TemplateIn(templates...))
	_, err := client.OutboxMessage.Update().
		Where(preds, outboxmessage.StateIn(outboxmessage.StateQueued, outboxmessage.StatePaused)).
		SetState(outboxmessage.StateCancelled).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("redact %s: cancel: %w", placeholder, err)
	}
	n, err := client.OutboxMessage.Update().
		Where(preds).
		Modify(func(u *sql.UpdateBuilder) {
			u.Set(outboxmessage.FieldRecipient, placeholder).
				Set(outboxmessage.FieldRecipientName, "").
				Set(outboxmessage.FieldTextBody, "").
				Set(outboxmessage.FieldHTMLBody, "").
				SetNull(outboxmessage.FieldHeaders).
				SetNull(outboxmessage.FieldPersonal).
				Set(outboxmessage.FieldDedupeKey, replace(outboxmessage.FieldDedupeKey, address, placeholder)).
				Set(outboxmessage.FieldLastError, replace(outboxmessage.FieldLastError, address, placeholder))
		}).
		Save(ctx)
	if err != nil {
		return 0, fmt.Errorf("redact %s: %w", placeholder, err)
	}
	return n, nil
}

// replace is the SQL REPLACE(column, old, new), the same in SQLite and PostgreSQL.
func replace(column, old, new string) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("REPLACE(").Ident(column).Comma().Arg(old).Comma().Arg(new).WriteByte(')')
	})
}
