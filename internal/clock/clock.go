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
