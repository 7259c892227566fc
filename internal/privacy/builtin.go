package privacy

import (
	"context"
	"fmt"
	"time"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/auditevent"
	"github.com/gocart-coalition/coalition/ent/dataexport"
	"github.com/gocart-coalition/coalition/ent/outboxmessage"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
)

// The platform's own tables take part through the domains of this file: the requests
// themselves, the mail sent, and the audit trail.

// RequestsDomain is the person's data-protection requests (data exports).
type RequestsDomain struct{}

// Name implements Domain.
func (RequestsDomain) Name() string { return "requests" }

// Entities implements Domain.
func (RequestsDomain) Entities() []string { return []string{"DataExport"} }

// Categories implements Domain.
func (RequestsDomain) Categories() []Category {
	return []Category{{Name: "Data-protection requests", Data: "exports asked for, by whom, when built, downloaded or expired",
		Purpose: "answer and document data-subject requests", LegalBasis: "Art. 6(1)(c) legal obligation (GDPR Art. 12–22)",
		Retention: "the request row is kept as the record of the answer; the file is deleted after the download or after 7 days", Recipients: "staff"}}
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

// Erase implements Domain.
func (RequestsDomain) Erase(context.Context, *ent.Client, Person) (Erased, error) {
	return Erased{}, ErrEraseUnwritten
}

// Erase implements Domain.
func (MailDomain) Erase(context.Context, *ent.Client, Person) (Erased, error) {
	return Erased{}, ErrEraseUnwritten
}

// Erase implements Domain.
func (AuditDomain) Erase(context.Context, *ent.Client, Person) (Erased, error) {
	return Erased{}, ErrEraseUnwritten
}
