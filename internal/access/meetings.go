package access

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"entgo.io/ent"
	"entgo.io/ent/entql"
	"entgo.io/ent/privacy"

	"github.com/gocart-coalition/coalition/internal/viewer"
)

// ChairMembership is the entql predicate of the Membership rows by which user runs a
// working group on day: a CHAIR or CO_CHAIR membership that is current on that day
// (CurrentMembership: accepted, within its term, not ended early before day). An invited,
// upcoming, declined, ended or ended-early chair matches nothing, so the power goes with
// the membership's dates, without anyone touching the row.
func ChairMembership(user, day string) entql.P {
	return entql.And(
		entql.FieldEQ("user_id", user),
		entql.FieldIn("role", "CHAIR", "CO_CHAIR"),
		CurrentMembership(day),
	)
}

// CanManageMeetings reports whether the viewer in ctx may schedule, change and cancel the
// meetings of the working group groupID and record their minutes: those who manage
// working groups (CanManageWorkingGroups: staff and the system) always; a signed-in person who chairs or co-chairs the group today (ChairMembership, on
// the date of ctx's clock); nobody else. client is the generated *ent.Client (a
// transaction's client inside a mutation): this package cannot import the generated code,
// so the membership is looked up through it by name, as the viewer (a person always sees
// their own memberships). The Meeting privacy policy (AllowChairsMeetingWrite) and the
// groups service both decide through it.
func CanManageMeetings(ctx context.Context, client any, groupID string) (bool, error) {
	v := viewer.FromContext(ctx)
	switch {
	case CanManageWorkingGroups(v):
		return true, nil
	case v.Kind != viewer.User || v.UserID == "" || groupID == "":
		return false, nil
	}
	return exists(ctx, client, "Membership", entql.And(
		entql.FieldEQ("group_id", groupID),
		ChairMembership(v.UserID, today(ctx)),
	))
}

// RequireManageMeetings refuses, before anything is validated, a caller who may not
// manage the meetings of the working group groupID (CanManageMeetings): UNAUTHENTICATED
// for an anonymous caller, FORBIDDEN for anyone else. action completes "sign in to …".
func RequireManageMeetings(ctx context.Context, client any, groupID, action string) error {
	ok, err := CanManageMeetings(ctx, client, groupID)
	switch {
	case err != nil:
		return fmt.Errorf("check who chairs %s: %w", groupID, err)
	}
	return RequireThat(ctx, ok, action, "coalition staff and the group's chair or co-chair can "+action)
}

// chairedGroup is the predicate of rows whose working group user chairs on day.
func chairedGroup(user, day string) entql.P {
	return entql.HasEdgeWith("group", entql.HasEdgeWith("memberships", ChairMembership(user, day)))
}

// AllowChairsMeetingWrite lets the chairs and co-chairs of a working group write its
// meetings (CanManageMeetings): a create is allowed when the viewer chairs the group the
// meeting is created in (looked up in the mutation's own transaction); an update is
// narrowed to the meetings of the groups the viewer chairs today, so anyone else's
// matches no row and fails as not found. A group_id is immutable, so an update cannot
// move a meeting into another group. Deletes are not theirs; anything else skips.
var AllowChairsMeetingWrite = privacy.MutationRuleFunc(func(ctx context.Context, m ent.Mutation) error {
	v := viewer.FromContext(ctx)
	if v.Kind != viewer.User || v.UserID == "" {
		return privacy.Skip
	}
	switch {
	case m.Op().Is(ent.OpCreate):
		group, _ := m.Field("group_id")
		id := reflect.ValueOf(group)
		if !id.IsValid() || id.Kind() != reflect.String {
			return privacy.Denyf("a meeting needs its group")
		}
		client, err := clientOf(m)
		if err != nil {
			return privacy.Denyf("%v", err)
		}
		ok, err := CanManageMeetings(ctx, client, id.String())
		switch {
		case err != nil:
			return err
		case !ok:
			return privacy.Denyf("only the group's chair or co-chair can schedule its meetings")
		}
		return privacy.Allow
	case m.Op().Is(ent.OpUpdateOne):
		f, ok := filterOf(m)
		if !ok {
			return privacy.Denyf("mutation %T cannot be filtered", m)
		}
		f.Where(chairedGroup(v.UserID, today(ctx)))
		return privacy.Allow
	}
	return privacy.Skip
})

// clientOf returns the generated client of a mutation (its Client method), found by
// name like filterOf.
func clientOf(m ent.Mutation) (any, error) {
	c := reflect.ValueOf(m).MethodByName("Client")
	if !c.IsValid() || c.Type().NumIn() != 0 || c.Type().NumOut() != 1 {
		return nil, fmt.Errorf("mutation %T has no client", m)
	}
	return c.Call(nil)[0].Interface(), nil
}

// exists reports whether a row of the named type (the generated client's field, e.g.
// "Membership") matches p, queried through client as the viewer in ctx (so the type's
// read policy still applies).
func exists(ctx context.Context, client any, typ string, p entql.P) (bool, error) {
	c := reflect.ValueOf(client)
	if c.Kind() == reflect.Pointer && !c.IsNil() {
		c = c.Elem()
	}
	if c.Kind() != reflect.Struct {
		return false, fmt.Errorf("access: %T is not an ent client", client)
	}
	tc := c.FieldByName(typ)
	if !tc.IsValid() || (tc.Kind() == reflect.Pointer && tc.IsNil()) {
		return false, fmt.Errorf("access: %T has no %s client", client, typ)
	}
	qm := tc.MethodByName("Query")
	if !qm.IsValid() || qm.Type().NumIn() != 0 || qm.Type().NumOut() != 1 {
		return false, fmt.Errorf("access: %s client has no Query method", typ)
	}
	q := qm.Call(nil)[0].Interface()
	f, ok := filterOf(q)
	if !ok {
		return false, fmt.Errorf("access: query %T cannot be filtered", q)
	}
	f.Where(p)
	ex, ok := q.(interface {
		Exist(context.Context) (bool, error)
	})
	if !ok {
		return false, errors.New("access: query " + typ + " has no Exist method")
	}
	return ex.Exist(ctx)
}
