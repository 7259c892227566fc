package access

import (
	"context"
	"slices"

	"github.com/gocart-coalition/coalition/internal/apperr"
	"github.com/gocart-coalition/coalition/internal/viewer"
)

// CanManageUsers reports whether v may create, disable and change the roles of users and
// mint or revoke API tokens. The ent policies of User and ApiToken allow exactly this set
// of viewers (AllowStaff, AllowSystem); services call it to refuse early, before they
// validate input.
func CanManageUsers(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanReadAudit reports whether v may page through the audit trail.
func CanReadAudit(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanSeePrivateUserFields reports whether v may see the private fields of the user with
// id userID (email, roles, disabled, last sign-in): the user themself and staff.
func CanSeePrivateUserFields(v viewer.Viewer, userID string) bool {
	return v.IsStaff() || v.IsSystem() || (v.Kind == viewer.User && v.UserID == userID)
}

// CanManageDirectory reports whether v may create and change organisations, create host
// centres and assign their coordinators, and record affiliations.
func CanManageDirectory(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// CanManageWorkingGroups reports whether v may create, change and archive working groups,
// invite members and end memberships.
func CanManageWorkingGroups(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// Require refuses a caller for whom can is false, before the service validates anything
// (so that a caller without the right learns nothing from the answers):
// UNAUTHENTICATED for an anonymous caller, FORBIDDEN for anyone else. action completes
// "sign in to …" and "only coalition staff can …".
func Require(ctx context.Context, can func(viewer.Viewer) bool, action string) error {
	v := viewer.FromContext(ctx)
	switch {
	case v.IsAnonymous():
		return apperr.New(apperr.Unauthenticated, "sign in to %s", action)
	case !can(v):
		return apperr.New(apperr.Forbidden, "only coalition staff can %s", action)
	}
	return nil
}

// CanRunCalls reports whether v may create calls, move them on and review slots (staff).
func CanRunCalls(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// ActsForCentre reports whether v acts for a host centre: v holds the HOST_COORDINATOR
// role now and isCoordinator says v's user is one of the centre's coordinators. It is the
// services' twin of the privacy rules' coordinatedBy: revoking the role removes the power.
func ActsForCentre(v viewer.Viewer, isCoordinator func(userID string) bool) bool {
	return v.HasRole(viewer.RoleHostCoordinator) && v.UserID != "" && isCoordinator(v.UserID)
}

// CanActForCentre reports whether v may do what a centre's coordinators do for it (offer
// and withdraw slots, rank applicants): staff, the system, or ActsForCentre.
func CanActForCentre(v viewer.Viewer, isCoordinator func(userID string) bool) bool {
	return v.IsStaff() || v.IsSystem() || ActsForCentre(v, isCoordinator)
}

// HearsForCentre reports whether a coordinator of a centre, with these roles, still
// receives the centre's news (slot decisions, who is coming, placements): only while they
// hold HOST_COORDINATOR, since that news names trainees.
func HearsForCentre(roles []viewer.Role) bool {
	return slices.Contains(roles, viewer.RoleHostCoordinator)
}
