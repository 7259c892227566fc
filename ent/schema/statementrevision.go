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

// StatementRevision is one immutable snapshot of a policy statement's text: title,
// summary and Markdown body with the SHA-256 of their canonical form. Every edit makes a
// new one. Publication marks it (its public version number, the note of a correction,
// and the declarations and signers it was published with, copied then).
type StatementRevision struct{ ent.Schema }

// Mixin of StatementRevision.
func (StatementRevision) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("srv"), TimeMixin{}}
}

// Fields of StatementRevision.
func (StatementRevision) Fields() []ent.Field {
	return []ent.Field{
		field.String("statement_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("number").Positive().Immutable().Comment("1 for the first draft, then one more per edit."),
		field.String("title").NotEmpty().MaxLen(800).Immutable(),
		field.Text("summary").MaxLen(4000).Default("").Immutable(),
		field.Text("body").MaxLen(80000).Immutable().Comment("Markdown."),
		field.String("hash").NotEmpty().MaxLen(64).Immutable().
			Comment("SHA-256 (hex) of the canonical form of title, summary and body: what signatories sign."),
		field.String("created_by_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("edited_at").Immutable().Comment("When it was written (UTC)."),
		field.Int("version").Optional().Nillable().Comment("Its public version number, once published."),
		field.Time("published_at").Optional().Nillable().Comment("When it was published (UTC)."),
		field.String("correction_note").MaxLen(8000).Default("").Comment("What a correction changed."),
		field.Bool("material").Default(false).Comment("Whether the correction changes the substance."),
		field.JSON("declarations", []vocab.FrozenDeclaration{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The authors' declarations it was published with."),
		field.JSON("signers", []vocab.FrozenSigner{}).Optional().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The co-authors and endorsers it was published with."),
	}
}

// Edges of StatementRevision.
func (StatementRevision) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("statement", PolicyStatement.Type).Ref("revisions").Field("statement_id").
			Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("editor", User.Type).Field("created_by_id").Unique().Required().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of StatementRevision.
func (StatementRevision) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("statement_id", "number").Unique(),
		index.Fields("statement_id", "version"),
	}
}

// Annotations of StatementRevision.
func (StatementRevision) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of StatementRevision: staff and the system; the participants of its statement;
// everyone reads its published revisions (access.FilterVisibleRevisions). A revision is
// created by an author (the service asks access.CanEditStatement first) and changed only
// by publication (staff, the system).
func (StatementRevision) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleRevisions),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowParticipantCreate),
	)
}
