package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"github.com/gocart-coalition/coalition/ent/schema/personal"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// ConsentEvidence is one append-only record of a subscription's consent: the signup (the
// exact consent text shown and its version, time, client address, source), the
// confirmation (time and client address), or staff's attestation of consent given elsewhere.
type ConsentEvidence struct{ ent.Schema }

// Mixin of ConsentEvidence.
func (ConsentEvidence) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("cev")}
}

// Fields of ConsentEvidence.
func (ConsentEvidence) Fields() []ent.Field {
	return []ent.Field{
		field.String("subscription_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("event").Values("SIGNUP", "CONFIRMATION", "ATTESTATION").Immutable().
			Comment("SIGNUP: consent given; CONFIRMATION: the address confirmed it; ATTESTATION: staff attest consent given elsewhere."),
		field.Enum("source").Values("FORM", "API", "IMPORT", "STAFF").Immutable().
			Comment("Where the consent came from."),
		field.Text("consent_text").MaxLen(5000).Default("").Immutable().Comment("The exact consent text shown."),
		field.String("consent_version").MaxLen(64).Default("").Immutable().Comment("Its version (a hash of the text)."),
		field.Time("at").Immutable().Comment("When (UTC)."),
		field.String("ip").Annotations(personal.Data()).MaxLen(64).Default("").Immutable().Comment("The client address (empty for staff and imports)."),
		field.String("actor_id").MaxLen(64).Default("").Immutable().Comment("The signed-in user who acted, if any (staff for imports)."),
		field.String("note").Annotations(personal.Data()).MaxLen(1000).Default("").Immutable().Comment("Staff's reason for an attestation."),
	}
}

// Edges of ConsentEvidence.
func (ConsentEvidence) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("subscription", NewsletterSubscription.Type).Ref("consent").Field("subscription_id").Unique().Required().Immutable(),
	}
}

// Annotations of ConsentEvidence.
func (ConsentEvidence) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ConsentEvidence: append-only (only erasing a person deletes rows); staff read
// all, a signed-in person their own subscriptions' evidence.
func (ConsentEvidence) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnConsent),
		access.Mutation(access.DenyUpdate, access.AllowSystem, access.AllowStaff, access.AllowOwnConsentCreate),
	)
}
