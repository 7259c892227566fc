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

// HostSlot is a block of one or two weeks (Monday to Friday) in which a host centre takes
// observers in a call. A slot is what the match assigns trainees to, so the match is also
// the schedule.
type HostSlot struct{ ent.Schema }

// Mixin of HostSlot.
func (HostSlot) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("slt"), TimeMixin{}}
}

// Fields of HostSlot.
func (HostSlot) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable().Comment("The call."),
		field.String("host_centre_id").GoType(pulid.ID("")).Immutable().Comment("The host centre."),
		field.String("start_date").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("First day (a Monday).").Annotations(entgql.Type("Date"), entgql.OrderField("START_DATE")),
		field.String("end_date").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("Last day (the Friday of its last week).").Annotations(entgql.Type("Date")),
		field.Int("weeks").Range(1, 2).Comment("Length in weeks."),
		field.Int("capacity").Range(1, 20).Comment("How many observers the centre takes in this slot."),
		field.JSON("languages", []string{}).Default([]string{}).
			Comment("ISO 639-1 codes of the languages observers can follow in this slot."),
		field.JSON("focus_areas", []vocab.FocusArea{}).Default([]vocab.FocusArea{}).
			Comment("What this slot concentrates on."),
		field.Text("note").MaxLen(5000).Default("").Comment("E.g. the weekly programme, in Markdown (see noteHtml)."),
		field.Enum("status").Values("PROPOSED", "APPROVED", "REJECTED", "WITHDRAWN").Default("PROPOSED").
			Comment("PROPOSED by the centre; APPROVED or REJECTED by staff; WITHDRAWN by the centre."),
		field.String("status_reason").MaxLen(500).Default("").Comment("Why staff rejected it or the centre withdrew it."),
	}
}

// Edges of HostSlot.
func (HostSlot) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("slots").Field("call_id").Unique().Required().Immutable(),
		edge.From("host_centre", HostCentre.Type).Ref("slots").Field("host_centre_id").Unique().Required().Immutable(),
	}
}

// Indexes of HostSlot.
func (HostSlot) Indexes() []ent.Index {
	return []ent.Index{
		index.Edges("call"),
		index.Fields("host_centre_id", "call_id", "start_date"),
	}
}

// Annotations of HostSlot.
func (HostSlot) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of HostSlot: approved slots of published calls to anyone, every slot of a centre
// to its coordinators, everything to staff (access.FilterVisibleSlots). Staff approve and
// reject; a centre's coordinators propose and withdraw its slots
// (access.AllowCoordinatorSlotWrite: creates by coordinators, who the service checks;
// updates narrowed to the centres they coordinate).
func (HostSlot) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleSlots),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanRunCalls), access.AllowCoordinatorSlotWrite),
	)
}
