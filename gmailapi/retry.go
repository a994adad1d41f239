package gmailapi

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// RetryPolicy bounds how a call is retried: truncated exponential backoff
// with up to one second of random jitter, as Google's usage-limits page
// recommends (min(2^n s + random ms, maximum backoff)).
type RetryPolicy struct {
	MaxAttempts int           // attempts in all, including the first; at least 1
	BaseDelay   time.Duration // wait after the first failure
	MaxDelay    time.Duration // cap on any single wait, also on a server-named retry time
	Logger      *slog.Logger  // receives one warning per retry; nil discards
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
}

// DefaultRetryPolicy retries five times in all, waiting 1 s, 2 s, 4 s, 8 s
// (plus jitter), and never more than 32 s, the low end of Google's "32 or
// 64 seconds" maximum backoff.
func DefaultRetryPolicy(logger *slog.Logger) RetryPolicy {
	return RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 32 * time.Second, Logger: logger}
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
		wait := p.delay(attempt, err)
		if p.Logger != nil {
			p.Logger.Warn("retrying Gmail call", "call", what, "attempt", attempt, "class", class.String(), "wait", wait, "err", err)
		}
		if serr := p.sleepFor(ctx, wait); serr != nil {
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, serr)
		}
	}
}

func (p RetryPolicy) delay(attempt int, err error) time.Duration {
	now := time.Now
	if p.now != nil {
		now = p.now
	}
	if wait, ok := RetryAfter(err, now()); ok {
		return min(wait, p.MaxDelay)
	}
	backoff := p.BaseDelay << (attempt - 1)
	jitter := time.Duration(rand.Int64N(int64(time.Second)))
	return min(backoff+jitter, p.MaxDelay)
}

func (p RetryPolicy) sleepFor(ctx context.Context, d time.Duration) error {
	if p.sleep != nil {
		return p.sleep(ctx, d)
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
