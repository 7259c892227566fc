package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
)

// ConsentText is one published version of the consent text of a purpose, written by staff
// (internal/consent). Versions are numbered 1, 2, … per purpose and never change once
// published. Publishing a version that requires re-consent lapses every earlier version of
// the purpose (lapsed_at): consents given on a lapsed version no longer count, and the
// person is asked again.
type ConsentText struct{ ent.Schema }

// Mixin of ConsentText.
func (ConsentText) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("cnt")}
}

// Fields of ConsentText.
func (ConsentText) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("purpose").GoType(vocab.ConsentPurpose("")).Immutable().
			Comment("What the consent is for.").Annotations(entgql.Type("ConsentPurpose")),
		field.Int("version").Positive().Immutable().Comment("Version number within the purpose: 1, 2, …"),
		field.Text("body").NotEmpty().MaxLen(5000).Immutable().Comment("The exact text a person agrees to."),
		field.Bool("requires_reconsent").Default(false).Immutable().
			Comment("Whether this version asks again: consents given on earlier versions stopped counting when it was published."),
		field.Time("published_at").Immutable().Comment("When staff published it (UTC)."),
		field.String("published_by_id").GoType(pulid.ID("")).Immutable().
			Comment("The staff member who published it.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("lapsed_at").Optional().Nillable().
			Comment("When a later version requiring re-consent was published: consents on this version no longer count (null while they do)."),
	}
}

// Edges of ConsentText.
func (ConsentText) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("consents", ConsentEvidence.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of ConsentText.
func (ConsentText) Indexes() []ent.Index {
	return []ent.Index{index.Fields("purpose", "version").Unique()}
}

// Annotations of ConsentText.
func (ConsentText) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ConsentText: public reads (anyone may read what they would agree to); staff
// publish (access.CanManageConsentTexts), and only lapsed_at ever changes afterwards.
func (ConsentText) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowAll),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageConsentTexts)),
	)
}
