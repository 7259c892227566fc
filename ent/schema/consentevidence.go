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
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
)

// ConsentEvidence is the one record of consent for every purpose (internal/consent): for a
// newsletter subscription (purpose NEWSLETTER) the signup (the exact consent text shown and
// its version, time, client address, source), the confirmation (time and client address),
// or staff's attestation of consent given elsewhere; for a person's own purposes
// (DIRECTORY_PROFILE, HOST_CONTACT) the consent they gave (GIVEN) or staff recorded with a
// reason (ATTESTATION). Rows are append-only except withdrawn_at, set once when the consent
// is withdrawn (unsubscribing withdraws a subscription's consent).
type ConsentEvidence struct{ ent.Schema }

// Mixin of ConsentEvidence.
func (ConsentEvidence) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("cev")}
}

// Fields of ConsentEvidence.
func (ConsentEvidence) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("purpose").GoType(vocab.ConsentPurpose("")).Default(string(vocab.ConsentNewsletter)).Immutable().
			Comment("What the consent is for.").Annotations(entgql.Type("ConsentPurpose")),
		field.String("subscription_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The newsletter subscription (purpose NEWSLETTER only)."),
		field.String("user_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The person (every purpose but NEWSLETTER, whose subscriber may have no account)."),
		field.String("consent_text_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("The staff-published text version agreed to (null for newsletter consent given on the configured text)."),
		field.Enum("event").Values("SIGNUP", "CONFIRMATION", "ATTESTATION", "GIVEN").Immutable().
			Comment("SIGNUP: newsletter consent given; CONFIRMATION: the address confirmed it; ATTESTATION: staff record consent given elsewhere (with a reason); GIVEN: the person gave it themself."),
		field.Enum("source").Values("FORM", "API", "IMPORT", "STAFF").Immutable().
			Comment("Where the consent came from."),
		field.Text("consent_text").MaxLen(5000).Default("").Immutable().Comment("The exact consent text shown."),
		field.String("consent_version").MaxLen(64).Default("").Immutable().Comment("Its version (a hash of the text)."),
		field.Time("at").Immutable().Comment("When (UTC)."),
		field.String("ip").Annotations(personal.Data()).MaxLen(64).Default("").Immutable().Comment("The client address (empty for staff and imports)."),
		field.String("actor_id").MaxLen(64).Default("").Immutable().Comment("The signed-in user who acted, if any (staff for imports)."),
		field.String("note").Annotations(personal.Data()).MaxLen(1000).Default("").Immutable().Comment("Staff's reason for an attestation."),
		field.Time("withdrawn_at").Optional().Nillable().Comment("When the consent was withdrawn (null while it stands)."),
	}
}

// Edges of ConsentEvidence.
func (ConsentEvidence) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("subscription", NewsletterSubscription.Type).Ref("consent").Field("subscription_id").Unique().Immutable(),
		edge.From("user", User.Type).Ref("consents").Field("user_id").Unique().Immutable().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.From("text", ConsentText.Type).Ref("consents").Field("consent_text_id").Unique().Immutable().
			Comment("The text version agreed to."),
	}
}

// Indexes of ConsentEvidence.
func (ConsentEvidence) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("subscription"),
		index.Fields("user_id", "purpose"),
		index.Edges("text"),
	}
}

// Annotations of ConsentEvidence.
func (ConsentEvidence) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ConsentEvidence: append-only but for withdrawn_at (only erasing a person
// deletes rows); staff read all, a signed-in person their own (their subscriptions' and
// their own purposes'); a person records and withdraws their own consent.
func (ConsentEvidence) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnConsent),
		access.Mutation(access.DenyUpdateButWithdrawal, access.AllowSystem, access.AllowStaff, access.AllowOwnConsentCreate, access.AllowOwnConsentWithdrawal),
	)
}
