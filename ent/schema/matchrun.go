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
	"github.com/gocart-coalition/coalition/internal/matching"
)

// MatchRun is one computation of a call's match: the input frozen from the database (its
// hash here, the input itself in its MatchRunInput), the algorithm and its version, and
// the verified result. A dry run only
// records; a real run can be published, which creates the placements.
type MatchRun struct{ ent.Schema }

// Mixin of MatchRun.
func (MatchRun) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mrn"), TimeMixin{}}
}

// Fields of MatchRun.
func (MatchRun) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable(),
		field.Bool("dry_run").Immutable().Comment("A dry run changes nothing and cannot be published."),
		field.String("algorithm").Immutable().Comment("E.g. trainee-proposing deferred acceptance."),
		field.String("version").Immutable().Comment("Version of the engine and of the way the input is built."),
		field.Int64("seed").Immutable().Comment("Tie-breaking seed; 0 as preference lists have no ties."),
		field.String("input_hash").Immutable().Comment("SHA-256 of the frozen input (instance and overrides)."),
		field.JSON("pins", map[string]string{}).Immutable().Comment("Pinned application → slot, outside the engine.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.JSON("overrides", []vocab.Override{}).Optional().Immutable().
			Comment("The pins and exclusions this run respected, with their reasons.").
			Annotations(entgql.Type("[RunOverride!]")),
		field.JSON("assignments", map[string][]string{}).Immutable().Comment("Slot → applications, pins included.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.JSON("unmatched", []string{}).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("trainees").Immutable().Comment("Eligible applications in the run."),
		field.Int("slots").Immutable().Comment("Approved slots in the run."),
		field.Int("places").Immutable().Comment("Total capacity of those slots."),
		field.Int("matched").Immutable().Comment("Applications assigned a slot."),
		field.Int("blocking_pairs").Immutable().Comment("Verified: always 0 for a stored run."),
		field.Time("published_at").Optional().Nillable().Comment("When it was published (UTC)."),
		field.String("created_by_id").GoType(pulid.ID("")).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("placement_start").GoType(vocab.Date("")).Optional().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of MatchRun.
func (MatchRun) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("match_runs").Field("call_id").Unique().Required().Immutable(),
		edge.To("input", MatchRunInput.Type).Unique().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of MatchRun.
func (MatchRun) Indexes() []ent.Index {
	return []ent.Index{index.Fields("call_id", "created_at")}
}

// Annotations of MatchRun.
func (MatchRun) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of MatchRun: those who run the match (access.CanRunMatch: staff). Trainees read
// their outcome, hosts their placements, through their own fields.
func (MatchRun) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowMatchRunners),
		access.Mutation(access.AllowSystem, access.AllowMatchRunners),
	)
}

// MatchRunInput is a match run's frozen input: every eligible application's list of slots,
// the slots and their capacities, the centres' rankings. It has a row of its own because
// it is large (about 0.8 MB for 1,000 applicants × 200 slots), written once and read only
// to explain outcomes, while SQLite rewrites a whole row on any update: publishing a run
// sets its published_at, which would copy the input too.
type MatchRunInput struct{ ent.Schema }

// Mixin of MatchRunInput.
func (MatchRunInput) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mri")}
}

// Fields of MatchRunInput.
func (MatchRunInput) Fields() []ent.Field {
	return []ent.Field{
		field.String("run_id").GoType(pulid.ID("")).Immutable().Unique(),
		field.JSON("instance", matching.Instance{}).Immutable(),
	}
}

// Edges of MatchRunInput.
func (MatchRunInput) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("run", MatchRun.Type).Ref("input").Field("run_id").Unique().Required().Immutable(),
	}
}

// Annotations of MatchRunInput.
func (MatchRunInput) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of MatchRunInput: its run's.
func (MatchRunInput) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowMatchRunners),
		access.Mutation(access.AllowSystem, access.AllowMatchRunners),
	)
}

// MatchOverride is a staff decision, with a reason, that a run must respect: PIN gives the
// application that slot, EXCLUDE removes the pair from the match.
type MatchOverride struct{ ent.Schema }

// Mixin of MatchOverride.
func (MatchOverride) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mov"), TimeMixin{}}
}

// Fields of MatchOverride.
func (MatchOverride) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable(),
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("slot_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("kind").Values("PIN", "EXCLUDE").Immutable(),
		field.String("reason").NotEmpty().MaxLen(500).Immutable(),
	}
}

// Edges of MatchOverride.
func (MatchOverride) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("match_overrides").Field("call_id").Unique().Required().Immutable(),
		edge.To("application", Application.Type).Field("application_id").Unique().Required().Immutable(),
		edge.To("slot", HostSlot.Type).Field("slot_id").Unique().Required().Immutable(),
	}
}

// Indexes of MatchOverride.
func (MatchOverride) Indexes() []ent.Index {
	return []ent.Index{index.Fields("call_id", "application_id", "slot_id").Unique()}
}

// Annotations of MatchOverride.
func (MatchOverride) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of MatchOverride: those who run the match (access.CanRunMatch: staff).
func (MatchOverride) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowMatchRunners),
		access.Mutation(access.AllowSystem, access.AllowMatchRunners),
	)
}
