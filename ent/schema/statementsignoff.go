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

// StatementSignoff is one decision of a designated signatory on one revision of a policy
// statement, pinned to the revision's hash: APPROVE or REQUEST_CHANGES for a co-author,
// ENDORSE for an endorser. An edit voids every sign-off given on earlier revisions.
type StatementSignoff struct{ ent.Schema }

// Mixin of StatementSignoff.
func (StatementSignoff) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("sso"), TimeMixin{}}
}

// Fields of StatementSignoff.
func (StatementSignoff) Fields() []ent.Field {
	return []ent.Field{
		field.String("statement_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("revision_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("revision_hash").NotEmpty().MaxLen(64).Immutable().Comment("The hash of the text signed."),
		field.String("organisation_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Enum("decision").Values("APPROVE", "REQUEST_CHANGES", "ENDORSE").Immutable(),
		field.String("comment").MaxLen(8000).Default("").Immutable(),
		field.Time("signed_at").Immutable().Comment("When it was given (UTC)."),
		field.Time("voided_at").Optional().Nillable().Comment("When an edit voided it (UTC)."),
	}
}

// Edges of StatementSignoff.
func (StatementSignoff) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("statement", PolicyStatement.Type).Ref("signoffs").Field("statement_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("revision", StatementRevision.Type).Field("revision_id").Unique().Required().Immutable(),
		edge.To("organisation", Organisation.Type).Field("organisation_id").Unique().Required().Immutable(),
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable(),
	}
}

// Indexes of StatementSignoff.
func (StatementSignoff) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("statement_id", "revision_id"),
		index.Fields("revision_id"),
	}
}

// Annotations of StatementSignoff.
func (StatementSignoff) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of StatementSignoff: staff and the system; the participants of the statement read
// (access.FilterStatementParticipantRows); a signatory gives their own
// (access.AllowOwnSignoff); an author's edit voids them
// (access.AllowStatementParticipantUpdate).
func (StatementSignoff) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterStatementParticipantRows),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowOwnSignoff, access.AllowStatementParticipantUpdate),
	)
}
