package graph

import (
	"context"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// Batched field resolvers. A field resolved on every object of a list (Application.reviews
// on a page of applications, Call.reviewQueue on a page of calls) would query once per
// object. batched instead finds the list the object is in (the nearest enclosing field
// whose result holds it: a plain list, or a connection's edges), loads the field for every
// object of that list at once the first time any of them asks, and answers the others
// from that load. No timer is involved: the list is already resolved when its objects'
// fields run (gqlgen stores a field's result in its FieldContext before resolving what is
// under it), so the count of statements is the same however the goroutines interleave.

// batchKey names one load: a field, and the list whose objects it is loaded for.
type batchKey struct {
	field string
	list  *graphql.FieldContext
}

type batchEntry struct {
	once sync.Once
	val  any
	err  error
}

// batchCache holds the loads of one operation.
type batchCache struct{ m sync.Map }

type batchCacheKey struct{}

// Batches is the gqlgen extension that gives each operation its batchCache.
type Batches struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = Batches{}

// ExtensionName implements graphql.HandlerExtension.
func (Batches) ExtensionName() string { return "Batches" }

// Validate implements graphql.HandlerExtension.
func (Batches) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation implements graphql.OperationInterceptor.
func (Batches) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, batchCacheKey{}, &batchCache{}))
}

// batched returns the value load gives obj, loading it with obj's siblings in its
// enclosing list at once. field names the load (e.g. "Application.reviews"). Without an
// enclosing list (or outside an operation with Batches), obj is loaded alone.
func batched[T any, K comparable, V any](ctx context.Context, field string, obj *T, key func(*T) K, load func(context.Context, []*T) (map[K]V, error)) (V, error) {
	cache, _ := ctx.Value(batchCacheKey{}).(*batchCache)
	list, objs := siblings(ctx, obj)
	if cache == nil || list == nil {
		m, err := load(ctx, []*T{obj})
		return m[key(obj)], err
	}
	e, _ := cache.m.LoadOrStore(batchKey{field: field, list: list}, &batchEntry{})
	entry := e.(*batchEntry)
	entry.once.Do(func() { entry.val, entry.err = load(ctx, objs) })
	var zero V
	if entry.err != nil {
		return zero, entry.err
	}
	return entry.val.(map[K]V)[key(obj)], nil
}

// siblings finds the nearest enclosing field whose result is a list holding obj (directly,
// or as the Node of its edges, or in a connection's Edges) and returns it with every *T
// of that list.
func siblings[T any](ctx context.Context, obj *T) (*graphql.FieldContext, []*T) {
	for fc := graphql.GetFieldContext(ctx); fc != nil; fc = fc.Parent {
		if fc.Result == nil {
			continue
		}
		objs := collectObjects[T](reflect.ValueOf(fc.Result), 0)
		if len(objs) > 1 {
			for _, o := range objs {
				if o == obj {
					return fc, objs
				}
			}
		}
	}
	return nil, nil
}

// collectObjects returns the *T of v: v itself, the elements of a slice, a struct's Node,
// or a connection's Edges.
func collectObjects[T any](v reflect.Value, depth int) []*T {
	if depth > 3 || !v.IsValid() {
		return nil
	}
	if t, ok := v.Interface().(*T); ok {
		if t == nil {
			return nil
		}
		return []*T{t}
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return collectObjects[T](v.Elem(), depth)
	case reflect.Slice:
		var out []*T
		for i := 0; i < v.Len(); i++ {
			out = append(out, collectObjects[T](v.Index(i), depth+1)...)
		}
		return out
	case reflect.Struct:
		for _, name := range []string{"Node", "Edges", "Application"} {
			if f := v.FieldByName(name); f.IsValid() && f.CanInterface() {
				if out := collectObjects[T](f, depth+1); len(out) > 0 {
					return out
				}
			}
		}
	}
	return nil
}

// batchedOK is batched that also reports whether the load gave obj a value at all.
func batchedOK[T any, K comparable, V any](ctx context.Context, field string, obj *T, key func(*T) K, load func(context.Context, []*T) (map[K]V, error)) (V, bool, error) {
	type found struct {
		v  V
		ok bool
	}
	f, err := batched(ctx, field, obj, key, func(ctx context.Context, objs []*T) (map[K]found, error) {
		m, err := load(ctx, objs)
		if err != nil {
			return nil, err
		}
		out := make(map[K]found, len(m))
		for k, v := range m {
			out[k] = found{v, true}
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
