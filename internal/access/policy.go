package access

import (
	"context"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/ent/schema/vocab"
	"github.com/gocart-coalition/coalition/internal/apperr"
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

// AllowSystem allows background work acting as the explicit system viewer, and the
// read-only system viewer of viewer.ForFacts to read; it refuses the latter's writes.
var AllowSystem privacy.QueryMutationRule = systemRule{}

type systemRule struct{}

func (systemRule) EvalQuery(ctx context.Context, _ ent.Query) error {
	if viewer.FromContext(ctx).IsSystem() {
		return privacy.Allow
	}
	return privacy.Skip
}

func (systemRule) EvalMutation(ctx context.Context, m ent.Mutation) error {
	switch v := viewer.FromContext(ctx); {
	case v.IsSystem() && v.ReadOnly:
		return privacy.Denyf("%s: a read-only system viewer (viewer.ForFacts) cannot write; write as the person acting", m.Type())
	case v.IsSystem():
		return privacy.Allow
	}
	return privacy.Skip
}

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

// AllowAll allows any viewer, anonymous included (public reads).
var AllowAll = privacy.ContextQueryMutationRule(func(context.Context) error { return privacy.Allow })

// today is the viewer's date in the coalition's zone, from the request's clock.
func today(ctx context.Context) string { return string(vocab.Today(clock.Now(ctx))) }

// nothing is a predicate no row matches (ids are never empty).
var nothing = entql.FieldEQ("id", "")

// signedIn returns the viewer's user id, or "" for anyone who is not a signed-in user.
func signedIn(ctx context.Context) string {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User {
		return ""
	}
	return v.UserID
}

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

// Require refuses a caller for whom can is false, before the service validates anything
// (so that a caller without the right learns nothing from the answers):
// UNAUTHENTICATED for an anonymous caller, FORBIDDEN for anyone else. action completes
// "sign in to …" and "only coalition staff can …".
func Require(ctx context.Context, can func(viewer.Viewer) bool, action string) error {
	return RequireThat(ctx, can(viewer.FromContext(ctx)), action, "coalition staff can "+action)
}

// RequireSignedIn refuses an anonymous caller (UNAUTHENTICATED, "sign in to " + action):
// the first half of RequireThat, for a service that must load the facts of its rule
// (a centre's coordinators) before it can ask it.
func RequireSignedIn(ctx context.Context, action string) error {
	if viewer.FromContext(ctx).IsAnonymous() {
		return apperr.New(apperr.Unauthenticated, "sign in to %s", action)
	}
	return nil
}

// RequireThat is Require for a rule whose answer the service has already asked (a
// predicate that needs facts besides the viewer, such as a centre's coordinators):
// UNAUTHENTICATED ("sign in to " + action) for an anonymous caller, FORBIDDEN ("only " +
// only) when allowed is false, nil otherwise.
func RequireThat(ctx context.Context, allowed bool, action, only string) error {
	switch {
	case viewer.FromContext(ctx).IsAnonymous():
		return apperr.New(apperr.Unauthenticated, "sign in to %s", action)
	case !allowed:
		return apperr.New(apperr.Forbidden, "only %s", only)
	}
	return nil
}

// AllowWhen allows the viewers for whom can is true, and skips for everyone else: the
// privacy rule of a predicate that needs nothing but the viewer (CanRunCalls, …), so the
// ent policy and the service decide with the same function.
func AllowWhen(can func(viewer.Viewer) bool) privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if can(viewer.FromContext(ctx)) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}
