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

// MatchRun is one computation of a call's match: the input frozen from the database (and
// its hash), the algorithm and its version, and the verified result. A dry run only
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
		field.JSON("input", matching.Instance{}).Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
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

// Policy of MatchRun: staff only (trainees read their outcome, hosts their placements,
// through their own fields).
func (MatchRun) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff),
		access.Mutation(access.AllowSystem, access.AllowStaff),
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

// Policy of MatchOverride: staff only.
func (MatchOverride) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}

// Placement is a trainee's place in a host slot, created when a match is published: an
// offer the trainee accepts by a deadline and the host confirms.
type Placement struct{ ent.Schema }

// Mixin of Placement.
func (Placement) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("plc"), TimeMixin{}}
}

// Fields of Placement.
func (Placement) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable(),
		field.String("run_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("slot_id").GoType(pulid.ID("")).Immutable(),
		field.String("host_centre_id").GoType(pulid.ID("")).Immutable(),
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("trainee_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("status").Values("OFFERED", "ACCEPTED", "CONFIRMED", "COMPLETED", "DECLINED", "EXPIRED", "CANCELLED").Default("OFFERED"),
		field.String("status_reason").MaxLen(500).Default(""),
		field.String("start_date").GoType(vocab.Date("")).Validate(vocab.ValidateDate).Annotations(entgql.Type("Date")),
		field.String("end_date").GoType(vocab.Date("")).Validate(vocab.ValidateDate).Annotations(entgql.Type("Date")),
		field.Time("offer_deadline").Comment("The trainee accepts the offer by then (UTC)."),
		field.Int("sequence").NonNegative().Default(0).Comment("Version of the placement's calendar entry."),
		field.Bool("from_waitlist").Default(false).Immutable().Comment("Offered from the waiting list after the match."),
		field.Time("accepted_at").Optional().Nillable(),
		field.Time("confirmed_at").Optional().Nillable(),
		field.String("proposed_start").GoType(vocab.Date("")).Optional().Nillable().Validate(vocab.ValidateDate).
			Comment("Other dates the host proposed; the trainee accepts or declines the change.").Annotations(entgql.Type("Date")),
		field.String("proposed_end").GoType(vocab.Date("")).Optional().Nillable().Validate(vocab.ValidateDate).Annotations(entgql.Type("Date")),
		field.Text("report").MaxLen(10000).Default("").Comment("The trainee's post-placement report.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.Text("evaluation").MaxLen(10000).Default("").Comment("The host's evaluation of the placement.").Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of Placement.
func (Placement) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("placements").Field("call_id").Unique().Required().Immutable(),
		edge.To("slot", HostSlot.Type).Field("slot_id").Unique().Required().Immutable(),
		edge.To("host_centre", HostCentre.Type).Field("host_centre_id").Unique().Required().Immutable(),
		edge.To("application", Application.Type).Field("application_id").Unique().Required().Immutable(),
		edge.To("trainee", User.Type).Field("trainee_id").Unique().Required().Immutable(),
	}
}

// Indexes of Placement.
func (Placement) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("call_id", "status"),
		index.Fields("slot_id", "status"),
		index.Fields("trainee_id"),
		index.Fields("host_centre_id"),
	}
}

// Annotations of Placement.
func (Placement) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Placement: the trainee their own, the host centre's coordinators theirs, staff
// all (access.FilterVisiblePlacements). The same parties update them
// (access.AllowPlacementParties: narrowed to their own rows; which change each may make is
// the placement service's); placements are created by publishing a match and by the
// waiting-list job (staff, system).
func (Placement) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisiblePlacements),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowPlacementParties),
	)
}
