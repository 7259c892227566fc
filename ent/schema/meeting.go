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

// Meeting is a meeting of a working group. Its times are instants (stored in UTC) with
// the zone it was scheduled in, so it reads as "14:00 in Paris" and lands at the right
// moment in every member's calendar. Each change that members must know of is a new
// version of its calendar invitation (sequence).
type Meeting struct{ ent.Schema }

// Mixin of Meeting.
func (Meeting) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("mtg"), TimeMixin{}}
}

// Fields of Meeting.
func (Meeting) Fields() []ent.Field {
	return []ent.Field{
		field.String("group_id").GoType(pulid.ID("")).Immutable().Comment("The working group."),
		field.String("title").NotEmpty().MaxLen(200).Comment("Title, e.g. \"Quarterly meeting\"."),
		field.Time("starts_at").Comment("When it starts (UTC).").Annotations(entgql.OrderField("STARTS_AT")),
		field.Time("ends_at").Comment("When it ends (UTC)."),
		field.String("time_zone").NotEmpty().MaxLen(64).
			Comment("IANA time zone it was scheduled in, e.g. Europe/Paris; local times are shown in it."),
		field.String("location").MaxLen(300).Default("").Comment("Where it takes place, if in person."),
		field.String("video_link").MaxLen(2000).Default("").Comment("The video-call link, if online."),
		field.Text("agenda").MaxLen(20000).Default("").Comment("The agenda, in Markdown (see agendaHtml)."),
		field.Text("minutes").MaxLen(50000).Default("").Comment("The minutes, in Markdown, added after the meeting (see minutesHtml)."),
		field.Int("sequence").NonNegative().Default(0).
			Comment("Version of the calendar invitation: 0 when scheduled, one more for every change or the cancellation."),
		field.Time("cancelled_at").Optional().Nillable().Comment("When it was cancelled (UTC)."),
		field.String("cancel_reason").MaxLen(500).Default("").Comment("Why it was cancelled."),
	}
}

// Edges of Meeting.
func (Meeting) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("group", WorkingGroup.Type).Ref("meetings").Field("group_id").Unique().Required().Immutable(),
		edge.To("attendees", User.Type).
			Comment("Who attended, recorded with the minutes.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("invitees", User.Type).
			Comment("Who holds the current calendar invitation: they get the next update or the cancellation.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of Meeting.
func (Meeting) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("group_id", "starts_at"),
		index.Fields("starts_at"),
	}
}

// Annotations of Meeting.
func (Meeting) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Meeting: staff and the group's current members see its meetings, and so do
// the people who were invited to one or attended it (access.FilterVisibleMeetings);
// anonymous viewers see none. Staff, and the group's current chair and co-chair
// (access.AllowChairsMeetingWrite, the rule of access.CanManageMeetings), schedule, change
// and cancel meetings and record their minutes.
func (Meeting) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleMeetings),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanManageWorkingGroups), access.AllowChairsMeetingWrite),
	)
}
