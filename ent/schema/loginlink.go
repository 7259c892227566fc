package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// LoginLink is a single-use sign-in link sent by email. Rows exist for addresses with and
// without an account (an account is created on first redemption), so they double as the
// record the per-address and per-IP rate limits count.
type LoginLink struct{ ent.Schema }

// Mixin of LoginLink.
func (LoginLink) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("lnk"), TimeMixin{}}
}

// Fields of LoginLink.
func (LoginLink) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").Annotations(personal.Data()).NotEmpty().MaxLen(254).Immutable().Comment("Normalised address the link was sent to."),
		field.String("token_hash").Unique().Immutable().Sensitive().NotEmpty().
			Comment("SHA-256 of the link secret (hex)."),
		field.Time("requested_at").Immutable().Comment("When the link was requested (UTC, from the service clock)."),
		field.Time("expires_at").Immutable().Comment("After this the link no longer works (UTC)."),
		field.Time("used_at").Optional().Nillable().Comment("When the link was redeemed (UTC); a link works once."),
		field.String("requested_ip").Annotations(personal.Data()).MaxLen(64).Default("").Immutable().Comment("Address that asked for the link."),
		field.String("intent").MaxLen(200).Default("").Immutable().
			Comment("What redeeming the link also does as the signed-in user, e.g. membership.accept:mbr_…; empty for a plain sign-in."),
		field.Bool("sent").Default(true).Immutable().
			Comment("False when no email was sent (disabled account): the row still counts for rate limits."),
	}
}

// Indexes of LoginLink.
func (LoginLink) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email", "requested_at"),
		// Only the links people request carry an address (the per-network limit counts
		// them); the many a match publication issues for its offers' buttons do not.
		index.Fields("requested_ip", "requested_at").Annotations(entsql.IndexWhere("intent = ''")),
		index.Fields("expires_at"),
	}
}

// Annotations of LoginLink.
func (LoginLink) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of LoginLink: the auth service only, as the system.
func (LoginLink) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.AllowSystem),
	)
}
