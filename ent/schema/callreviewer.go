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

// CallReviewer is a person staff appointed to a call's review committee (created_at is
// when). The appointment alone grants the reviewer's rights in that call: there is no
// global reviewer role (see access/reviews.go). Removing a reviewer deletes the row (and
// their assignments), so they lose everything of the call at once.
type CallReviewer struct{ ent.Schema }

// Mixin of CallReviewer.
func (CallReviewer) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("crv"), TimeMixin{}}
}

// Fields of CallReviewer.
func (CallReviewer) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable(),
		field.String("user_id").GoType(pulid.ID("")).Immutable().Comment("The reviewer."),
		field.String("appointed_by_id").GoType(pulid.ID("")).Immutable().Comment("The staff member who appointed them."),
	}
}

// Edges of CallReviewer.
func (CallReviewer) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("call", Call.Type).Ref("reviewers").Field("call_id").Unique().Required().Immutable(),
		edge.To("user", User.Type).Field("user_id").Unique().Required().Immutable(),
		edge.To("appointed_by", User.Type).Field("appointed_by_id").Unique().Required().Immutable(),
	}
}

// Indexes of CallReviewer.
func (CallReviewer) Indexes() []ent.Index {
	return []ent.Index{index.Fields("call_id", "user_id").Unique(), index.Fields("user_id")}
}

// Annotations of CallReviewer.
func (CallReviewer) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of CallReviewer: staff; a reviewer reads their own appointments
// (access.FilterOwnAppointments). Staff appoint and remove.
func (CallReviewer) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnAppointments),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}

// ReviewAssignment gives one eligible application to one appointed reviewer of its call.
// It grants nothing once the reviewer is no longer appointed, or after they recused
// themselves from the application (access.ReviewerSeesApplication).
type ReviewAssignment struct{ ent.Schema }

// Mixin of ReviewAssignment.
func (ReviewAssignment) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("ras"), TimeMixin{}}
}

// Fields of ReviewAssignment.
func (ReviewAssignment) Fields() []ent.Field {
	return []ent.Field{
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("reviewer_id").GoType(pulid.ID("")).Immutable(),
		field.String("assigned_by_id").GoType(pulid.ID("")).Immutable().Comment("The staff member who assigned it."),
	}
}

// Edges of ReviewAssignment.
func (ReviewAssignment) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("review_assignments").Field("application_id").Unique().Required().Immutable(),
		edge.To("reviewer", User.Type).Field("reviewer_id").Unique().Required().Immutable(),
		edge.To("assigned_by", User.Type).Field("assigned_by_id").Unique().Required().Immutable(),
	}
}

// Indexes of ReviewAssignment.
func (ReviewAssignment) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "reviewer_id").Unique(), index.Fields("reviewer_id")}
}

// Annotations of ReviewAssignment.
func (ReviewAssignment) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of ReviewAssignment: staff; a reviewer reads their own while appointed
// (access.FilterOwnAssignments). Staff assign.
func (ReviewAssignment) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnAssignments),
		access.Mutation(access.AllowSystem, access.AllowStaff),
	)
}
