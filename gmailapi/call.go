package gmailapi

import (
	"context"
	"fmt"
	"time"
)

// callSpec describes one Gmail request for Client.call.
type callSpec struct {
	method string            // the quota table's name, e.g. "messages.get"
	what   string            // names the call in logs; empty means method
	limit  *concurrencyLimit // caps requests in flight; nil means no cap
	// once forbids retries other than the single repeat after a 401, for
	// requests that are not idempotent.
	once bool
}

// call runs fn, one Gmail request, under the meter and the spec's
// concurrency limit, and retries it. After a 401 it repeats the request
// once, at once, with a fresh token. Temporary errors and the concurrency
// limit get jittered exponential backoff, and quota errors wait behind the
// meter's pause. The returned error is the last attempt's.
func (c *Client) call(ctx context.Context, spec callSpec, fn func(context.Context) error) error {
	if spec.what == "" {
		spec.what = spec.method
	}
	var failures, pauses int
	refreshed := false
	for {
		err := c.attempt(ctx, spec, fn)
		if err == nil {
			return nil
		}
		// A 401 means Gmail did nothing, so the repeat is safe even for a
		// send. Google's error guide prescribes it for "Invalid Credentials".
		if c.inv != nil && !refreshed && isUnauthorized(err) {
			refreshed = true
			c.inv.Invalidate()
			c.meter.countRetry()
			continue
		}
		err = localCause(err)
		if spec.once || ctx.Err() != nil {
			return err
		}
		wait, retry := c.nextWait(err, &failures, &pauses)
		if !retry {
			return err
		}
		c.meter.countRetry()
		c.retry.logRetry(spec.what, failures+pauses, err, wait)
		if serr := c.retry.sleepFor(ctx, wait); serr != nil {
			return fmt.Errorf("%w (gave up waiting to retry: %w)", err, serr)
		}
	}
}

// attempt makes one request: it takes a slot of the concurrency limit,
// waits for the meter, runs fn and reports the outcome to both.
func (c *Client) attempt(ctx context.Context, spec callSpec, fn func(context.Context) error) error {
	ticket, err := spec.limit.acquire(ctx)
	if err != nil {
		return fmt.Errorf("waiting for a concurrency slot for %s: %w", spec.what, err)
	}
	if err := c.meter.Wait(ctx, spec.method); err != nil {
		spec.limit.release(ticket, nil)
		return err
	}
	err = fn(ctx)
	spec.limit.release(ticket, err)
	c.meter.Observe(spec.method, err)
	return err
}

// nextWait decides whether a call that failed with err is retried, and
// after how long. failures counts temporary errors against MaxAttempts;
// pauses counts rate-limit responses against MaxRateWaits.
//
// After a quota error, Meter.Observe has already paused every caller for at
// least MinPause, so the first error needs no wait of its own. Repeated
// ones back off as well, in case Gmail's retry time is unhelpful: a local
// clock that runs ahead of Google's makes it look past.
func (c *Client) nextWait(err error, failures, pauses *int) (time.Duration, bool) {
	class := Classify(err)
	switch {
	case class == Temporary:
		*failures++
		if *failures >= max(c.retry.MaxAttempts, 1) {
			return 0, false
		}
		return c.retry.backoff(*failures), true
	case class == RateLimited:
		*pauses++
		if *pauses > c.retry.rateWaits() {
			return 0, false
		}
		if IsConcurrencyLimit(err) {
			return c.retry.backoff(*pauses), true
		}
		if *pauses == 1 {
			return 0, true
		}
		return c.retry.backoff(*pauses - 1), true
	}
	return 0, false
}
