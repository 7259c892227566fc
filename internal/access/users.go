package access

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// FilterVisibleUsers narrows a User query to the users the viewer may see: the people
// whose working-group memberships the viewer may see (so a visible membership's non-null
// user resolves: for anonymous viewers, the chairs of public groups), and for a signed-in
// viewer also themself, the coordinators of host centres who consent to being shown as
// their contact (HOST_CONTACT) and those of a centre where the viewer is placed
// (PlacementContacts: the placement contract is the basis), the people who consent to a directory profile
// (DIRECTORY_PROFILE), and the authors and signatories of the policy statements they take part in
// (statementCoParticipants). Everyone else is filtered out rather than denied, so a nested edge (a centre's
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
	statementPeople := statementCoParticipants(v.UserID)
	contacts := hostContacts(v)
	profiles := hasCurrentConsent("DIRECTORY_PROFILE")
	if v.HasRole(viewer.RoleHostCoordinator) {
		applicants := entql.HasEdgeWith("applications", hostVisibleApplication(v))
		f.Where(entql.Or(entql.FieldEQ("id", v.UserID), contacts, profiles, members, applicants, statementPeople))
		return privacy.Allow
	}
	f.Where(entql.Or(entql.FieldEQ("id", v.UserID), contacts, profiles, members, statementPeople))
	return privacy.Allow
})

// FilterOwnedByViewer narrows a query to rows whose user_id is the viewer.
var FilterOwnedByViewer = queryRule(func(ctx context.Context, q ent.Query) error {
	return filterEQ(ctx, q, "user_id")
})

// CanManageUsers reports whether v may create, disable and change the roles of users and
// mint or revoke API tokens: staff, and the system (the CLI's `user create`). The ent
// policies of User and ApiToken allow writes by AllowWhen(CanManageUsers); internal/auth
// calls it (access.Require) to refuse early, before it validates input.
func CanManageUsers(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// CanReadAudit reports whether v may page through the audit trail.
func CanReadAudit(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanSeePrivateUserFields reports whether v may see the private fields of the user with
// id userID (email, roles, disabled, last sign-in): the user themself and staff. A trainee
// also sees the email address of the coordinators of a centre where they are placed
// (PlacementContacts; graph's User.email applies it).
func CanSeePrivateUserFields(v viewer.Viewer, userID string) bool {
	return v.IsStaff() || v.IsSystem() || (v.Kind == viewer.User && v.UserID == userID)
}
