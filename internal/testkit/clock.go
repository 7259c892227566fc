package testkit

import (
	"sync"
	"time"
)

// Clock is a fixed clock for tests: it moves only when told to.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// DefaultNow is where test clocks start: a Tuesday morning in the pilot's first quarter.
var DefaultNow = time.Date(2027, time.January, 12, 9, 30, 0, 0, time.UTC)

// NewClock returns a clock at t (UTC).
func NewClock(t time.Time) *Clock { return &Clock{now: t.UTC()} }

// Now returns the clock's time. Pass c.Now wherever a `now func() time.Time` is injected.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t.UTC()
	c.mu.Unlock()
}
