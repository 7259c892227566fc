package access

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

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

// The rules of match runs and placements, each written once: the ent policies of MatchRun,
// MatchOverride and Placement and the services (internal/matchrun, internal/placement)
// use these, and no service decides on its own.

// CanRunMatch reports whether v may run, compare, explain and publish a call's match, pin
// or exclude pairs, and read its runs, statistics and placement exports: staff (and the
// system).
func CanRunMatch(v viewer.Viewer) bool { return v.IsStaff() || v.IsSystem() }

// AllowMatchRunners is CanRunMatch as a privacy rule (MatchRun, MatchOverride). It comes
// after AllowSystem, which refuses the writes of the read-only system viewer.
var AllowMatchRunners = privacy.ContextQueryMutationRule(func(ctx context.Context) error {
	if CanRunMatch(viewer.FromContext(ctx)) {
		return privacy.Allow
	}
	return privacy.Skip
})

// PlacementParties are who a placement concerns: its trainee, and whether a user is
// listed as a coordinator of its host centre (read as a fact: viewer.ForFacts).
type PlacementParties struct {
	TraineeID     string
	IsCoordinator func(userID string) bool
}

func (p PlacementParties) coordinator(id string) bool {
	return p.IsCoordinator != nil && p.IsCoordinator(id)
}

// OwnsPlacement reports whether v is the placement's trainee, whatever their roles: a
// person keeps reading their own placement, its report and their match outcome after the
// TRAINEE role is revoked, but acts on it only through the role (ActsAsPlacementTrainee).
// The twin of FilterVisiblePlacements' trainee_id filter.
func OwnsPlacement(v viewer.Viewer, traineeID string) bool {
	return v.Kind == viewer.User && v.UserID != "" && v.UserID == traineeID
}

// ActsAsPlacementTrainee reports whether v acts as the placement's trainee: v is its
// trainee and holds the TRAINEE role now.
func ActsAsPlacementTrainee(v viewer.Viewer, p PlacementParties) bool {
	return v.HasRole(viewer.RoleTrainee) && OwnsPlacement(v, p.TraineeID)
}

// CanSeePlacement reports whether v may read a placement: staff, the system, its trainee,
// and its centre's coordinators holding HOST_COORDINATOR (the twin of
// FilterVisiblePlacements).
func CanSeePlacement(v viewer.Viewer, p PlacementParties) bool {
	return CanRunMatch(v) || OwnsPlacement(v, p.TraineeID) || ActsForCentre(v, p.coordinator)
}

// CanAnswerOffer reports whether v may accept or decline an offer (or give up an accepted
// placement): the trainee, through the role.
func CanAnswerOffer(v viewer.Viewer, p PlacementParties) bool { return ActsAsPlacementTrainee(v, p) }

// CanAnswerDateChange reports whether v may accept or decline dates a host proposed: the
// trainee, through the role.
func CanAnswerDateChange(v viewer.Viewer, p PlacementParties) bool {
	return ActsAsPlacementTrainee(v, p)
}

// CanReportOnPlacement reports whether v may write a placement's report: the trainee,
// through the role.
func CanReportOnPlacement(v viewer.Viewer, p PlacementParties) bool {
	return ActsAsPlacementTrainee(v, p)
}

// CanConfirmPlacement reports whether v may confirm an accepted placement: staff or a
// coordinator acting for its centre (CanActForCentre).
func CanConfirmPlacement(v viewer.Viewer, p PlacementParties) bool {
	return CanActForCentre(v, p.coordinator)
}

// CanCancelPlacement reports whether v may cancel a held placement: staff or a coordinator
// acting for its centre.
func CanCancelPlacement(v viewer.Viewer, p PlacementParties) bool {
	return CanActForCentre(v, p.coordinator)
}

// CanProposeDates reports whether v may propose other dates: staff or a coordinator acting
// for its centre.
func CanProposeDates(v viewer.Viewer, p PlacementParties) bool {
	return CanActForCentre(v, p.coordinator)
}

// CanEvaluatePlacement reports whether v may write a placement's evaluation: a coordinator
// acting for its centre (staff do not evaluate).
func CanEvaluatePlacement(v viewer.Viewer, p PlacementParties) bool {
	return ActsForCentre(v, p.coordinator)
}

// CanReadPlacementReport reports whether v may read the trainee's report: staff, the
// system and the trainee (whatever their roles now).
func CanReadPlacementReport(v viewer.Viewer, p PlacementParties) bool {
	return CanRunMatch(v) || OwnsPlacement(v, p.TraineeID)
}

// CanReadPlacementEvaluation reports whether v may read the host's evaluation: staff, the
// system and the coordinators acting for the centre.
func CanReadPlacementEvaluation(v viewer.Viewer, p PlacementParties) bool {
	return CanRunMatch(v) || ActsForCentre(v, p.coordinator)
}

// CanSeeMatchOutcome reports whether v may read an application's published match outcome
// (its placement or the reasons it got none): staff, the system and the application's
// trainee; hosts see placements, not outcomes.
func CanSeeMatchOutcome(v viewer.Viewer, traineeID string) bool {
	return CanRunMatch(v) || OwnsPlacement(v, traineeID)
}
