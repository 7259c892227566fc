package privacy

import (
	"context"
	"fmt"
	"html"
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/dataexport"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/audit"
	"github.com/gocart-coalition/coalition/internal/outbox"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The platform's own tables take part through the domains of this file: the requests
// themselves, the mail sent, and the audit trail.

// RequestsDomain is the person's data-protection requests (data exports).
type RequestsDomain struct{}

// Name implements Domain.
func (RequestsDomain) Name() string { return "requests" }

// Entities implements Domain.
func (RequestsDomain) Entities() []string { return []string{"DataExport", "ErasureRequest"} }

// Categories implements Domain.
func (RequestsDomain) Categories() []Category {
	return []Category{{Name: "Data-protection requests", Data: "exports and erasures asked for, by whom, when built, downloaded, expired, approved, refused or done",
		Purpose: "answer and document data-subject requests", LegalBasis: "Art. 6(1)(c) legal obligation (GDPR Art. 12–22)",
		Retention: "the request row is kept as the record of the answer (ids and times only); an export's file is deleted after the download, after 7 days or on erasure", Recipients: "staff"}}
}

// Export implements Domain.
func (RequestsDomain) Export(ctx context.Context, c *ent.Client, p Person) (Part, error) {
	es, err := c.DataExport.Query().Where(dataexport.PersonID(p.ID)).
		Order(ent.Asc(dataexport.FieldCreatedAt), ent.Asc(dataexport.FieldID)).All(ctx)
	if err != nil {
		return Part{}, fmt.Errorf("data exports: %w", err)
	}
	return Part{Data: map[string]any{"data_exports": es}}, nil
}

// MailDomain is the email sent (or queued) to the person's address.
type MailDomain struct{}

// Name implements Domain.
func (MailDomain) Name() string { return "mail" }

// Entities implements Domain.
func (MailDomain) Entities() []string { return []string{"OutboxMessage"} }

// Categories implements Domain.
func (MailDomain) Categories() []Category {
	return []Category{{Name: "Email delivery", Data: "recipient address and name, rendered message, delivery state and attempts",
		Purpose: "deliver the service's email reliably and show what was sent", LegalBasis: "as the purpose of the email (Art. 6(1)(b), (a) for newsletters)",
		Retention: "delivery record kept; bodies purged after sending (retention job)", Recipients: "the mail relay"}}
}

// MailExport is one message in mail.json: what was sent and when, not its body (which
// may hold a link's secret).
type MailExport struct {
	ID        pulid.ID   `json:"id"`
	Template  string     `json:"template"`
	Subject   string     `json:"subject"`
	State     string     `json:"state"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at,omitempty"`
}

// Export implements Domain.
func (MailDomain) Export(ctx context.Context, c *ent.Client, p Person) (Part, error) {
	ms, err := c.OutboxMessage.Query().Where(outboxmessage.Recipient(p.Email)).
		Order(ent.Asc(outboxmessage.FieldCreatedAt), ent.Asc(outboxmessage.FieldID)).All(ctx)
	if err != nil {
		return Part{}, fmt.Errorf("mail: %w", err)
	}
	out := []MailExport{}
	for _, m := range ms {
		out = append(out, MailExport{ID: m.ID, Template: m.Template, Subject: m.Subject, State: string(m.State), CreatedAt: m.CreatedAt, SentAt: m.SentAt})
	}
	return Part{Data: map[string]any{"messages": out}}, nil
}

// AuditDomain is the audit events the person caused or that are about their account.
type AuditDomain struct{}

// Name implements Domain.
func (AuditDomain) Name() string { return "audit" }

// Entities implements Domain.
func (AuditDomain) Entities() []string { return []string{"AuditEvent"} }

// Categories implements Domain.
func (AuditDomain) Categories() []Category {
	return []Category{{Name: "Audit trail", Data: "who did what and when (actor id and address, IP address, request id, object changed)",
		Purpose: "prove who did what; security", LegalBasis: "Art. 6(1)(f) legitimate interest (accountability, Art. 5(2))",
		Retention: "kept N years (audit retention job), names and addresses removed on erasure", Recipients: "staff"}}
}

// Export implements Domain.
func (AuditDomain) Export(ctx context.Context, c *ent.Client, p Person) (Part, error) {
	es, err := c.AuditEvent.Query().
		Where(auditevent.Or(auditevent.ActorID(string(p.ID)), auditevent.ObjectID(string(p.ID)), auditevent.ActorEmail(p.Email))).
		Order(ent.Asc(auditevent.FieldOccurredAt), ent.Asc(auditevent.FieldID)).All(ctx)
	if err != nil {
		return Part{}, fmt.Errorf("audit events: %w", err)
	}
	return Part{Data: map[string]any{"events": es}}, nil
}

// Erase implements Domain: the person's exports that are still downloadable end (EXPIRED,
// the link no longer works; the exports job deletes the file at its next run). The
// request rows stay as the record of the answers: they hold ids and times, no name or
// address.
func (RequestsDomain) Erase(ctx context.Context, c *ent.Client, p Person) (Erased, error) {
	n, err := c.DataExport.Update().
		Where(dataexport.PersonID(p.ID), dataexport.StatusIn(dataexport.StatusQUEUED, dataexport.StatusREADY)).
		SetStatus(dataexport.StatusEXPIRED).SetFile("").ClearTokenHash().
		Save(ctx)
	if err != nil {
		return Erased{}, fmt.Errorf("end data exports: %w", err)
	}
	return Erased{Rows: n}, nil
}

// mentions is the predicate "column's text contains one of values" (JSON columns are
// cast to text, the same in SQLite and PostgreSQL). Empty values are left out.
func mentions(columns []string, values ...string) func(*sql.Selector) {
	return func(s *sql.Selector) { s.Where(mentionsP(s, columns, values...)) }
}

func mentionsP(s *sql.Selector, columns []string, values ...string) *sql.Predicate {
	var ors []*sql.Predicate
	for _, col := range columns {
		for _, v := range values {
			if v == "" {
				continue
			}
			ors = append(ors, sql.P(func(b *sql.Builder) {
				b.WriteString("CAST(").Ident(s.C(col)).WriteString(" AS TEXT) LIKE ").Arg("%" + v + "%")
			}))
		}
	}
	if len(ors) == 0 {
		return sql.False()
	}
	return sql.Or(ors...)
}

// personName is p's name: as the erasure read it before anything was erased, else the
// account's (empty once the account is anonymised, or for an unknown id).
func personName(ctx context.Context, c *ent.Client, p Person) string {
	if p.Name != "" {
		return p.Name
	}
	if u, err := c.User.Get(ctx, p.ID); err == nil {
		return u.Name
	}
	return ""
}

// namesOf are the forms a person's name and address take in stored text: as written and
// HTML-escaped (bodies of HTML mail).
func namesOf(name, email string) []string {
	out := []string{email}
	if len([]rune(strings.TrimSpace(name))) >= 3 {
		out = append(out, name)
		if esc := html.EscapeString(name); esc != name {
			out = append(out, esc)
		}
	}
	return out
}

// Erase implements Domain: the messages to the person's address are redacted
// (outbox.Redact: address, name, bodies, personal values gone; unsent ones cancelled), and
// the messages to others that name the person (a host's notice of their acceptance, say)
// lose their bodies and personal values, and the name in their subject; those not yet
// sent are cancelled. States, attempts and times stay, so counts do not change.
func (MailDomain) Erase(ctx context.Context, c *ent.Client, p Person) (Erased, error) {
	ctx = viewer.NewSystemContext(ctx)
	var out Erased
	templates, err := c.OutboxMessage.Query().Where(outboxmessage.Recipient(p.Email)).
		Unique(true).Select(outboxmessage.FieldTemplate).Strings(ctx)
	if err != nil {
		return out, fmt.Errorf("mail templates: %w", err)
	}
	n, err := outbox.Redact(ctx, c, p.Email, templates...)
	if err != nil {
		return out, err
	}
	out.Rows += n
	names := namesOf(personName(ctx, c, p), p.Email)
	about := mentions([]string{outboxmessage.FieldSubject, outboxmessage.FieldTextBody, outboxmessage.FieldHTMLBody,
		outboxmessage.FieldPersonal, outboxmessage.FieldRecipientName, outboxmessage.FieldHeaders,
		outboxmessage.FieldLastError, outboxmessage.FieldDedupeKey}, names...)
	if _, err := c.OutboxMessage.Update().
		Where(about, outboxmessage.StateIn(outboxmessage.StateQueued, outboxmessage.StatePaused)).
		SetState(outboxmessage.StateCancelled).Save(ctx); err != nil {
		return out, fmt.Errorf("cancel mail naming the person: %w", err)
	}
	n, err = c.OutboxMessage.Update().Where(about).
		Modify(func(u *sql.UpdateBuilder) {
			u.Set(outboxmessage.FieldTextBody, "").Set(outboxmessage.FieldHTMLBody, "").
				SetNull(outboxmessage.FieldHeaders).SetNull(outboxmessage.FieldPersonal)
			for _, col := range []string{outboxmessage.FieldSubject, outboxmessage.FieldRecipientName, outboxmessage.FieldLastError, outboxmessage.FieldDedupeKey} {
				var expr sql.Querier = sql.ExprFunc(func(b *sql.Builder) { b.Ident(col) })
				for _, v := range names {
					expr = replaceExpr(expr, v, "[erased]")
				}
				u.Set(col, expr)
			}
		}).Save(ctx)
	if err != nil {
		return out, fmt.Errorf("purge mail naming the person: %w", err)
	}
	out.Rows += n
	return out, nil
}

// replaceExpr is the SQL REPLACE(expr, old, new), the same in SQLite and PostgreSQL.
func replaceExpr(expr sql.Querier, old, new string) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("REPLACE(").Join(expr).Comma().Arg(old).Comma().Arg(new).WriteByte(')')
	})
}

// Erase implements Domain: the events the person caused, the events about their account
// and those whose details name them keep their ids, actions, objects and times, and lose
// the actor's address, the IP address and the details (audit.Erase); the chain still
// verifies.
func (AuditDomain) Erase(ctx context.Context, c *ent.Client, p Person) (Erased, error) {
	ctx = viewer.NewSystemContext(ctx)
	name := personName(ctx, c, p)
	n, err := audit.Erase(ctx, c, func(s *sql.Selector) {
		s.Where(sql.Or(
			sql.EQ(s.C(auditevent.FieldActorID), string(p.ID)),
			sql.EQ(s.C(auditevent.FieldObjectID), string(p.ID)),
			sql.EQ(s.C(auditevent.FieldActorEmail), p.Email),
			mentionsP(s, []string{auditevent.FieldDetails}, namesOf(name, p.Email)...),
		))
	})
	if err != nil {
		return Erased{}, err
	}
	return Erased{Rows: n}, nil
}
