// Package access owns who may read and write what: small, named ent privacy rules that
// every schema's Policy() is assembled from. Deny by default: a policy whose rules all
// skip denies. Reads prefer filter rules (narrow the query to the viewer's own rows) over
// deny rules, because a deny on a nested edge would fail the whole root field
// (ARCHITECTURE §6.8).
package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/clock"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// Query builds a read policy from rules, denying when none decides.
func Query(rules ...privacy.QueryRule) privacy.QueryPolicy {
	return append(privacy.QueryPolicy(rules), privacy.AlwaysDenyRule())
}

// Mutation builds a write policy from rules, denying when none decides.
func Mutation(rules ...privacy.MutationRule) privacy.MutationPolicy {
	return append(privacy.MutationPolicy(rules), privacy.AlwaysDenyRule())
}

// Policy joins a read and a write policy.
func Policy(q privacy.QueryPolicy, m privacy.MutationPolicy) ent.Policy {
	return privacy.Policy{Query: q, Mutation: m}
}

// AllowSystem allows background work acting as the explicit system viewer.
var AllowSystem = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx).IsSystem() {
		return privacy.Allow
	}
	return privacy.Skip
})

// AllowStaff allows coalition staff.
var AllowStaff = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if viewer.FromContext(ctx).IsStaff() {
		return privacy.Allow
	}
	return privacy.Skip
})

// DenyUpdateOrDelete refuses any change to existing rows (append-only tables), whoever asks.
var DenyUpdateOrDelete = privacy.MutationRuleFunc(func(_ context.Context, m ent.Mutation) error {
	if m.Op().Is(ent.OpUpdate | ent.OpUpdateOne | ent.OpDelete | ent.OpDeleteOne) {
		return privacy.Denyf("%s is append-only", m.Type())
	}
	return privacy.Skip
})

// queryRule adapts a function to privacy.QueryRule (the base privacy package has no
// func adapter for queries; the generated one would import ent and make a cycle).
type queryRule func(context.Context, ent.Query) error

// EvalQuery implements privacy.QueryRule.
func (f queryRule) EvalQuery(ctx context.Context, q ent.Query) error { return f(ctx, q) }

// entqlFilter is what the generated XQuery.Filter() methods return (FeatureEntQL).
type entqlFilter interface {
	Where(entql.P)
}

// filterOf returns the entql filter of a generated query or mutation. The generated Filter methods
// return a concrete type per schema, so they are found by name: this package cannot
// import the generated code (the schema imports this package).
func filterOf(q any) (entqlFilter, bool) {
	m := reflect.ValueOf(q).MethodByName("Filter")
	if !m.IsValid() || m.Type().NumIn() != 0 || m.Type().NumOut() != 1 {
		return nil, false
	}
	f, ok := m.Call(nil)[0].Interface().(entqlFilter)
	return f, ok
}

// filterEQ narrows q to rows whose column equals the signed-in viewer's user id, and
// allows the narrowed read. Anonymous and system viewers are not narrowed (they skip).
func filterEQ(ctx context.Context, q ent.Query, column string) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		return privacy.Skip
	}
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(entql.FieldEQ(column, v.UserID))
	return privacy.Allow
}

// FilterVisibleUsers narrows a User query to the users the viewer may see: the people
// whose working-group memberships the viewer may see (so a visible membership's non-null
// user resolves: for anonymous viewers, the chairs of public groups), and for a signed-in
// viewer also themself and the coordinators of host centres (their public directory
// entry). Everyone else is filtered out rather than denied, so a nested edge (a centre's
// coordinators) reads as empty instead of failing the whole field. Private fields stay
// behind CanSeePrivateUserFields.
var FilterVisibleUsers = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	members := entql.HasEdgeWith("memberships", visibleMemberships(v, today(ctx)))
	if v.Kind != viewer.User || v.UserID == "" {
		f.Where(members)
		return privacy.Allow
	}
	if v.HasRole(viewer.RoleHostCoordinator) {
		applicants := entql.HasEdgeWith("applications", hostVisibleApplication(v))
		f.Where(entql.Or(entql.FieldEQ("id", v.UserID), entql.HasEdge("coordinated_centres"), members, applicants))
		return privacy.Allow
	}
	f.Where(entql.Or(entql.FieldEQ("id", v.UserID), entql.HasEdge("coordinated_centres"), members))
	return privacy.Allow
})

