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
)

// StatementSignatory designates a person (affiliated with the organisation) to sign off
// (co-author) or endorse (endorser) a policy statement for an organisation.
type StatementSignatory struct{ ent.Schema }

// Mixin of StatementSignatory.
func (StatementSignatory) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ssg"), TimeMixin{}}
}

// Fields of StatementSignatory.
func (StatementSignatory) Fields() []ent.Field {
	return []ent.Field{
		field.String("statement_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("organisation_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("role").Values("CO_AUTHOR", "ENDORSER").Immutable().
			Comment("CO_AUTHOR signs off revisions; ENDORSER confirms the final one."),
	}
}

// Edges of StatementSignatory.
func (StatementSignatory) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("statement", PolicyStatement.Type).Ref("signatories").Field("statement_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("organisation", Organisation.Type).Field("organisation_id").Unique().Required().Immutable(),
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of StatementSignatory.
func (StatementSignatory) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("statement_id", "organisation_id", "user_id").Unique(),
		index.Fields("user_id"),
	}
}

// Annotations of StatementSignatory.
func (StatementSignatory) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of StatementSignatory: staff and the system write; the participants of the
// statement read (access.FilterStatementParticipantRows).
func (StatementSignatory) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterStatementParticipantRows),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}
