package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// FilterPublishedCalls narrows Call reads to calls that are no longer drafts, except for
// host coordinators, who see drafts too: centres offer their slots while a call is being
// prepared. Staff are allowed before this rule.
var FilterPublishedCalls = queryRule(func(ctx context.Context, q ent.Query) error {
	if viewer.FromContext(ctx).HasRole(viewer.RoleHostCoordinator) {
		return privacy.Allow
	}
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(entql.FieldNEQ("status", "DRAFT"))
	return privacy.Allow
})

// FilterVisibleSlots narrows HostSlot reads (staff are allowed before it): an approved
// slot of an OPEN call to anyone, an approved slot of a call past its draft to signed-in
// users (applicants and hosts look back at it), and every slot of a centre to the centre's
// coordinators while they hold the HOST_COORDINATOR role (coordinatedBy). Slots of centres whose organisation is inactive are hidden, like the
// centres themselves.
var FilterVisibleSlots = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	approved := entql.FieldEQ("status", "APPROVED")
	activeCentre := entql.HasEdgeWith("host_centre", entql.HasEdgeWith("organisation", entql.FieldEQ("active", true)))
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		f.Where(entql.And(activeCentre, approved, entql.HasEdgeWith("call", entql.FieldEQ("status", "OPEN"))))
		return privacy.Allow
	}
	f.Where(entql.And(activeCentre, entql.Or(
		entql.And(approved, entql.HasEdgeWith("call", entql.FieldNEQ("status", "DRAFT"))),
		coordinatedBy(v),
	)))
	return privacy.Allow
})

// AllowCoordinatorSlotWrite lets a host coordinator write slots: a create is allowed by
// role (the service checks first that they coordinate the slot's centre, which a privacy
// rule cannot query), and an update is narrowed to the slots of the centres they
// coordinate, so for any other slot it matches no row. Deletes are not allowed.
var AllowCoordinatorSlotWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !v.HasRole(viewer.RoleHostCoordinator) {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		return privacy.Allow
	case m.Op().Is(ent.OpUpdateOne):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(entql.HasEdgeWith("host_centre", entql.HasEdgeWith("coordinators", entql.FieldEQ("id", v.UserID))))
		return privacy.Allow
	}
	return privacy.Skip
})

// ownApplication is the predicate of rows whose application belongs to user.
func ownApplication(user string) entql.P {
	return entql.HasEdgeWith("application", entql.FieldEQ("trainee_id", user))
}

// FilterOwnApplications narrows Application reads (staff are allowed before it): a trainee
// sees their own; a host coordinator also the eligible applications that listed a centre
// they coordinate, once the call has closed (hostVisibleApplication) — never the
// trainee's other choices or their rank of the host (ApplicationChoice stays private);
// a call reviewer the applications assigned to them (ReviewerSeesApplication, reviews.go);
// anonymous viewers see none.
var FilterOwnApplications = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind != viewer.User:
		f.Where(nothing)
	case v.HasRole(viewer.RoleHostCoordinator):
		f.Where(entql.Or(entql.FieldEQ("trainee_id", v.UserID), hostVisibleApplication(v), ReviewerSeesApplication(v.UserID)))
	default:
		f.Where(entql.Or(entql.FieldEQ("trainee_id", v.UserID), ReviewerSeesApplication(v.UserID)))
	}
	return privacy.Allow
})

// FilterByOwnApplication narrows reads of what hangs off an application (its ranked
// choices, referee requests) to the viewer's own applications.
var FilterByOwnApplication = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	if me := signedIn(ctx); me != "" {
		f.Where(ownApplication(me))
	} else {
		f.Where(nothing)
	}
	return privacy.Allow
})

