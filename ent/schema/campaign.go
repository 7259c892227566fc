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

// Campaign is one newsletter or announcement sent to mailing lists and working groups.
// Its Markdown body is rendered into the newsletter layout whenever it is edited, so what
// staff preview is what is frozen when sending starts; while it is SENDING, PAUSED or
// SENT, nothing of it changes. Its deliveries are outbox rows (dedupe key
// campaign:<id>:<address>), one per recipient, which hold only what is personal.
type Campaign struct{ ent.Schema }

// Mixin of Campaign.
func (Campaign) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("cmp"), TimeMixin{}}
}

// Fields of Campaign.
func (Campaign) Fields() []ent.Field {
	return []ent.Field{
		field.String("subject").NotEmpty().MaxLen(800).Comment("One line (200 characters at most)."),
		field.String("preheader").MaxLen(800).Default("").Comment("The preview line mail clients show after the subject."),
		field.Text("body").MaxLen(80000).Comment("Markdown (20,000 characters at most)."),
		field.Text("html_body").Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The body rendered into the newsletter layout, sanitised, with the personal parts as placeholders."),
		field.Text("text_body").Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The plain-text alternative, with the personal parts as placeholders."),
		field.Enum("status").
			Values("DRAFT", "APPROVED", "SCHEDULED", "SENDING", "PAUSED", "SENT", "CANCELLED").
			Default("DRAFT").
			Comment("See internal/newsletter/states_campaign.go."),
		field.String("created_by_id").GoType(pulid.ID("")).Immutable().Annotations(entgql.Skip(entgql.SkipAll)).Comment("The staff member who wrote it."),
		field.String("edited_by_id").GoType(pulid.ID("")).Annotations(entgql.Skip(entgql.SkipAll)).Comment("The staff member who changed it last."),
		field.String("approved_by_id").GoType(pulid.ID("")).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The second staff member who approved it; cleared by any edit."),
		field.Time("approved_at").Optional().Nillable().Comment("When it was approved (UTC)."),
		field.Time("scheduled_at").Optional().Nillable().Comment("When it is to start sending (UTC).").
			Annotations(entgql.OrderField("SCHEDULED_AT")),
		field.Time("late_since").Optional().Nillable().
			Comment("Set when the job held a scheduled campaign instead of starting it (hold_reason says why): it waits for a staff decision."),
		field.Enum("hold_reason").Values("LATE", "NO_RECIPIENTS").Optional().Nillable().
			Comment("Why the job held a scheduled campaign (set with late_since): LATE, it could not start within the late delay of its time; NO_RECIPIENTS, its audience reached nobody when its time came."),
		field.Time("started_at").Optional().Nillable().Comment("When sending started (UTC)."),
		field.Time("frozen_at").Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("When every delivery had been written."),
		field.String("freeze_cursor").MaxLen(600).Default("").Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("Where writing the deliveries stopped: the source and the last address written."),
		field.String("mail_body_id").GoType(pulid.ID("")).Optional().Nillable().Annotations(entgql.Skip(entgql.SkipAll)).
			Comment("The outbox body (MailBody) frozen when sending started, shared by every delivery."),
		field.Int("recipients").NonNegative().Default(0).Comment("Deliveries written when sending started."),
		field.Time("sent_at").Optional().Nillable().Comment("When the last delivery was settled (UTC).").
			Annotations(entgql.OrderField("SENT_AT")),
		field.Time("cancelled_at").Optional().Nillable().Comment("When it was cancelled (UTC)."),
		field.String("slug").Optional().Nillable().MaxLen(120).Unique().
			Comment("Its address in the public archive, given when sending starts."),
		field.Bool("public_archive").Default(false).
			Comment("Shown in the public archive once sent: it went to a public list."),
	}
}

// Edges of Campaign.
func (Campaign) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("lists", MailingList.Type).
			Comment("Mailing lists whose confirmed subscribers receive it.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("groups", WorkingGroup.Type).
			Comment("Working groups whose current members receive it.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("author", User.Type).Field("created_by_id").Unique().Required().Immutable().
			Comment("Who wrote it (shown as users are: by name to signed-in people).").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("editor", User.Type).Field("edited_by_id").Unique().Required().
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("approver", User.Type).Field("approved_by_id").Unique().
			Comment("Who approved it, while approved.").
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes of Campaign.
func (Campaign) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("status", "scheduled_at"),
		index.Fields("public_archive", "status", "sent_at"),
	}
}

// Annotations of Campaign.
func (Campaign) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Campaign: staff read and write every campaign; anyone, anonymous included,
// reads a campaign that was sent to a public list (access.FilterArchivedCampaigns); the
// system writes the sending steps.
func (Campaign) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterArchivedCampaigns),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}
