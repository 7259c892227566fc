package graph

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"

	"github.com/gocart-coalition/coalition/ent"
	"github.com/gocart-coalition/coalition/ent/schema/pulid"
)

// Batched reads for per-row field resolvers (Application.outcome, Call.matchRuns,
// User.latestDeclaration, …). When such a field is selected on the objects of a list (a
// plain list, or the edges of a connection page), the first of them to resolve it loads
// the field for every object of the list at once, and the others take their part of the
// answer: one batch of statements per list, whatever its length.
//
// The siblings are found in the answer already resolved: gqlgen keeps the list's value in
// its field context (FieldContext.Result) before it resolves the fields of its elements,
// so a resolver reads the objects of the same type in the nearest enclosing list, either
// as its elements or as the nodes of its edges, or, for an object a batch loaded for that
// list (a person's latest declaration), in that batch's results. Unlike a time-window dataloader this is
// deterministic (the statement count of a request never depends on scheduling), and
// unlike gqlgen's own batch resolvers (@goField(batch: true)) it also batches the nodes
// of a connection's edges. A field resolved outside a list, or for an object not found
// in it, loads for that object alone.
//
// The batch query runs with the context of the resolver that runs it, so it reads as the
// request's viewer (privacy applies) and in the mutation's transaction when there is one.
// The memo lives for one operation: WithBatches installs it (the /graphql handler does,
// see internal/server).

type batchesKey struct{}

// batches memoises the batched loads of one operation.
type batches struct {
	mu sync.Mutex
	m  map[batchKey]*batchCall
}

// batchKey names one batched load: the list whose objects it is for, and the path from a
// list element to the field (aliases, so that a field selected twice with different
// arguments is two loads).
type batchKey struct {
	list *graphql.FieldContext
	path string
}

type batchCall struct {
	done    chan struct{}
	parents any // []*P
	results any // []R, one per parent
	err     error
}

// WithBatches returns ctx with an empty per-operation memo of batched loads; a
// graphql.OperationMiddleware (handler.Server.AroundOperations) installs it.
func WithBatches(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, batchesKey{}, &batches{m: map[batchKey]*batchCall{}}))
}

// batched returns the value of the current field for obj. load computes it for a list
// of parents (returning one result per parent, in order); it is called once for obj and
// every object of type *P in the list obj is part of, and once per object outside one.
func batched[P, R any](ctx context.Context, obj *P, load func(ctx context.Context, parents []*P) ([]R, error)) (R, error) {
	var zero R
	alone := func() (R, error) {
		rs, err := load(ctx, []*P{obj})
		if err != nil {
			return zero, err
		}
		return rs[0], nil
	}
	b, _ := ctx.Value(batchesKey{}).(*batches)
	if b == nil {
		return alone()
	}
	list, path := enclosingList(graphql.GetFieldContext(ctx))
	if list == nil {
		return alone()
	}
	key := batchKey{list: list, path: path}
	b.mu.Lock()
	call, running := b.m[key]
	if !running {
		call = &batchCall{done: make(chan struct{})}
		b.m[key] = call
	}
	b.mu.Unlock()
	if !running {
		parents := siblings[P](list.Result)
		if !slices.Contains(parents, obj) {
			// obj was itself loaded by a batch for this list (User.latestDeclaration for
			// ConflictOfInterestDeclaration.current): its siblings are that batch's results.
			if i := strings.LastIndexByte(path, '.'); i > 0 {
				b.mu.Lock()
				prev := b.m[batchKey{list: list, path: path[:i]}]
				b.mu.Unlock()
				if prev != nil {
					<-prev.done
					parents = siblings[P](prev.results)
				}
			}
		}
		call.parents = parents
		func() {
			defer close(call.done) // even on a panic: the siblings waiting get an error
			defer func() {
				if r := recover(); r != nil {
					call.err = fmt.Errorf("batched load panicked: %v", r)
					panic(r)
				}
			}()
			call.results, call.err = load(ctx, parents)
		}()
	} else {
		<-call.done
	}
	if call.err != nil {
		return zero, call.err
	}
	parents, results := call.parents.([]*P), call.results.([]R)
	for i, p := range parents {
		if p == obj && i < len(results) {
			return results[i], nil
		}
	}
	return alone() // not among the siblings (e.g. reached through another path)
}

// enclosingList returns the field context of the nearest list enclosing fc's object, and
// the path (response names) from that list's element to fc; nil when fc is in no list.
func enclosingList(fc *graphql.FieldContext) (*graphql.FieldContext, string) {
	if fc == nil {
		return nil, ""
	}
	var names []string
	for c := fc; c != nil; c = c.Parent {
		if c.Index != nil {
			if c.Parent == nil || c.Parent.Result == nil {
				return nil, ""
			}
			for i, j := 0, len(names)-1; i < j; i, j = i+1, j-1 {
				names[i], names[j] = names[j], names[i]
			}
			return c.Parent, strings.Join(names, ".")
		}
		if c.Field.Field == nil { // an operation's root context has no field
			return nil, ""
		}
		names = append(names, c.Field.Alias)
	}
	return nil, ""
}

// siblings returns the objects of type *P in list (a resolved list value): its elements,
// or the nodes of its elements (a connection's edges).
func siblings[P any](list any) []*P {
	v := reflect.ValueOf(list)
	for v.Kind() == reflect.Pointer && !v.IsNil() && v.Elem().Kind() == reflect.Slice {
		v = v.Elem()
	}
	if v.Kind() != reflect.Slice {
		return nil
	}
	out := make([]*P, 0, v.Len())
	for i := range v.Len() {
		e := v.Index(i)
		if p, ok := e.Interface().(*P); ok {
			if p != nil {
				out = append(out, p)
			}
			continue
		}
		if e.Kind() == reflect.Slice { // a batch's results: one list per parent
			for j := range e.Len() {
				if p, ok := e.Index(j).Interface().(*P); ok && p != nil {
					out = append(out, p)
				}
			}
			continue
		}
		for e.Kind() == reflect.Pointer || e.Kind() == reflect.Interface {
			if e.IsNil() {
				break
			}
			e = e.Elem()
		}
		if e.Kind() != reflect.Struct {
			continue
		}
		if n := e.FieldByName("Node"); n.IsValid() && n.CanInterface() {
			if p, ok := n.Interface().(*P); ok && p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// applicationIDs are the ids of apps.
func applicationIDs(apps []*ent.Application) []pulid.ID {
	ids := make([]pulid.ID, len(apps))
	for i, a := range apps {
		ids[i] = a.ID
	}
	return ids
}

// batchedByKey is batched for a load that answers a map keyed by key(parent) rather than a
// slice in the parents' order; it also reports whether the load gave obj a value at all.
func batchedByKey[P any, K comparable, V any](ctx context.Context, obj *P, key func(*P) K, load func(context.Context, []*P) (map[K]V, error)) (V, bool, error) {
	type found struct {
		v  V
		ok bool
	}
	f, err := batched(ctx, obj, func(ctx context.Context, parents []*P) ([]found, error) {
		m, err := load(ctx, parents)
		if err != nil {
			return nil, err
		}
		out := make([]found, len(parents))
		for i, p := range parents {
			v, ok := m[key(p)]
			out[i] = found{v, ok}
		}
		return out, nil
	})
	return f.v, f.ok, err
}

// idsOf lists the keys of objs.
func idsOf[T any, K any](objs []*T, key func(*T) K) []K {
	out := make([]K, len(objs))
	for i, o := range objs {
		out[i] = key(o)
	}
	return out
}
