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

// Affiliation says that a person belongs to an organisation, with a position there.
type Affiliation struct{ ent.Schema }

// Mixin of Affiliation.
func (Affiliation) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("aff"), TimeMixin{}}
}

// Fields of Affiliation.
func (Affiliation) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The person."),
		field.String("organisation_id").GoType(pulid.ID("")).Immutable().Comment("The organisation."),
		field.String("position").Annotations(personal.Data()).MaxLen(200).Default("").
			Comment("Position or title there, e.g. \"Consultant haematologist\"."),
	}
}

// Edges of Affiliation.
func (Affiliation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("affiliations").Field("user_id").Unique().Required().Immutable(),
		edge.From("organisation", Organisation.Type).Ref("affiliations").Field("organisation_id").Unique().Required().Immutable(),
	}
}

// Indexes of Affiliation.
func (Affiliation) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("user_id", "organisation_id").Unique(),
		index.Edges("organisation"),
	}
}

// Annotations of Affiliation.
func (Affiliation) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Affiliation: staff, the person themself, and other signed-in users when the
// person consents to a directory profile (DIRECTORY_PROFILE), while the organisation is
// active (an inactive organisation is hidden from everyone but staff).
func (Affiliation) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.NarrowToActiveOrganisation, access.FilterVisibleAffiliations),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageDirectory)),
	)
}
