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

// ConflictOfInterestDeclaration is what a person declared on a day: nothing to declare,
// or a list of interests. Declarations are never edited: a new one supersedes the last,
// and the old ones stay, so a policy statement can cite the declaration that was current
// when it was adopted. A declaration is due for renewal a year after it was made.
type ConflictOfInterestDeclaration struct{ ent.Schema }

// Mixin of ConflictOfInterestDeclaration.
func (ConflictOfInterestDeclaration) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("coi"), TimeMixin{}}
}

// Fields of ConflictOfInterestDeclaration.
func (ConflictOfInterestDeclaration) Fields() []ent.Field {
	return []ent.Field{
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("Who declared."),
		field.String("declared_on").GoType(vocab.Date("")).Validate(vocab.ValidateDate).Immutable().
			Comment("The day of the declaration (in the coalition's zone).").
			Annotations(entgql.Type("Date"), entgql.OrderField("DECLARED_ON")),
		field.Bool("nothing_to_declare").Immutable().
			Comment("True when the person declared no interests."),
		field.JSON("interests", []vocab.Interest{}).Immutable().
			Comment("The interests declared; empty when nothing_to_declare.").
			Annotations(entgql.Type("[DeclaredInterest!]")),
	}
}

// Edges of ConflictOfInterestDeclaration.
func (ConflictOfInterestDeclaration) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("conflict_of_interest_declarations").
			Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of ConflictOfInterestDeclaration.
func (ConflictOfInterestDeclaration) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "declared_on")}
}

// Annotations of ConflictOfInterestDeclaration.
func (ConflictOfInterestDeclaration) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of ConflictOfInterestDeclaration: the person, staff, and the person's current
// co-members in any working group read it (access.FilterVisibleDeclarations); a person
// files their own declarations (access.AllowOwnDeclaration); nobody edits one.
func (ConflictOfInterestDeclaration) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleDeclarations),
		access.Mutation(access.AllowSystem, access.AllowOwnDeclaration),
	)
}