// FilterOwnedByViewer narrows a query to rows whose user_id is the viewer.
var FilterOwnedByViewer = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterEQ(ctx, q, "user_id")
})

// AllowAll allows any viewer, anonymous included (public reads).
var AllowAll = privacy.ContextQueryMutationRule(func(context.Context) error { return privacy.Allow })

// FilterActive narrows a query to active rows for everyone but staff and the system
// (who are allowed before this rule runs).
var FilterActive = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(entql.FieldEQ("active", true))
	return privacy.Allow
})

// NarrowToActiveOrganisation narrows a query of rows that belong to an organisation (host
// centres, affiliations) to those whose organisation is active, and skips: the rules after
// it decide whether the narrowed read is allowed. Put it after AllowSystem and AllowStaff,
// who see inactive organisations and everything attached to them. Without it a hidden
// organisation would show through its centres (and their non-null `organisation` field
// would fail to resolve for everyone else).
var NarrowToActiveOrganisation = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(entql.HasEdgeWith("organisation", entql.FieldEQ("active", true)))
	return privacy.Skip
})

// AllowCoordinatorProfileEdit lets a host coordinator update the profile of a centre they
// coordinate: one centre at a time, profile fields only (not its coordinators or
// organisation). The update is narrowed to centres whose coordinators include the viewer,
// so for any other centre it matches no row and fails as not found.
var AllowCoordinatorProfileEdit = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if !v.HasRole(viewer.RoleHostCoordinator) || !m.Op().Is(ent.OpUpdateOne) {
		return privacy.Skip
	}
	if len(m.AddedEdges()) > 0 || len(m.RemovedEdges()) > 0 || len(m.ClearedEdges()) > 0 {
		return privacy.Denyf("a coordinator cannot change the coordinators or organisation of a centre")
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	f.Where(entql.HasEdgeWith("coordinators", entql.FieldEQ("id", v.UserID)))
	return privacy.Allow
})

// today is the viewer's date in the coalition's zone, from the request's clock.
func today(ctx context.Context) string { return string(vocab.Today(clock.Now(ctx))) }

// CurrentMembership is the entql predicate of a membership that is current on day: accepted,
// within its term, and not ended early before day. Status follows the dates, so a term that
// has ended stops counting without anyone touching the row.
func CurrentMembership(day string) entql.P {
	return entql.And(
		entql.FieldEQ("answer", "ACCEPTED"),
		entql.FieldLTE("term_start", day),
		entql.FieldGTE("term_end", day),
		entql.Or(entql.FieldNil("ended_on"), entql.FieldGTE("ended_on", day)),
	)
}

// visibleMemberships is the predicate of the memberships v may read on day (staff and the
// system are allowed before it is needed):
//
//   - anonymous: the current CHAIR and CO_CHAIR memberships of PUBLIC groups;
//   - a signed-in user: their own memberships in any state, the current memberships of
//     PUBLIC groups, and the current memberships of groups where they are a current member.
func visibleMemberships(v viewer.Viewer, day string) entql.P {
	current := CurrentMembership(day)
	public := entql.HasEdgeWith("group", entql.FieldEQ("visibility", "PUBLIC"))
	if v.Kind != viewer.User || v.UserID == "" {
		return entql.And(current, public, entql.FieldIn("role", "CHAIR", "CO_CHAIR"))
	}
	coMembers := entql.HasEdgeWith("group", entql.HasEdgeWith("memberships",
		entql.And(entql.FieldEQ("user_id", v.UserID), CurrentMembership(day))))
	return entql.Or(
		entql.FieldEQ("user_id", v.UserID),
		entql.And(current, entql.Or(public, coMembers)),
	)
}

