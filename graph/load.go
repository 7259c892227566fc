package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/application"
	"github.com/gocart-coalition/coalition/ent/hostslot"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
)

// Batched loads for resolvers that return records inside plain (non-ent) types such as
// SlotAssignment or MatchReason: each loads every record it needs with one IDIn query, and
// entgql field collection loads the edges the request selects under them (trainee,
// hostCentre, …) with one query per edge, so a request is a constant number of SQL
// statements however many records it returns.

// childContext returns ctx with the field context of the field name selected under the
// current field on an object of type typeName (selections under several aliases merged),
// so that entgql's CollectFields collects what the request selects there. ok is false when
// the request does not select that field.
func childContext(ctx context.Context, typeName, name string) (context.Context, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return ctx, true
	}
	op := graphql.GetOperationContext(ctx)
	var (
		merged graphql.CollectedField
		found  bool
	)
	for _, f := range graphql.CollectFields(op, fc.Field.Selections, []string{typeName}) {
		if f.Name != name {
			continue
		}
		if !found {
			merged, found = f, true
			merged.Selections = append(merged.Selections[:len(merged.Selections):len(merged.Selections)], nil...)
			continue
		}
		merged.Selections = append(merged.Selections, f.Selections...)
	}
	if !found {
		return ctx, false
	}
	return graphql.WithFieldContext(ctx, &graphql.FieldContext{Parent: fc, Object: typeName, Field: merged}), true
}

// applicationsIn loads the applications of ids (in any order) as the caller, with the
// edges the request selects in ctx's field collected.
func (r *Resolver) applicationsIn(ctx context.Context, ids []pulid.ID) (map[pulid.ID]*ent.Application, error) {
	out := make(map[pulid.ID]*ent.Application, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q, err := r.reader(ctx).Application.Query().Where(application.IDIn(ids...)).CollectFields(ctx, "Application")
	if err != nil {
		return nil, err
	}
	all, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range all {
		out[a.ID] = a
	}
	return out, nil
}

// slotsIn loads the slots of ids (in any order) as the caller, with the edges the request
// selects in ctx's field collected.
func (r *Resolver) slotsIn(ctx context.Context, ids []pulid.ID) (map[pulid.ID]*ent.HostSlot, error) {
	out := make(map[pulid.ID]*ent.HostSlot, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q, err := r.reader(ctx).HostSlot.Query().Where(hostslot.IDIn(ids...)).CollectFields(ctx, "HostSlot")
	if err != nil {
		return nil, err
	}
	all, err := q.All(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		out[s.ID] = s
	}
	return out, nil
}

// pick returns the records of ids in that order; one the batch did not find (deleted, or
// hidden from the caller) is asked for alone with get, for the error that explains why.
func pick[T any](ctx context.Context, byID map[pulid.ID]*T, ids []pulid.ID, get func(context.Context, pulid.ID) (*T, error)) ([]*T, error) {
	out := make([]*T, 0, len(ids))
	for _, id := range ids {
		v, ok := byID[id]
		if !ok {
			var err error
			if v, err = get(ctx, id); err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// appID and callID key batched loads.
func appID(a *ent.Application) pulid.ID { return a.ID }
func callID(c *ent.Call) pulid.ID       { return c.ID }

// pickLive is pick for the ids a match run froze: an application deleted since (retention
// of unsuccessful applications, erasure) is left out instead of failing the whole list;
// the run's statistics come from its stored result and stay as they were.
func pickLive[T any](ctx context.Context, byID map[pulid.ID]*T, ids []pulid.ID, get func(context.Context, pulid.ID) (*T, error)) ([]*T, error) {
	out := make([]*T, 0, len(ids))
	for _, id := range ids {
		v, ok := byID[id]
		if !ok {
			var err error
			if v, err = get(ctx, id); ent.IsNotFound(err) {
				continue
			} else if err != nil {
				return nil, err
			}
		}
		out = append(out, v)
	}
	return out, nil
}
