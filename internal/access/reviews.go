package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Review committees. Staff appoint reviewers per call (CallReviewer) and assign them
// eligible applications (ReviewAssignment). There is no global reviewer role: a role is
// global and travels in the viewer from sign-in, while a reviewer's rights are per call
// and per application, so the appointment row alone grants them; every rule below joins
// to it, so removing the appointment takes everything away on the next statement (no
// session to refresh, no role to forget to revoke).
//
// A reviewer of a call sees an application while all three hold: they are appointed to
// its call, it is assigned to them, and they have not recused themselves from it
// (ReviewerStanding, ReviewerSeesApplication). They see their own reviews, never another
// reviewer's; once staff publish the call's aggregate (Call.review_published_at) they
// see the aggregated score of the applications they see (CanSeeReviewAggregate).

// CanManageReviews reports whether v may appoint and remove a call's reviewers, assign
// them applications, see every assignment and review, and publish the aggregate (staff).
func CanManageReviews(v viewer.Viewer) bool { return v.IsStaff() }

// ReviewerStanding are the facts of one person's place in the review of one application.
type ReviewerStanding struct {
	// Appointed: they are a reviewer of the application's call.
	Appointed bool
	// Assigned: the application is assigned to them.
	Assigned bool
	// Recused: they declared a conflict of interest with it.
	Recused bool
}

// Active reports whether the standing lets a non-staff reviewer see and score the
// application: appointed, assigned and not recused (the Go form of ReviewerSeesApplication).
func (s ReviewerStanding) Active() bool { return s.Appointed && s.Assigned && !s.Recused }

// CanReviewApplication reports whether v may score an application or declare a conflict
// with it: staff (as before committees existed), or a reviewer whose standing is active.
func CanReviewApplication(v viewer.Viewer, s ReviewerStanding) bool {
	return v.IsStaff() || (v.Kind == viewer.User && s.Active())
}

// CanSeeReviewAggregate reports whether v may see a call's aggregated scores: staff
// always; a reviewer appointed to the call once staff published the aggregate.
func CanSeeReviewAggregate(v viewer.Viewer, appointed, published bool) bool {
	return v.IsStaff() || (v.Kind == viewer.User && appointed && published)
}

// IsPartyToApplication reports whether a person may not review an application because it
// is theirs or because they coordinate (or coordinated) a host centre it lists.
func IsPartyToApplication(person, applicant string, coordinators []string) bool {
	if person == applicant {
		return true
	}
	for _, c := range coordinators {
		if c == person {
			return true
		}
	}
	return false
}

// appointedTo is the predicate of calls to which user is appointed as a reviewer.
func appointedTo(user string) entql.P {
	return entql.HasEdgeWith("reviewers", entql.FieldEQ("user_id", user))
}

// ReviewerSeesApplication is the predicate of the applications user sees as a reviewer:
// eligible, of a call they are appointed to, assigned to them, and not recused.
func ReviewerSeesApplication(user string) entql.P {
	return entql.And(
		entql.FieldEQ("status", "ELIGIBLE"),
		entql.HasEdgeWith("call", appointedTo(user)),
		entql.HasEdgeWith("review_assignments", entql.FieldEQ("reviewer_id", user)),
		entql.Not(entql.HasEdgeWith("reviews", entql.And(entql.FieldEQ("reviewer_id", user), entql.FieldEQ("conflict", true)))),
	)
}

// reviewedApplication is the predicate of rows hanging off an application user sees as a
// reviewer (its documents).
func reviewedApplication(user string) entql.P {
	return entql.HasEdgeWith("application", ReviewerSeesApplication(user))
}

// FilterOwnAppointments narrows CallReviewer reads (staff are allowed before it) to the
// viewer's own appointments; anonymous viewers see none.
var FilterOwnAppointments = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterTo(ctx, q, func(me string) entql.P { return entql.FieldEQ("user_id", me) })
})

// FilterOwnAssignments narrows ReviewAssignment reads (staff are allowed before it) to the
// viewer's own, while they are appointed to the application's call.
var FilterOwnAssignments = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterTo(ctx, q, func(me string) entql.P {
		return entql.And(entql.FieldEQ("reviewer_id", me), entql.HasEdgeWith("application", entql.HasEdgeWith("call", appointedTo(me))))
	})
})

// FilterOwnReviews narrows Review reads for everyone but staff (allowed before it) to the
// viewer's own reviews of applications of calls they are still appointed to: a reviewer
// never reads another reviewer's scores (the aggregate, once published, is computed by
// the service); anonymous viewers see none.
var FilterOwnReviews = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterTo(ctx, q, func(me string) entql.P {
		return entql.And(entql.FieldEQ("reviewer_id", me), entql.HasEdgeWith("application", entql.HasEdgeWith("call", appointedTo(me))))
	})
})

// AllowOwnReviewWrite lets a signed-in person write their own review: a create must name
// them as reviewer_id (the service checked CanReviewApplication first, which a rule cannot
// query); updates are narrowed to their own rows, so anyone else's matches none.
var AllowOwnReviewWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	me := signedIn(ctx)
	if me == "" {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		if id, ok := m.Field("reviewer_id"); ok {
			if s := reflect.ValueOf(id); s.Kind() == reflect.String && s.String() == me {
				return privacy.Allow
			}
		}
		return privacy.Denyf("a reviewer writes only their own review")
	case m.Op().Is(ent.OpUpdateOne):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(entql.FieldEQ("reviewer_id", me))
		return privacy.Allow
	}
	return privacy.Skip
})

// filterTo narrows q to own(viewer) for a signed-in user and to nothing for anyone else,
// and allows the narrowed read.
func filterTo(ctx context.Context, q ent.Query, own func(me string) entql.P) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	if me := signedIn(ctx); me != "" {
		f.Where(own(me))
	} else {
		f.Where(nothing)
	}
	return privacy.Allow
}