// FilterVisibleGroups narrows WorkingGroup reads: PUBLIC groups for everyone, and for a
// signed-in viewer also every group they have a membership of, in any state (a current
// member, an invitee, someone who declined or whose term is over). The last part goes
// beyond "current members and invitees" on purpose: a person always sees their own
// memberships, and a membership's group is a non-null field, so hiding the group of an
// old membership would fail the person's own list. They still see nobody else in the
// group once they are no longer a current member (FilterVisibleMemberships).
var FilterVisibleGroups = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	public := entql.FieldEQ("visibility", "PUBLIC")
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		f.Where(public)
		return privacy.Allow
	}
	f.Where(entql.Or(public, entql.HasEdgeWith("memberships", entql.FieldEQ("user_id", v.UserID))))
	return privacy.Allow
})

// FilterVisibleMemberships narrows Membership reads to visibleMemberships on the
// request's date: anonymous viewers see the current chairs and co-chairs of public groups;
// a signed-in user sees their own memberships, the current members of public groups and
// their co-members (current members of a group where they are a current member).
var FilterVisibleMemberships = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	f.Where(visibleMemberships(viewer.FromContext(ctx), today(ctx)))
	return privacy.Allow
})

// AllowInviteeAnswer lets the invitee answer their own pending invitation: one membership
// at a time, the answer fields only. The update is narrowed to the viewer's pending
// memberships, so for anyone else's it matches no row and fails as not found.
var AllowInviteeAnswer = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" || !m.Op().Is(ent.OpUpdateOne) {
		return privacy.Skip
	}
	for _, f := range m.Fields() {
		switch f {
		case "answer", "answered_at", "updated_at":
		default:
			return privacy.Denyf("an invitee can only answer the invitation, not change %s", f)
		}
	}
	if len(m.AddedEdges()) > 0 || len(m.RemovedEdges()) > 0 || len(m.ClearedEdges()) > 0 || len(m.ClearedFields()) > 0 {
		return privacy.Denyf("an invitee can only answer the invitation")
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	f.Where(entql.And(entql.FieldEQ("user_id", v.UserID), entql.FieldEQ("answer", "PENDING")))
	return privacy.Allow
})

// nothing is a predicate no row matches (ids are never empty).
var nothing = entql.FieldEQ("id", "")

// currentMemberOfGroup is the predicate of a working group where user is a current member on day.
func currentMemberOfGroup(user, day string) entql.P {
	return entql.HasEdgeWith("memberships", entql.And(entql.FieldEQ("user_id", user), CurrentMembership(day)))
}

// FilterVisibleMeetings narrows Meeting reads: a signed-in viewer sees the meetings of the
// groups where they are a current member, and any meeting they hold an invitation to (a
// member whose term starts before the meeting) or attended (their own history, after
// their term); anonymous viewers see none. Meetings are filtered rather than denied, so a
// public group's meetings read as an empty list for those who may not see them.
var FilterVisibleMeetings = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		f.Where(nothing)
		return privacy.Allow
	}
	me := entql.FieldEQ("id", v.UserID)
	f.Where(entql.Or(
		entql.HasEdgeWith("group", currentMemberOfGroup(v.UserID, today(ctx))),
		entql.HasEdgeWith("invitees", me),
		entql.HasEdgeWith("attendees", me),
	))
	return privacy.Allow
})

// FilterVisibleDeclarations narrows ConflictOfInterestDeclaration reads: a signed-in
// viewer sees their own declarations and those of the people they currently sit with in a
// working group (both current members of the same group); anonymous viewers see none.
var FilterVisibleDeclarations = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		f.Where(nothing)
		return privacy.Allow
	}
	day := today(ctx)
	coMember := entql.HasEdgeWith("user", entql.HasEdgeWith("memberships", entql.And(
		CurrentMembership(day),
		entql.HasEdgeWith("group", currentMemberOfGroup(v.UserID, day)),
	)))
	f.Where(entql.Or(entql.FieldEQ("user_id", v.UserID), coMember))
	return privacy.Allow
})