// FilterVisibleDocuments narrows Document reads to the viewer's own applications' documents,
// less the referee letters whose request recorded that the trainee waived the right to
// read them; for a host coordinator also the documents, less referee letters, of the
// applications they may see; and for a call reviewer every document (referee letters
// included: the committee reads them) of the applications assigned to them.
var FilterVisibleDocuments = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	me := signedIn(ctx)
	if me == "" {
		f.Where(nothing)
		return privacy.Allow
	}
	waived := entql.And(entql.FieldEQ("kind", "REFEREE_LETTER"), entql.HasEdgeWith("referee_request", entql.FieldEQ("waived", true)))
	own := entql.And(ownApplication(me), entql.Not(waived))
	reviewed := reviewedApplication(me)
	if viewer.FromContext(ctx).HasRole(viewer.RoleHostCoordinator) {
		hosted := entql.And(entql.HasEdgeWith("application", hostVisibleApplication(viewer.FromContext(ctx))), entql.FieldNEQ("kind", "REFEREE_LETTER"))
		f.Where(entql.Or(own, hosted, reviewed))
		return privacy.Allow
	}
	f.Where(entql.Or(own, reviewed))
	return privacy.Allow
})

// AllowOwnApplicationWrite lets a trainee create an application for themself and update
// their own: a create must name the viewer as trainee_id; an update is narrowed to rows
// whose trainee_id is the viewer, so anyone else's matches no row.
var AllowOwnApplicationWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !v.HasRole(viewer.RoleTrainee) {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		if owner, ok := m.Field("trainee_id"); ok {
			if id := reflect.ValueOf(owner); id.Kind() == reflect.String && id.String() == v.UserID {
				return privacy.Allow
			}
		}
		return privacy.Denyf("a trainee can only apply for themself")
	case m.Op().Is(ent.OpUpdateOne) || m.Op().Is(ent.OpUpdate):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(entql.FieldEQ("trainee_id", v.UserID))
		return privacy.Allow
	}
	return privacy.Skip
})

// AllowByOwnApplication lets a trainee write what hangs off their own application (its
// choices, documents, referee requests): creates are allowed by role, after the service
// has checked that the application is theirs (a rule cannot query that); updates and
// deletes are narrowed to rows of their own applications.
var AllowByOwnApplication = createByRoleNarrowOthers(viewer.RoleTrainee, ownApplication)

// FilterReviewsOfConflicted hides, from a reviewer who declared a conflict of interest on
// an application, the other reviews of that application (their own stays visible), and
// skips: AllowStaff after it allows the narrowed read to staff, and deny-by-default
// refuses everyone else.
var FilterReviewsOfConflicted = queryRule(func(ctx context.Context, q ent.Query) error {
	me := signedIn(ctx)
	if me == "" || !viewer.FromContext(ctx).IsStaff() {
		return privacy.Skip
	}
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	conflicted := entql.HasEdgeWith("application", entql.HasEdgeWith("reviews",
		entql.And(entql.FieldEQ("reviewer_id", me), entql.FieldEQ("conflict", true))))
	f.Where(entql.Or(entql.FieldEQ("reviewer_id", me), entql.Not(conflicted)))
	return privacy.Skip
})

// FilterOwnCentreRows narrows reads of rows that belong to a host centre (its rankings) to
// the centres the viewer coordinates; anonymous viewers and trainees see none.
var FilterOwnCentreRows = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || !v.HasRole(viewer.RoleHostCoordinator) {
		f.Where(nothing)
		return privacy.Allow
	}
	f.Where(coordinatedBy(v))
	return privacy.Allow
})

// AllowCoordinatorRankingWrite lets a host coordinator write rankings: creates by role
// (the service checks the centre first), deletes narrowed to the centres they coordinate.
var AllowCoordinatorRankingWrite = createByRoleNarrowOthers(viewer.RoleHostCoordinator, coordinates)

// hostVisibleApplication is the predicate of applications a host coordinator sees: eligible
// ones, of a call that has closed, that listed a centre they coordinate (nothing when v
// does not hold HOST_COORDINATOR).
func hostVisibleApplication(v viewer.Viewer) entql.P {
	return entql.And(
		entql.FieldEQ("status", "ELIGIBLE"),
		entql.HasEdgeWith("call", entql.FieldIn("status", "CLOSED", "REVIEW", "RANKING", "MATCHED", "COMPLETED")),
		entql.HasEdgeWith("choices", coordinatedBy(v)),
	)
}

// CanRunCalls reports whether v may create calls, move them on and review slots (staff).
func CanRunCalls(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }
