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
	"github.com/gocart-coalition/coalition/internal/access"
)

// Review is one reviewer's scores of an eligible application on the call's criteria, or
// their declaration that they have a conflict of interest with it (then it has no scores
// and counts for nothing). One per reviewer and application.
type Review struct{ ent.Schema }

// Mixin of Review.
func (Review) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("rvw"), TimeMixin{}}
}

// Fields of Review.
func (Review) Fields() []ent.Field {
	return []ent.Field{
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.String("reviewer_id").GoType(pulid.ID("")).Immutable(),
		field.JSON("scores", map[string]int{}).Default(map[string]int{}).
			Comment("Score 1–5 per criterion key.").Annotations(entgql.Skip(entgql.SkipAll)),
		field.String("comment").Annotations(personal.Data()).MaxLen(2000).Default(""),
		field.Bool("conflict").Default(false).Comment("The reviewer declared a conflict of interest: excluded."),
		field.String("conflict_reason").Annotations(personal.Data()).MaxLen(500).Default(""),
	}
}

// Edges of Review.
func (Review) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("reviews").Field("application_id").Unique().Required().Immutable(),
		edge.To("reviewer", User.Type).Field("reviewer_id").Unique().Required().Immutable(),
	}
}

// Indexes of Review.
func (Review) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "reviewer_id").Unique()}
}

// Annotations of Review.
func (Review) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput, entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)}
}

// Policy of Review: staff, except that a staff member who declared a conflict on an
// application does not see its other reviews (access.FilterReviewsOfConflicted, before
// AllowStaff); a call reviewer their own reviews while appointed (access.FilterOwnReviews);
// nobody else. Staff and the reviewer write their own (access.AllowOwnReviewWrite; the
// service checks access.CanReviewApplication first).
func (Review) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.FilterReviewsOfConflicted, access.AllowStaff, access.FilterOwnReviews),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowOwnReviewWrite),
	)
}

// HostRanking is one place in a host centre's ranking of the eligible applicants who
// listed it: rank 1 is the most preferred; an applicant not ranked is not acceptable.
type HostRanking struct{ ent.Schema }

// Mixin of HostRanking.
func (HostRanking) Mixin() []ent.Mixin {
	return []ent.Mixin{pulid.MixinWithPrefix("hrk"), TimeMixin{}}
}

// Fields of HostRanking.
func (HostRanking) Fields() []ent.Field {
	return []ent.Field{
		field.String("call_id").GoType(pulid.ID("")).Immutable(),
		field.String("host_centre_id").GoType(pulid.ID("")).Immutable(),
		field.String("application_id").GoType(pulid.ID("")).Immutable(),
		field.Int("rank").Min(1).Immutable(),
	}
}

// Edges of HostRanking.
func (HostRanking) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("call", Call.Type).Field("call_id").Unique().Required().Immutable(),
		edge.To("host_centre", HostCentre.Type).Field("host_centre_id").Unique().Required().Immutable(),
		edge.To("application", Application.Type).Field("application_id").Unique().Required().Immutable(),
	}
}

// Indexes of HostRanking.
func (HostRanking) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("call_id", "host_centre_id", "rank").Unique(),
		index.Fields("call_id", "host_centre_id", "application_id").Unique(),
	}
}

// Annotations of HostRanking.
func (HostRanking) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// Policy of HostRanking: staff and the centre's coordinators; never trainees.
func (HostRanking) Policy() ent.Policy {
	return access.Policy(
		access.Query(access.AllowSystem, access.AllowStaff, access.FilterOwnCentreRows),
		access.Mutation(access.AllowSystem, access.AllowStaff, access.AllowCoordinatorRankingWrite),
	)
}