// AllowOwnDeclaration lets a signed-in person file (create) their own conflict-of-interest
// declaration, and nothing else: no edits, no one else's.
var AllowOwnDeclaration = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" || !m.Op().Is(ent.OpCreate) {
		return privacy.Skip
	}
	if owner, ok := m.Field("user_id"); ok {
		if id := reflect.ValueOf(owner); id.Kind() == reflect.String && id.String() == v.UserID {
			return privacy.Allow
		}
	}
	return privacy.Denyf("a person can only file their own declaration")
})

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

// signedIn returns the viewer's user id, or "" for anyone who is not a signed-in user.
func signedIn(ctx context.Context) string {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User {
		return ""
	}
	return v.UserID
}

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

// coordinates is the predicate of rows whose host_centre the user coordinates. It says
// nothing of roles: a rule that grants through it must also check that the viewer holds
// HOST_COORDINATOR (coordinatedBy does both), because being listed as a centre's
// coordinator outlives the role (revoking the role does not edit the directory).
func coordinates(user string) entql.P {
	return entql.HasEdgeWith("host_centre", entql.HasEdgeWith("coordinators", entql.FieldEQ("id", user)))
}

// coordinatedBy is the predicate of rows of the centres v coordinates, when v holds the
// HOST_COORDINATOR role now; nothing otherwise. Every power that coordinating a centre
// gives goes through the role, so revoking the role removes all of them, reads included.
func coordinatedBy(v viewer.Viewer) entql.P {
	if !v.HasRole(viewer.RoleHostCoordinator) || v.UserID == "" {
		return nothing
	}
	return coordinates(v.UserID)
}

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

// createByRoleNarrowOthers is the rule of rows a role writes only for what it owns, where
// ownership is not a column of the row but a join a rule cannot check on create: a create
// is allowed by role (the service checks ownership first), and updates and deletes are
// narrowed by own(viewer) so anything else matches no row.
func createByRoleNarrowOthers(role viewer.Role, own func(user string) entql.P) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
		v := viewer.FromContext(ctx)
		if !v.HasRole(role) {
			return privacy.Skip
		}
		if m.Op().Is(ent.OpCreate) {
			return privacy.Allow
		}
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(own(v.UserID))
		return privacy.Allow
	})
}

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

// FilterVisiblePlacements narrows Placement reads (staff are allowed before it): a trainee
// sees their own placements, a host coordinator those at the centres they coordinate;
// anonymous viewers none.
var FilterVisiblePlacements = queryRule(func(ctx context.Context, q ent.Query) error {
	f, ok := filterOf(q)
	if !ok {
		return privacy.Denyf("query %T cannot be filtered", q)
	}
	v := viewer.FromContext(ctx)
	switch {
	case v.Kind != viewer.User:
		f.Where(nothing)
	case v.HasRole(viewer.RoleHostCoordinator):
		f.Where(entql.Or(entql.FieldEQ("trainee_id", v.UserID), coordinatedBy(v)))
	default:
		f.Where(entql.FieldEQ("trainee_id", v.UserID))
	}
	return privacy.Allow
})

// AllowPlacementParties lets the parties to a placement update it: its trainee (holding
// the TRAINEE role), and the coordinators of its host centre (holding HOST_COORDINATOR).
// The update is narrowed to those rows, so anyone else's matches none; creates and
// deletes are not theirs.
var AllowPlacementParties = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" || !(m.Op().Is(ent.OpUpdateOne) || m.Op().Is(ent.OpUpdate)) {
		return privacy.Skip
	}
	trainee, host := v.HasRole(viewer.RoleTrainee), v.HasRole(viewer.RoleHostCoordinator)
	if !trainee && !host {
		return privacy.Skip
	}
	f, ok := filterOf(m)
	if !ok {
		return privacy.Denyf("mutation %T cannot be filtered", m)
	}
	own := nothing
	if trainee {
		own = entql.FieldEQ("trainee_id", v.UserID)
	}
	f.Where(entql.Or(own, coordinatedBy(v)))
	return privacy.Allow
})
