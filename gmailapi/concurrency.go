package gmailapi

import (
	"context"
	"sync"
)

// raiseAfter is how many successes per allowed request in flight raise the
// cap by one again after Gmail's concurrency limit lowered it.
const raiseAfter = 10

// concurrencyLimit is an adaptive cap on one user's requests in flight.
// Gmail's per-user concurrency limit is unpublished and shared by all
// clients of the user, so the cap starts at its maximum, halves (never
// below one) when Gmail returns "Too many concurrent requests", and rises
// by one after raiseAfter × cap successes.
// A nil *concurrencyLimit allows everything.
type concurrencyLimit struct {
	max int

	mu       sync.Mutex
	limit    int
	inflight int
	clean    int    // successes since the last change of limit
	started  uint64 // requests admitted so far
	lowered  uint64 // value of started when limit last dropped
	wake     chan struct{}
}

func newConcurrencyLimit(n int) *concurrencyLimit {
	n = max(n, 1)
	return &concurrencyLimit{max: n, limit: n, wake: make(chan struct{})}
}

// acquire blocks until a request may start and returns its ticket for
// release.
func (l *concurrencyLimit) acquire(ctx context.Context) (uint64, error) {
	if l == nil {
		return 0, nil
	}
	for {
		l.mu.Lock()
		if l.inflight < l.limit {
			l.inflight++
			l.started++
			ticket := l.started
			l.mu.Unlock()
			return ticket, nil
		}
		wake := l.wake
		l.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// release ends the request of ticket, which ended with err, and adapts the
// cap. Only a request admitted after the last decrease can lower the cap
// again, so a volley of refusals for requests that were in flight together
// lowers it once.
func (l *concurrencyLimit) release(ticket uint64, err error) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inflight--
	switch {
	case IsConcurrencyLimit(err):
		if ticket > l.lowered {
			l.limit = max(1, l.limit/2)
			l.lowered = l.started
			l.clean = 0
		}
	case err == nil && l.limit < l.max:
		l.clean++
		if l.clean >= raiseAfter*l.limit {
			l.limit++
			l.clean = 0
		}
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// current returns the cap now in force.
func (l *concurrencyLimit) current() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit
}
