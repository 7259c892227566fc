package auth

import (
	"sync"
	"time"
)

// maxLimiterKeys bounds the client addresses a limiter remembers; past it, expired entries
// are swept on the next failure (and the newest kept if every entry is live).
const maxLimiterKeys = 100_000

// failureLimiter counts failed attempts per key (a client address) over a sliding window,
// in this process's memory. Each attempt asks allow first, so the attempt after the limit
// is refused without being evaluated, whether it comes in its own request or as one alias
// of many in a single GraphQL request (mutation fields run one after another).
type failureLimiter struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	fails  map[string][]time.Time
}

func newFailureLimiter(limit int, window time.Duration) *failureLimiter {
	return &failureLimiter{limit: limit, window: window, fails: map[string][]time.Time{}}
}

// live drops the failures of key older than the window and returns the rest (l.mu held).
func (l *failureLimiter) live(key string, now time.Time) []time.Time {
	ts := l.fails[key]
	i := 0
	for i < len(ts) && !ts[i].After(now.Add(-l.window)) {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = ts
	return ts
}

// allow reports whether key may make another attempt now.
func (l *failureLimiter) allow(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.live(key, now)) < l.limit
}

// fail records a failed attempt of key at now.
func (l *failureLimiter) fail(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.fails) >= maxLimiterKeys {
		for k := range l.fails {
			l.live(k, now)
		}
	}
	if _, known := l.fails[key]; !known && len(l.fails) >= maxLimiterKeys {
		return // every remembered address is live: under such a flood, forget the newcomer
	}
	l.fails[key] = append(l.live(key, now), now)
}
