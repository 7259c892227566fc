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

// Application is a trainee's application to a call: drafted, then submitted before the
// deadline; staff decide whether it is eligible. One per trainee and call.
type Application struct{ ent.Schema }

// Mixin of Application.
func (Application) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("app"), TimeMixin{}}
}

// Fields of Application.
func (Application) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable().Comment("The call."),
		field.String("trainee_id").GoType(pulid.ID("")).Immutable().Comment("The applicant."),
		field.Enum("status").Values("DRAFT", "SUBMITTED", "ELIGIBLE", "INELIGIBLE", "WITHDRAWN").Default("DRAFT").
			Comment("DRAFT until submitted; staff mark a submitted application ELIGIBLE or INELIGIBLE; the trainee may withdraw until matched.").
			Annotations(entgql.OrderField("STATUS")),
		field.String("status_reason").MaxLen(1000).Default("").Comment("Why it is ineligible, or why the trainee withdrew."),
		field.String("home_organisation_id").GoType(pulid.ID("")).Optional().Nillable().
			Comment("The trainee's home centre (an organisation in an eligible country)."),
		field.String("role").MaxLen(200).Default("").Comment("The trainee's role, e.g. \"Haematology consultant\"."),
		field.Int("cart_experience_years").Range(0, 60).Default(0).Comment("Years of CAR-T experience."),
		field.Text("motivation").Annotations(personal.Data()).MaxLen(3000).Default("").Comment("Why they apply (plain text)."),
		field.JSON("languages", []string{}).Default([]string{}).Comment("ISO 639-1 codes of the languages they can follow."),
		field.JSON("focus_areas", []vocab.FocusArea{}).Default([]vocab.FocusArea{}).Comment("What they want to learn."),
		field.JSON("availability", []vocab.DateRange{}).Default([]vocab.DateRange{}).
			Comment("Date ranges inside the placement window when they can come."),
		field.Int("preferred_weeks").Optional().Nillable().Comment("Preferred placement length in weeks (1 or 2)."),
		field.Time("submitted_at").Optional().Nillable().Comment("When it was submitted (UTC).").
			Annotations(entgql.OrderField("SUBMITTED_AT")),
		field.Time("decided_at").Optional().Nillable().Comment("When staff decided on eligibility (UTC)."),
		field.Time("withdrawn_at").Optional().Nillable().Comment("When the trainee withdrew (UTC)."),
		field.Time("retention_warned_at").Optional().Nillable().
			Comment("When the trainee was told that the application (unsuccessful) or its referee letters would be deleted (UTC); once per application.").
			Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Edges of Application.
func (Application) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("applications").Field("call_id").Unique().Required().Immutable(),
		edge.From("trainee", User.Type).Ref("applications").Field("trainee_id").Unique().Required().Immutable(),
		edge.To("home_organisation", Organisation.Type).Field("home_organisation_id").Unique(),
		edge.To("choices", ApplicationChoice.Type).
			Comment("The ranked host centres, first choice first.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("documents", Document.Type).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("referee_requests", RefereeRequest.Type).
			Annotations(entgql.Skip(entgql.SkipWhereInput)),
		edge.To("reviews", Review.Type).Annotations(entgql.Skip(entgql.SkipAll)),
		edge.To("review_assignments", ReviewAssignment.Type).Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of Application.
func (Application) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("call_id", "trainee_id").Unique(),
		index.Edges("trainee"),
		index.Fields("call_id", "status"),
	}
}

// Annotations of Application.
func (Application) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput),
	}
}

// Policy of Application: the trainee their own, staff all (access.FilterOwnApplications).
// The trainee writes their own (narrowed by the policy); staff decide eligibility.
func (Application) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnApplications),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanRunCalls), access.AllowOwnApplicationWrite),
	)
}

// ApplicationChoice is one host centre an application ranks. Only the trainee and staff
// ever see it: a host never learns the trainee's other choices or its rank.
type ApplicationChoice struct{ ent.Schema }

// Mixin of ApplicationChoice.
func (ApplicationChoice) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("apc")}
}

// Fields of ApplicationChoice.
func (ApplicationChoice) Fields() []ent.Field {
	return []ent.Field{
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("host_centre_id").GoType(pulid.ID("")).Immutable(),
		field.Int("rank").Range(1, 10).Immutable().Comment("1 is the first choice."),
	}
}

// Edges of ApplicationChoice.
func (ApplicationChoice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("choices").Field("application_id").Unique().Required().Immutable(),
		edge.To("host_centre", HostCentre.Type).Field("host_centre_id").Unique().Required().Immutable(),
	}
}

