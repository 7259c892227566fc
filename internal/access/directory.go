package access

import (
	"context"
	"slices"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

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

// CanManageDirectory reports whether v may create and change organisations, create host
// centres and assign their coordinators, and record affiliations: staff and the system.
// The ent policies of Organisation, HostCentre and Affiliation allow writes by
// AllowWhen(CanManageDirectory); internal/directory refuses early with it.
func CanManageDirectory(v viewer.Viewer) bool { return v.IsStaff() || runsAsSystem(v) }

// MayEditHostCentres reports whether v may edit the profile of some host centre: those who
// manage the directory, and anyone holding HOST_COORDINATOR (which centre is
// CanEditHostCentre's question). internal/directory asks it before loading the centre, so
// that anyone else is refused without learning whether the centre exists.
func MayEditHostCentres(v viewer.Viewer) bool {
	return CanManageDirectory(v) || v.HasRole(viewer.RoleHostCoordinator)
}

// CanEditHostCentre reports whether v may edit the profile of a centre (not its
// coordinators or organisation): those who manage the directory, and ActsForCentre (one
// of its coordinators, holding HOST_COORDINATOR now). The HostCentre policy's
// AllowCoordinatorProfileEdit is the same rule for the privacy layer.
func CanEditHostCentre(v viewer.Viewer, isCoordinator func(userID string) bool) bool {
	return CanManageDirectory(v) || ActsForCentre(v, isCoordinator)
}

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
