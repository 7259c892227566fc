package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/mailtype"
	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// OutboxMessage is one email to one recipient, written in the same transaction as the
// change that caused it and sent later by the outbox worker (ARCHITECTURE §6.12).
type OutboxMessage struct{ ent.Schema }

// Mixin of OutboxMessage.
func (OutboxMessage) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("msg"), TimeMixin{}}
}

// Fields of OutboxMessage.
func (OutboxMessage) Fields() []ent.Field {
	return []ent.Field{
		field.String("dedupe_key").NotEmpty().MaxLen(255).Optional().Nillable().Unique().Immutable().
			Comment("Unique per logical email, so a repeated event never queues it twice; null on the rows of a bulk send, unique per (body_id, recipient) instead."),
		field.String("template").NotEmpty().MaxLen(100).Immutable().Comment("Template it was rendered from, e.g. login_link."),
		field.String("recipient").Annotations(personal.Data()).NotEmpty().MaxLen(254).Immutable().Comment("To address."),
		field.String("recipient_name").Annotations(personal.Data()).MaxLen(200).Default("").Immutable().Comment("To display name."),
		field.String("subject").MaxLen(998).Immutable().Comment("Rendered subject (RFC 5322 line limit)."),
		field.Text("text_body").Annotations(personal.Data()).Comment("Rendered plain-text part (emptied by retention once sent: internal/retention)."),
		field.Text("html_body").Annotations(personal.Data()).Comment("Rendered HTML part (emptied by retention once sent)."),
		field.JSON("headers", map[string]string{}).Optional().
			Comment("Extra headers, e.g. List-Unsubscribe."),
		field.JSON("attachments", []mailtype.Attachment{}).Optional().
			Comment("Attached files, e.g. calendar invitations."),
		field.Enum("state").
			Values("queued", "sending", "sent", "failed", "suppressed", "cancelled", "paused").
			Default("queued").
			Comment("queued → sending → sent | failed | suppressed | cancelled; queued ⇄ paused (a paused batch)."),
		field.Enum("lane").Values("transactional", "bulk").Default("transactional").Immutable().
			Comment("transactional mail is always claimed before bulk mail (newsletters)."),
		field.String("body_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The shared body (subject, text, HTML, headers) of a bulk send, e.g. a campaign: its rows are paused, resumed, cancelled and counted together."),
		field.JSON("personal", map[string]string{}).Annotations(personal.Data()).Optional().
			Comment("Per-recipient values substituted into the shared body's {{placeholders}}, e.g. unsubscribe_url."),
		field.Int("attempts").Default(0).NonNegative().Comment("Delivery attempts so far."),
		field.Time("next_attempt_at").Comment("Earliest time the worker may (re)try (UTC)."),
		field.Time("lease_until").Optional().Nillable().
			Comment("While sending: if still sending after this, the worker died and the row is due again."),
		field.String("lease_owner").Optional().MaxLen(100).Comment("Worker holding the lease."),
		field.String("last_error").Optional().MaxLen(2000).Comment("Last transport error (for operators)."),
		field.Time("sent_at").Optional().Nillable().Comment("When the server accepted the message (UTC)."),
	}
}

// Edges of OutboxMessage.
func (OutboxMessage) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("body", MailBody.Type).Ref("messages").Field("body_id").Unique().Immutable(),
	}
}

// Indexes of OutboxMessage.
func (OutboxMessage) Indexes() []ent.Index {
	return []ent.Index{
		// Partial indexes: a row is in the claim index only while queued and in the lease
		// index only while sending, so recording a result touches one small index and a
		// sent row (most rows, by far) costs no index space for either (ARCHITECTURE §6.12).
		// Claims walk one lane's queued rows in next_attempt_at order.
		index.Fields("lane", "next_attempt_at").StorageKey("outboxmessage_queued_lane_next_attempt_at").
			Annotations(entsql.IndexWhere("state = 'queued'")),
		index.Fields("lease_until", "lease_owner").StorageKey("outboxmessage_sending_lease").
			Annotations(entsql.IndexWhere("state = 'sending'")),
		// A bulk send's rows: one per address (the unique (campaign, address) of a
		// campaign, whose send has one body), and pause, resume, cancel, counts (whose
		// queries name the bulk lane, so they use this partial index). Not by state, so
		// that a result does not move the row in it. Transactional rows are unique by
		// dedupe_key instead, which bulk rows leave null: one unique key per row, not two.
		// Transactional rows may share a body too (notify's shared match emails), and one
		// address may get two of them, so the index covers the bulk lane only.
		index.Fields("body_id", "recipient").Unique().StorageKey("outboxmessage_bulk_body_recipient").
			Annotations(entsql.IndexWhere("lane = 'bulk'")),
		// A person's rows: erasure's redaction and the "my data" export.
		index.Fields("recipient"),
	}
}

// Annotations of OutboxMessage.
func (OutboxMessage) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of OutboxMessage: the system (notify, worker, CLI) only.
func (OutboxMessage) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.AllowSystem),
	)
}