// Indexes of ApplicationChoice.
func (ApplicationChoice) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("application_id", "rank").Unique(),
		index.Fields("application_id", "host_centre_id").Unique(),
		index.Fields("host_centre_id"),
	}
}

// Annotations of ApplicationChoice.
func (ApplicationChoice) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of ApplicationChoice: the application's trainee and staff.
func (ApplicationChoice) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterByOwnApplication),
		access.Mutation(access.AllowSystem, access.AllowWhen(access.CanRunCalls), access.AllowByOwnApplication),
	)
}

// Document is a PDF attached to an application, stored outside the database by its SHA-256
// (internal/docstore). A referee letter is uploaded by the referee through their link.
type Document struct{ ent.Schema }

// Mixin of Document.
func (Document) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("doc"), TimeMixin{}}
}

// Fields of Document.
func (Document) Fields() []ent.Field {
	return []ent.Field{
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.Enum("kind").GoType(vocab.DocumentKind("")).Immutable().Annotations(entgql.Type("DocumentKind")),
		field.String("filename").Annotations(personal.Data()).NotEmpty().MaxLen(200).Immutable().Comment("The uploaded file's name, cleaned."),
		field.String("sha256").NotEmpty().MaxLen(64).Immutable().Comment("Content address in the document store.").
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Int64("size").NonNegative().Immutable().Comment("Size in bytes."),
		field.String("referee_request_id").GoType(pulid.ID("")).Optional().Nillable().Immutable().
			Comment("For a referee letter: the request it answers."),
	}
}

// Edges of Document.
func (Document) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("documents").Field("application_id").Unique().Required().Immutable(),
		edge.From("referee_request", RefereeRequest.Type).Ref("letter").Field("referee_request_id").Unique().Immutable(),
	}
}

// Indexes of Document.
func (Document) Indexes() []ent.Index {
	return []ent.Index{index.Edges("application"), index.Fields("sha256")}
}

// Annotations of Document.
func (Document) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of Document: staff; the application's trainee, except referee letters whose
// referee request recorded that the trainee waived the right to see them
// (access.FilterVisibleDocuments). The trainee adds and removes their own documents while
// the application is a draft; a referee letter is written by whoever holds the referee's
// link, for that request only (access.AllowRefereeLetter).
func (Document) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterVisibleDocuments),
		access.Mutation(access.AllowSystem, access.AllowRefereeLetter, access.AllowWhen(access.CanRunCalls), access.AllowByOwnApplication),
	)
}

// RefereeRequest asks a referee for a letter about an application: an email with a
// single-use upload link. Whether the trainee waived the right to read the letter is
// recorded when the request is made.
type RefereeRequest struct{ ent.Schema }

// Mixin of RefereeRequest.
func (RefereeRequest) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ref"), TimeMixin{}}
}

// Fields of RefereeRequest.
func (RefereeRequest) Fields() []ent.Field {
	return []ent.Field{
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("referee_name").Annotations(personal.Data()).NotEmpty().MaxLen(200).Immutable(),
		field.String("referee_email").Annotations(personal.Data()).NotEmpty().MaxLen(254).Immutable(),
		field.Bool("waived").Immutable().Comment("The trainee waived the right to read the letter."),
		field.String("token_hash").NotEmpty().Unique().Immutable().Sensitive().
			Annotations(entgql.Skip(entgql.SkipAll)),
		field.Time("expires_at").Comment("The upload link works until then (UTC)."),
		field.Time("received_at").Optional().Nillable().Comment("When the letter arrived (UTC)."),
	}
}

// Edges of RefereeRequest.
func (RefereeRequest) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("referee_requests").Field("application_id").Unique().Required().Immutable(),
		edge.To("letter", Document.Type).Unique().Annotations(entgql.Skip(entgql.SkipAll)),
	}
}

// Indexes of RefereeRequest.
func (RefereeRequest) Indexes() []ent.Index {
	return []ent.Index{index.Edges("application")}
}

// Annotations of RefereeRequest.
func (RefereeRequest) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of RefereeRequest: the application's trainee and staff read it; the trainee
// creates requests for their own draft; the holder of a request's link marks it received
// (access.AllowRefereeLetter).
func (RefereeRequest) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterByOwnApplication),
		access.Mutation(access.AllowSystem, access.AllowRefereeLetter, access.AllowWhen(access.CanRunCalls), access.AllowByOwnApplication),
	)
}
