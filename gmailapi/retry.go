package gmailapi

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a call is retried: truncated exponential backoff
// with random jitter, as Google's usage-limits page recommends
// (min(2^n s + random ms, maximum backoff)). Every retry waits at least
// BaseDelay, so a failing call never spins.
type RetryPolicy struct {
	// MaxAttempts is the number of attempts in all, the first included,
	// that temporary errors may use; at least 1.
	MaxAttempts int
	// MaxRateWaits is how many rate-limit responses (quota or concurrency)
	// one call of a Client waits through before it fails; 0 means
	// MaxAttempts. RetryPolicy.Do, which has no meter, counts them as
	// attempts instead.
	MaxRateWaits int
	// BaseDelay is the wait after the first failure; later waits double.
	// Each wait adds a random jitter below BaseDelay. 0 means one second.
	BaseDelay time.Duration
	// MaxDelay caps any single backoff wait, and in Do also a server-named
	// retry time.
	MaxDelay time.Duration
	// Logger receives one warning per retry; nil discards.
	Logger *slog.Logger

	now   func() time.Time
	sleep func(context.Context, time.Duration) error
}

// DefaultRetryPolicy makes six attempts in all, waiting about 1 s, 2 s,
// 4 s, 8 s and 16 s (each plus up to 1 s of jitter), never more than 32 s,
// the low end of Google's "32 or 64 seconds" maximum backoff. A call waits
// through up to ten rate-limit responses.
func DefaultRetryPolicy(logger *slog.Logger) RetryPolicy {
	return RetryPolicy{MaxAttempts: 6, MaxRateWaits: 10, BaseDelay: time.Second, MaxDelay: 32 * time.Second, Logger: logger}
}

// Do runs call until it succeeds, fails with an error that is not
// Temporary or RateLimited, the attempts run out, or ctx ends. call must be
// idempotent: never pass it a send whose request may have reached Gmail.
// The returned error is the last one call returned.
func (p RetryPolicy) Do(ctx context.Context, what string, call func(context.Context) error) error {
	attempts := max(p.MaxAttempts, 1)
	var err error
	for attempt := 1; ; attempt++ {
		err = call(ctx)
		if err == nil {
			return nil
		}
		class := Classify(err)
		if class != Temporary && class != RateLimited {
			return err
		}
		if attempt >= attempts || ctx.Err() != nil {
			return err
		}
		wait := p.backoff(attempt)
		if serverWait, ok := RetryAfter(err, p.clockNow()); ok {
			wait = min(max(serverWait, p.baseDelay()), p.MaxDelay)
		}
		p.logRetry(what, attempt, err, wait)
		if serr := p.sleepFor(ctx, wait); serr != nil {
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, serr)
		}
	}
}

// backoff returns the wait before attempt+1 after attempt failures:
// BaseDelay × 2^(attempt-1) plus jitter below BaseDelay, at most MaxDelay.
func (p RetryPolicy) backoff(attempt int) time.Duration {
	base := p.baseDelay()
	wait := base << min(attempt-1, 20)
	wait += time.Duration(rand.Int64N(int64(base)))
	if p.MaxDelay > 0 {
		wait = min(wait, max(p.MaxDelay, base))
	}
	return wait
}

func (p RetryPolicy) baseDelay() time.Duration {
	if p.BaseDelay <= 0 {
		return time.Second
	}
	return p.BaseDelay
}

func (p RetryPolicy) rateWaits() int {
	if p.MaxRateWaits <= 0 {
		return max(p.MaxAttempts, 1)
	}
	return p.MaxRateWaits
}

func (p RetryPolicy) clockNow() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

func (p RetryPolicy) logRetry(what string, attempt int, err error, wait time.Duration) {
	if p.Logger != nil {
		p.Logger.Warn("retrying Gmail call", "call", what, "attempt", attempt, "class", Classify(err).String(), "wait", wait, "err", err)
	}
}

func (p RetryPolicy) sleepFor(ctx context.Context, d time.Duration) error {
	if p.sleep != nil {
		return p.sleep(ctx, d)
	}
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
