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
