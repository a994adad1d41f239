package gmailapi

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMargin is the fraction of the per-user ceiling a meter spends by
// default. The rest absorbs the network's jitter between the moment the
// meter admits a call and the moment Gmail counts it.
const DefaultMargin = 0.95

// Adaptation constants of a Meter.
const (
	// burstCredit is how much unused time a meter banks: an idle meter may
	// admit one second's worth of units at once, never a minute's.
	burstCredit = time.Second
	// quotaWindow is Gmail's metering period, treated as a sliding window.
	quotaWindow = time.Minute
	// decreaseHold keeps the rate errors of calls that were in flight
	// together from halving the rate once each.
	decreaseHold = time.Second
	// climbEvery is how many seconds of error-free spending at the current
	// rate raise it by one climbStep.
	climbEvery = 2
	// climbStep is the additive increase, as a fraction of the target rate.
	climbStep = 0.05
	// minRateFraction is the floor of the multiplicative decrease.
	minRateFraction = 1.0 / 16
)

// MeterOptions configures NewMeterWithOptions. Zero fields take defaults.
type MeterOptions struct {
	Regime Regime
	// UnitsPerMinute is the per-user ceiling; 0 means the regime's.
	UnitsPerMinute int
	// Margin is the fraction of the ceiling to spend, in (0, 1]; 0 means
	// DefaultMargin.
	Margin float64
	// MinPause is the shortest pause after a quota error, also when Gmail
	// names a retry time already past; 0 means one second, the least wait
	// before a retry that Google's error guide recommends.
	MinPause time.Duration
	// MaxPause is the longest pause a "Retry after" time may order; 0 means
	// five minutes. After a longer one the waiting calls are tried again,
	// which also copes with a local clock behind Google's.
	MaxPause time.Duration
}

// Meter paces Gmail calls so that one user's spending stays under the
// per-minute quota, and counts calls and units by method.
//
// It admits calls at an even rate of Margin × ceiling per minute with at
// most one second of banked credit, and also never admits more than
// Margin × ceiling units within any sliding minute. A quota error halves
// the rate and pauses every caller until Gmail's "Retry after" time. After
// that, each two seconds' worth of error-free spending raises the rate by
// 5% of the target, until it is back at the target.
type Meter struct {
	regime   Regime
	ceiling  int     // units per minute
	target   float64 // units per second the meter aims at
	minPause time.Duration
	maxPause time.Duration
	clock    clock

	mu           sync.Mutex
	rate         float64   // current units per second, at most target
	nextFree     time.Time // when the next call would be on schedule
	window       []admission
	windowUnits  int
	pausedUntil  time.Time
	pauseChanged chan struct{} // closed and replaced by each new pause
	lastDecrease time.Time
	cleanUnits   float64 // units of successful calls since the last rate change
	seq          uint64
	usage        Usage
}

// admission is one call the meter let through (or scheduled to).
type admission struct {
	at    time.Time
	units int
	seq   uint64
}

// NewMeter returns a meter for the regime's costs with a ceiling of
// unitsPerMinute (the regime's ceiling when zero) and DefaultMargin.
func NewMeter(regime Regime, unitsPerMinute int) *Meter {
	return NewMeterWithOptions(MeterOptions{Regime: regime, UnitsPerMinute: unitsPerMinute})
}

// NewMeterWithOptions returns a meter configured by opts.
func NewMeterWithOptions(opts MeterOptions) *Meter {
	return newMeter(opts, realClock{})
}

func newMeter(opts MeterOptions, clk clock) *Meter {
	if opts.Regime == "" {
		opts.Regime = Regime2024
	}
	if opts.UnitsPerMinute <= 0 {
		opts.UnitsPerMinute = opts.Regime.UnitsPerMinute()
	}
	if opts.Margin <= 0 || opts.Margin > 1 {
		opts.Margin = DefaultMargin
	}
	if opts.MinPause <= 0 {
		opts.MinPause = time.Second
	}
	if opts.MaxPause <= 0 {
		opts.MaxPause = 5 * time.Minute
	}
	target := float64(opts.UnitsPerMinute) * opts.Margin / 60
	return &Meter{
		regime:       opts.Regime,
		ceiling:      opts.UnitsPerMinute,
		target:       target,
		minPause:     opts.MinPause,
		maxPause:     max(opts.MaxPause, opts.MinPause),
		clock:        clk,
		rate:         target,
		pauseChanged: make(chan struct{}),
		usage:        newUsage(),
	}
}

// Regime returns the pricing regime the meter charges by.
func (m *Meter) Regime() Regime { return m.regime }

// Rate returns the units per minute the meter currently admits: the target
// (ceiling × margin) unless quota errors lowered it.
func (m *Meter) Rate() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rate * 60
}

// Wait blocks until the meter admits one call of method, without counting
// it: the caller reports the outcome with Observe. It returns an error only
// when ctx ends first.
func (m *Meter) Wait(ctx context.Context, method string) error {
	cost := m.regime.Cost(method)
	for {
		m.mu.Lock()
		now := m.clock.Now()
		adm := m.admit(now, cost)
		changed := m.pauseChanged
		m.mu.Unlock()

		if !adm.at.After(now) {
			return nil
		}
		woken, err := m.clock.Sleep(ctx, adm.at.Sub(now), changed)
		if err != nil {
			m.cancel(adm.seq)
			return fmt.Errorf("waiting for Gmail quota for %s: %w", method, err)
		}
		if !woken {
			return nil
		}
		// A pause dropped the admission: queue again behind it.
	}
}

// Spend waits like Wait and then counts the call as processed by Gmail.
// It suits callers that do not report outcomes; the client uses Wait and
// Observe.
func (m *Meter) Spend(ctx context.Context, method string) error {
	if err := m.Wait(ctx, method); err != nil {
		return err
	}
	m.Observe(method, nil)
	return nil
}

// Observe counts one finished call of method that err (nil on success)
// describes, and adapts the rate to it. A rate-limit response costs no
// units. A quota error (any rate error but the concurrency limit) also
// halves the rate and pauses every caller of Wait until Gmail's retry time,
// at least MinPause and at most MaxPause from now. Errors raised before a
// request left (a token that could not be refreshed) are not counted.
func (m *Meter) Observe(method string, err error) {
	if isLocalFailure(err) {
		return
	}
	cost := m.regime.Cost(method)
	m.mu.Lock()
	defer m.mu.Unlock()
	// Wall time only: the pause ends at a wall-clock time Gmail named.
	now := m.clock.Now().Round(0)
	m.usage.Calls[method]++
	if costsUnits(err) {
		m.usage.Units[method] += cost
	}
	switch {
	case err == nil:
		m.climb(cost)
	case Classify(err) != RateLimited:
	case IsConcurrencyLimit(err):
		m.usage.RateLimited++
	default:
		m.usage.RateLimited++
		m.slowDown(now)
		m.pause(now, m.pauseFor(err, now))
	}
}

// Usage returns a copy of the counters.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.usage.clone()
}

// countRetry records that a call is about to be repeated.
func (m *Meter) countRetry() {
	m.mu.Lock()
	m.usage.Retries++
	m.mu.Unlock()
}

// pauseFor returns how long Gmail asked callers to wait after err,
// bounded by MinPause and MaxPause.
func (m *Meter) pauseFor(err error, now time.Time) time.Duration {
	wait, ok := RetryAfter(err, now)
	if !ok {
		wait = m.minPause
	}
	return min(max(wait, m.minPause), m.maxPause)
}
