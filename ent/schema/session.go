package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// Session is a signed-in browser or client: an opaque bearer token, stored hashed.
type Session struct{ ent.Schema }

// Mixin of Session.
func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ses"), TimeMixin{}}
}

// Fields of Session.
func (Session) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("Who signed in."),
		field.String("token_hash").Unique().Immutable().Sensitive().NotEmpty().
			Comment("SHA-256 of the bearer token (hex); the token itself is never stored."),
		field.Time("expires_at").Comment("After this the token no longer works (UTC)."),
		field.Time("last_used_at").Optional().Nillable().Comment("Last authenticated request (UTC, coarse)."),
		field.Time("revoked_at").Optional().Nillable().Comment("Set by sign-out or by staff (UTC)."),
		field.String("ip").Annotations(personal.Data()).MaxLen(64).Default("").Comment("Address that redeemed the sign-in link."),
		field.String("user_agent").Annotations(personal.Data()).MaxLen(512).Default("").Comment("Client that redeemed the sign-in link."),
	}
}

// Edges of Session.
func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of Session.
func (Session) Indexes() []ent.Index {
	return []ent.Index{index.Edges("user"), index.Fields("expires_at")}
}

// Annotations of Session.
func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of Session: only the system (auth service) reads or writes sessions.
func (Session) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.AllowSystem),
	)
}
