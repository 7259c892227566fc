package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// The programme's rules, each written once: the services ask them before anything else
// (RequireThat, Require), and the privacy rules below are built on them (AllowWhen, or the
// same rule as an entql predicate where it concerns rows: coordinatedBy is ActsForCentre,
// FieldEQ("trainee_id", me) is CanEditApplication).

// CanRunCalls reports whether v runs the programme: creates calls, changes them and moves
// them on, decides the slots centres propose, decides eligibility, runs the match and
// exports applications; and so may write any of the programme's rows (staff, the system).
func CanRunCalls(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanDecideSlots reports whether v may approve or reject the slots centres propose.
func CanDecideSlots(v viewer.Viewer) bool { return CanRunCalls(v) }

// CanDecideEligibility reports whether v may mark submitted applications eligible or not.
func CanDecideEligibility(v viewer.Viewer) bool { return CanRunCalls(v) }

// CanExportApplications reports whether v may export a call's applications (CSV).
func CanExportApplications(v viewer.Viewer) bool { return CanRunCalls(v) }

// CanOfferSlots reports whether v may offer and withdraw the slots of a host centre whose
// coordinators isCoordinator recognises: the centre's coordinators while they hold
// HOST_COORDINATOR (ActsForCentre), and those who run calls. Its privacy twin is
// AllowCoordinatorSlotWrite.
func CanOfferSlots(v viewer.Viewer, isCoordinator func(userID string) bool) bool {
	return CanRunCalls(v) || ActsForCentre(v, isCoordinator)
}

// CanRankApplicants reports whether v may submit a host centre's ranking of its applicants
// (the same people as CanOfferSlots). Its privacy twin is AllowCoordinatorRankingWrite.
func CanRankApplicants(v viewer.Viewer, isCoordinator func(userID string) bool) bool {
	return CanRunCalls(v) || ActsForCentre(v, isCoordinator)
}

// CanApply reports whether v may apply to calls: a signed-in person holding TRAINEE. A
// person whose role was revoked still reads their applications (their data), but no longer
// changes them.
func CanApply(v viewer.Viewer) bool { return v.HasRole(viewer.RoleTrainee) && v.UserID != "" }

// CanEditApplication reports whether v may change the application of trainee (its draft,
// documents, referee requests; submit or withdraw it): the trainee themself, while they
// may apply. Staff decide applications (CanDecideEligibility); they do not write a
// trainee's application for them.
func CanEditApplication(v viewer.Viewer, trainee string) bool {
	return CanApply(v) && v.UserID == trainee
}

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

// AllowCoordinatorSlotWrite is CanOfferSlots for a centre's coordinators as a privacy
// rule: a create is allowed to a viewer holding HOST_COORDINATOR (the service asks
// CanOfferSlots first with the centre's coordinators, which a privacy rule cannot query),
// and an update is narrowed to the slots of the centres they coordinate (coordinatedBy),
// so for any other slot it matches no row. Deletes are not allowed.
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
		f.Where(coordinatedBy(v))
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
		f.Where(entql.Or(entql.FieldEQ("trainee_id", v.UserID), hostVisibleApplication(v)))
	default:
		f.Where(entql.FieldEQ("trainee_id", v.UserID))
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
// read them; and for a host coordinator also the documents, less referee letters, of the
// applications they may see.
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
	if viewer.FromContext(ctx).HasRole(viewer.RoleHostCoordinator) {
		hosted := entql.And(entql.HasEdgeWith("application", hostVisibleApplication(viewer.FromContext(ctx))), entql.FieldNEQ("kind", "REFEREE_LETTER"))
		f.Where(entql.Or(own, hosted))
		return privacy.Allow
	}
	f.Where(own)
	return privacy.Allow
})

// AllowOwnApplicationWrite is CanEditApplication as a privacy rule: a viewer who may apply
// (CanApply) creates an application only with themself as trainee_id, and updates only
// their own (the update is narrowed to rows whose trainee_id is the viewer, so anyone
// else's matches no row).
var AllowOwnApplicationWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanApply(v) {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		if owner, ok := m.Field("trainee_id"); ok {
			if id := reflect.ValueOf(owner); id.Kind() == reflect.String && CanEditApplication(v, id.String()) {
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

// AllowByOwnApplication is CanEditApplication for what hangs off an application (its
// choices, documents, referee requests): creates are allowed to a viewer who may apply,
// after the service has asked CanEditApplication of the application (a rule cannot query
// that); updates and deletes are narrowed to rows of their own applications.
var AllowByOwnApplication = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !CanApply(v) {
		return privacy.Skip
	}
	if m.Op().Is(ent.OpCreate) {
		return privacy.Allow
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	f.Where(ownApplication(v.UserID))
	return privacy.Allow
})

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

// AllowCoordinatorRankingWrite is CanRankApplicants for a centre's coordinators as a
// privacy rule: creates by a viewer holding HOST_COORDINATOR (the service asks
// CanRankApplicants with the centre's coordinators first), updates and deletes narrowed to
// the centres they coordinate.
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

// refereeLinkKey carries the referee request whose upload link the caller presented.
type refereeLinkKey struct{}

// WithRefereeLink returns ctx carrying the proof that its caller holds the upload link of
// the referee request requestID: the programme service puts it there once it has found the
// request by the hash of the link's secret (the referee's only credential, whoever is
// signed in) and the transition table has allowed the upload. AllowRefereeLetter grants
// exactly that upload, so the letter is written as the link's holder, not as the system.
func WithRefereeLink(ctx context.Context, requestID string) context.Context {
	return context.WithValue(ctx, refereeLinkKey{}, requestID)
}

// AllowRefereeLetter lets the holder of a referee link (WithRefereeLink) write what the
// link is for and nothing else: mark its own request received (an update of received_at
// narrowed to that request) and create a REFEREE_LETTER document for that request. Any
// other write of a RefereeRequest or Document with a link in the context is refused; a
// context without one skips. It comes before the rules of the trainee, who may hold the
// link to their own request.
var AllowRefereeLetter = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	id, _ := ctx.Value(refereeLinkKey{}).(string)
	if id == "" {
		return privacy.Skip
	}
	switch {
	case m.Type() == "RefereeRequest" && m.Op().Is(ent.OpUpdate|ent.OpUpdateOne):
		for _, name := range m.Fields() {
			if name != "received_at" && name != "updated_at" {
				return privacy.Denyf("a referee link only marks its request received")
			}
		}
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(entql.FieldEQ("id", id))
		return privacy.Allow
	case m.Type() == "Document" && m.Op().Is(ent.OpCreate):
		req, _ := m.Field("referee_request_id")
		kind, _ := m.Field("kind")
		if stringOf(req) == id && stringOf(kind) == "REFEREE_LETTER" {
			return privacy.Allow
		}
	}
	return privacy.Denyf("a referee link uploads only its own letter")
})

// stringOf is v's value when it is of a string kind ("" otherwise).
func stringOf(v any) string {
	if s := reflect.ValueOf(v); s.IsValid() && s.Kind() == reflect.String {
		return s.String()
	}
	return ""
}
