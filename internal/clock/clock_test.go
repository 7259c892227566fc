package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/gocart-coalition/coalition/internal/clock"
)

func TestNow(t *testing.T) {
	fixed := time.Date(2027, 1, 12, 9, 30, 0, 0, time.UTC)
	ctx := clock.WithNow(context.Background(), func() time.Time { return fixed })
	if got := clock.Now(ctx); !got.Equal(fixed) {
		t.Errorf("Now(ctx with clock) = %v, want %v", got, fixed)
	}
	before := time.Now()
	if got := clock.Now(context.Background()); got.Before(before) {
		t.Errorf("Now(ctx without clock) = %v, want the wall clock (after %v)", got, before)
	}
	if got := clock.Now(clock.WithNow(ctx, nil)); !got.Equal(fixed) {
		t.Errorf("WithNow(ctx, nil) replaced the clock: %v", got)
	}
}
