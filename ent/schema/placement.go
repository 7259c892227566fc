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
	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/access"
)

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
		field.Text("report").Annotations(personal.Data()).MaxLen(10000).Default("").Comment("The trainee's post-placement report.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.Text("evaluation").Annotations(personal.Data()).MaxLen(10000).Default("").Comment("The host's evaluation of the placement.").Annotations(entgql.Skip(entgql.SkipAll)),
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
// the named rule of internal/access/placements.go the service checks: CanAnswerOffer,
// CanConfirmPlacement, …); placements are created by publishing a match (as the staff
// member who publishes) and by the waiting-list job (system).
func (Placement) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisiblePlacements),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowPlacementParties),
	)
}
