package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// MailBody is a rendered email body stored once and shared by many outbox rows (a
// newsletter campaign's deliveries): each row carries only what is personal (address,
// name, values such as the unsubscribe URL), substituted into {{placeholders}} when the
// worker builds the message for SMTP (ARCHITECTURE §6.12). It is frozen once written.
type MailBody struct{ ent.Schema }

// Mixin of MailBody.
func (MailBody) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mbd"), TimeMixin{}}
}

// Fields of MailBody.
func (MailBody) Fields() []ent.Field {
	return []ent.Field{
		field.String("template").NotEmpty().MaxLen(100).Immutable().Comment("What it was rendered from, e.g. newsletter."),
		field.String("subject").MaxLen(998).Immutable().Comment("Rendered subject, may hold {{placeholders}}."),
		field.String("preheader").MaxLen(500).Default("").Immutable().Comment("Preview text shown after the subject by mail clients (already part of the HTML)."),
		field.Text("text_body").Immutable().Comment("Rendered plain-text part, may hold {{placeholders}}."),
		field.Text("html_body").Immutable().Comment("Rendered HTML part, may hold {{placeholders}} (values are HTML-escaped)."),
		field.JSON("headers", map[string]string{}).Optional().Immutable().
			Comment("Extra headers of every message, e.g. List-Id."),
	}
}

// Edges of MailBody.
func (MailBody) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("messages", OutboxMessage.Type),
	}
}

// Annotations of MailBody.
func (MailBody) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of MailBody: the system (outbox, worker) only.
func (MailBody) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.AllowSystem),
	)
}
