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

// Call is a call for applications to the observership programme: an application window,
// a placement window in which host centres offer slots, and the rules of the call.
type Call struct{ ent.Schema }

// Mixin of Call.
func (Call) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("cal"), TimeMixin{}}
}

// Fields of Call.
func (Call) Fields() []ent.Field {
	return []ent.Field{
		field.String("title").NotEmpty().MaxLen(200).Comment("Title, e.g. \"Observership pilot, Q1 2027\".").
			Annotations(entgql.OrderField("TITLE")),
		field.Text("description").MaxLen(20000).Default("").Comment("What the call offers, in Markdown (see descriptionHtml)."),
		field.Enum("status").
			Values("DRAFT", "OPEN", "CLOSED", "REVIEW", "RANKING", "MATCHED", "COMPLETED", "CANCELLED").
			Default("DRAFT").Comment("Where the call stands; staff move it on, one checked step at a time.").
			Annotations(entgql.OrderField("STATUS")),
		field.String("status_reason").MaxLen(500).Default("").
			Comment("Why staff closed the call early or cancelled it."),
		field.Time("opens_at").Comment("Applications are accepted from this instant (UTC).").
			Annotations(entgql.OrderField("OPENS_AT")),
		field.Time("closes_at").Comment("…until this instant (UTC): the deadline.").
			Annotations(entgql.OrderField("CLOSES_AT")),
		field.String("time_zone").NotEmpty().MaxLen(64).
			Comment("IANA time zone in which the deadline is announced, e.g. Europe/Brussels."),
		field.String("placement_start").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("First day of the placement window.").Annotations(entgql.Type("Date")),
		field.String("placement_end").GoType(vocab.Date("")).Validate(vocab.ValidateDate).
			Comment("Last day of the placement window.").Annotations(entgql.Type("Date")),
		field.JSON("placement_weeks", []int{}).
			Comment("Allowed placement lengths in weeks: 1, 2 or both."),
		field.JSON("eligible_countries", []string{}).
			Comment("ISO 3166-1 alpha-2 codes of the home countries whose trainees may apply."),
		field.Int("max_preferences").Range(1, 10).Default(3).
			Comment("How many host centres an application may rank."),
		field.Int("funded_places").NonNegative().Default(0).Comment("How many placements the call funds."),
		field.JSON("required_documents", []vocab.DocumentKind{}).
			Comment("Documents an application must include to be submitted."),
		field.Int("referee_letters").Range(0, 3).Default(1).
			Comment("How many referee letters must have arrived before an application can be submitted."),
		field.JSON("review_criteria", []vocab.Criterion{}).
			Comment("Criteria reviewers score, with weights."),
		field.Int("offer_response_hours").Range(1, 720).Default(48).
			Comment("How long a trainee has to accept an offer, counted in hours excluding weekends."),
		field.Int("min_lead_days").Range(0, 365).Default(14).
			Comment("Minimum days between an offer and the start of its placement."),
		field.Bool("one_placement_per_trainee").Default(true).
			Comment("A trainee gets at most one placement in this call."),
		field.Int("no_repeat_months").Range(0, 120).Default(12).
			Comment("A trainee placed in the last N months may not be placed again."),
		field.Time("ranking_deadline").Optional().Nillable().
			Comment("Host coordinators submit their rankings by this instant (UTC)."),
		field.Time("ranking_closed_at").Optional().Nillable().
			Comment("When the ranking-deadline job closed ranking (UTC); host rankings no longer change.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("review_published_at").Optional().Nillable().
			Comment("When staff published the review aggregate (UTC): reviewers then see the aggregated scores, and scores no longer change."),
		field.Time("ended_at").Optional().Nillable().
			Comment("When the call was completed or cancelled (UTC): the retention of its applications counts from then.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int("applications_deleted").NonNegative().Default(0).
			Comment("How many of the call's applications were deleted (retention of unsuccessful applications), so the call's totals stay right: applications counted plus this."),
	}
}

// Edges of Call.
func (Call) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("match_runs", MatchRun.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("match_overrides", MatchOverride.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("placements", Placement.Type).
			Comment("Placements of the call (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("applications", Application.Type).
			Comment("Applications to the call (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
		edge.To("reviewers", CallReviewer.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("slots", HostSlot.Type).
			Comment("Slots host centres offer in this call (as visible to the viewer).").
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)),
	}
}

// Indexes of Call.
func (Call) Indexes() []ent.Index {
	return []ent.Index{index.Fields("status"), index.Fields("closes_at")}
}

// Annotations of Call.
func (Call) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Call: drafts to staff and host coordinators (who offer slots while a call is
// prepared); every other call to anyone (access.FilterPublishedCalls); staff manage calls.
func (Call) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterPublishedCalls),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanRunCalls)),
	)
}
