package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

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

// CanManageWorkingGroups reports whether v may create, change and archive working groups,
// invite members and end memberships, and manage every group's meetings: staff and the
// system. The ent policies of WorkingGroup, Membership and Meeting allow writes by
// AllowWhen(CanManageWorkingGroups); internal/groups refuses early with it.
func CanManageWorkingGroups(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }
