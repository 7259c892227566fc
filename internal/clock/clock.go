// Package clock carries the request's clock in its context, so that rules which depend on
// today's date (the privacy policies of working groups and memberships, evaluated deep
// inside ent) read the same clock as the services: the server's injected Now for a
// request, the job runner's for a job, the test clock in tests. Everything else still
// takes an injected `now func() time.Time`; this is only for code that has nothing but a
// context.
package clock

import (
	"context"
	"time"
)

type ctxKey struct{}

// WithNow returns ctx whose clock is now.
func WithNow(ctx context.Context, now func() time.Time) context.Context {
	if now == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, now)
}

// Now returns the time of ctx's clock, or time.Now() when ctx carries none.
func Now(ctx context.Context) time.Time {
	if f, ok := ctx.Value(ctxKey{}).(func() time.Time); ok {
		return f()
	}
	return time.Now()
}
