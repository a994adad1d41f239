package outbox

import "time"

// Defaults of Policy.
const (
	// DefaultMaxAge matches the five days after which Postfix returns a
	// message it could not deliver (maximal_queue_lifetime).
	DefaultMaxAge    = 5 * 24 * time.Hour
	DefaultBaseDelay = time.Minute
	DefaultMaxDelay  = time.Hour
)

// Policy sets how long a message may wait and how far apart attempts are.
// Zero fields take the defaults.
type Policy struct {
	// MaxAge is how long after it was queued a message moves to failed/
	// unsent.
	MaxAge time.Duration
	// BaseDelay is the wait after the first attempt that Gmail rejected
	// with a temporary error; each further one doubles it.
	BaseDelay time.Duration
	// MaxDelay caps the doubled wait. A retry time that Gmail names is
	// honoured even when it is longer.
	MaxDelay time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.MaxAge <= 0 {
		p.MaxAge = DefaultMaxAge
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	return p
}

// backoff returns the wait after the attempts-th attempt failed
// temporarily: BaseDelay × 2^(attempts-1), at most MaxDelay, and at least
// the retry time Gmail named (retryAfter, 0 when none).
func (p Policy) backoff(attempts int, retryAfter time.Duration) time.Duration {
	wait := p.BaseDelay << min(max(attempts-1, 0), 20)
	wait = min(wait, p.MaxDelay)
	return max(wait, retryAfter)
}
