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

// PolicyStatement is a joint position statement of the coalition: drafted in immutable
// revisions by its authors, signed off revision by revision by the designated signatories
// of its co-authoring organisations, confirmed by its endorsing organisations, published
// (at once or at an embargo instant), corrected and withdrawn. Its slug is its public
// address and is never given to another statement (statements are never deleted).
type PolicyStatement struct{ ent.Schema }

// Mixin of PolicyStatement.
func (PolicyStatement) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("pst"), TimeMixin{}}
}

// Fields of PolicyStatement.
func (PolicyStatement) Fields() []ent.Field {
	return []ent.Field{
		field.String("slug").NotEmpty().MaxLen(120).Unique().Immutable().
			Comment("Its public address: /statements/{slug}. Never reused."),
		field.String("title").NotEmpty().MaxLen(800).
			Comment("The title of its current revision.").Annotations(entgql.OrderField("TITLE")),
		field.Text("summary").MaxLen(4000).Default("").Comment("The summary of its current revision."),
		field.JSON("topics", []string{}).Comment("Topics, e.g. \"soho-regulation\" (lower case, a-z, 0-9, -)."),
		field.Enum("status").
			Values("DRAFT", "IN_REVIEW", "APPROVED", "SCHEDULED", "PUBLISHED", "CORRECTED", "WITHDRAWN").
			Default("DRAFT").Comment("See internal/statements/states.go."),
		field.String("working_group_id").GoType(pulid.ID("")).Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).Comment("The authoring working group, if any."),
		field.Bool("announce_to_group").Default(false).
			Comment("Whether the announcement also goes to the authoring working group's members."),
		field.String("current_revision_id").GoType(pulid.ID("")).Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).Comment("The latest revision."),
		field.String("published_revision_id").GoType(pulid.ID("")).Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipAll)).Comment("The revision the public reads."),
		field.Int("revisions_count").NonNegative().Default(0).Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("How many revisions it has (the next revision's number minus one)."),
		field.Int("published_versions").NonNegative().Default(0).
			Comment("How many revisions were published (the current public version)."),
		field.Time("signoff_deadline").Optional().Nillable().Comment("Sign-offs are due before this instant (UTC)."),
		field.Time("review_by").Optional().Nillable().Comment("When staff should review it again (UTC)."),
		field.Time("review_reminded_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("When staff were reminded that its review was due (once per review-by date)."),
		field.Time("scheduled_at").Optional().Nillable().Comment("The embargo: when it is to be published (UTC).").
			Annotations(entgql.OrderField("SCHEDULED_AT")),
		field.Time("late_since").Optional().Nillable().
			Comment("Set when the job could not publish it in time: staff decide."),
		field.Time("first_published_at").Optional().Nillable().Comment("When it was first published (UTC)."),
		field.Time("published_at").Optional().Nillable().Comment("When its current public revision was published (UTC).").
			Annotations(entgql.OrderField("PUBLISHED_AT")),
		field.Time("withdrawn_at").Optional().Nillable().Comment("When it was withdrawn (UTC)."),
		field.String("withdrawal_reason").MaxLen(8000).Default("").Comment("Why it was withdrawn."),
		field.String("created_by_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The staff member who opened it."),
	}
}

// Edges of PolicyStatement.
func (PolicyStatement) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("authors", User.Type).Comment("Who writes it.").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("coauthors", Organisation.Type).Comment("Organisations that sign it off.").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("endorsers", Organisation.Type).Comment("Organisations that endorse it.").Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("working_group", WorkingGroup.Type).Field("working_group_id").Unique().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("revisions", StatementRevision.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("signatories", StatementSignatory.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("signoffs", StatementSignoff.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("creator", User.Type).Field("created_by_id").Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of PolicyStatement.
func (PolicyStatement) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "scheduled_at"),
		index.Fields("status", "published_at"),
		index.Fields("review_by"),
	}
}

// Annotations of PolicyStatement.
func (PolicyStatement) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of PolicyStatement: staff and the system read and write every statement;
// everyone else reads the published ones (PUBLISHED, CORRECTED, WITHDRAWN) and the ones
// they take part in (author, designated signatory): access.FilterVisibleStatements. The
// participants' writes are narrowed to their statements (access.AllowStatementParticipantUpdate);
// the service asks the access predicates first.
func (PolicyStatement) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleStatements),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowStatementParticipantUpdate),
	)
}
