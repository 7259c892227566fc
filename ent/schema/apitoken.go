package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// ApiToken is a named, scoped, revocable bearer token that acts for a user (integrations,
// scripts). Minted by staff; the secret is shown once and stored hashed.
type ApiToken struct{ ent.Schema }

// Mixin of ApiToken.
func (ApiToken) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("tok"), TimeMixin{}}
}

// Fields of ApiToken.
func (ApiToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The user the token acts for."),
		field.String("name").NotEmpty().MaxLen(100).Comment("What the token is for, e.g. \"CRM sync\"."),
		field.String("token_hash").Unique().Immutable().Sensitive().NotEmpty().
			Comment("SHA-256 of the secret (hex); the secret itself is never stored."),
		field.String("hint").Immutable().MaxLen(16).
			Comment("The first characters of the secret, to recognise a token in lists."),
		field.JSON("scopes", []viewer.Scope{}).
			Comment("What the token may do: READ (queries), WRITE (mutations).").
			Annotations(entgql.Type("[Scope!]")),
		field.Time("expires_at").Optional().Nillable().Comment("After this the token no longer works (UTC); none = until revoked."),
		field.Time("last_used_at").Optional().Nillable().Comment("Last authenticated request (UTC, coarse)."),
		field.Time("revoked_at").Optional().Nillable().Comment("When staff revoked the token (UTC)."),
		field.String("created_by_id").GoType(pulid.ID("")).Optional().Immutable().
			Comment("Staff member who minted the token.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of ApiToken.
func (ApiToken) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("api_tokens").Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of ApiToken.
func (ApiToken) Indexes() []ent.Index {
	return []ent.Index{index.Edges("user")}
}

// Annotations of ApiToken.
func (ApiToken) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ApiToken: staff see and manage all; a user sees the tokens that act for them.
func (ApiToken) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnedByViewer),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageUsers)),
	)
}
