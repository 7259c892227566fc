package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/gocart-coalition/coalition/ent/schema/pulid"
	"github.com/gocart-coalition/coalition/internal/access"
)

// Job is the state of one periodic job: its lease (so two processes never run it at once)
// and its last run.
type Job struct{ ent.Schema }

// Mixin of Job.
func (Job) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("job"), TimeMixin{}}
}

// Fields of Job.
func (Job) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100).Unique().Immutable().Comment("Job name, e.g. outbox.dispatch."),
		field.String("lease_owner").Optional().MaxLen(100).Comment("Process running it now."),
		field.Time("lease_until").Optional().Nillable().Comment("The lease ends here; a crashed runner's lease simply runs out."),
		field.Time("last_started_at").Optional().Nillable().Comment("Start of the last run (UTC)."),
		field.Time("last_finished_at").Optional().Nillable().Comment("End of the last run (UTC)."),
		field.Enum("last_outcome").Values("ok", "error").Optional().Nillable().Comment("How the last run ended."),
		field.String("last_error").Optional().MaxLen(2000).Comment("Error of the last failed run."),
		field.Int64("last_duration_ms").Default(0).Comment("Duration of the last run in milliseconds."),
		field.Int64("runs").Default(0).Comment("Completed runs."),
		field.Int64("failures").Default(0).Comment("Runs that ended in an error."),
	}
}

// Annotations of Job.
func (Job) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of Job: the system (runner, CLI) only.
func (Job) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem),
		access.Mutation(access.AllowSystem),
	)
}
