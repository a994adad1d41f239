package gmailapi

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/googleapi"
)

// virtualClock is a clock whose Sleep advances time at once, for
// single-goroutine tests of the meter's schedule.
type virtualClock struct {
	mu  sync.Mutex
	now time.Time
}

func newVirtualClock() *virtualClock {
	return &virtualClock{now: time.Date(2026, 9, 11, 20, 0, 0, 0, time.UTC)}
}

func (c *virtualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *virtualClock) Sleep(ctx context.Context, d time.Duration, _ <-chan struct{}) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return false, nil
}

func quotaError(retryAt time.Time) error {
	return &googleapi.Error{
		Code:    403,
		Message: "User-rate limit exceeded.  Retry after " + retryAt.UTC().Format("2006-01-02T15:04:05.000Z"),
		Errors:  []googleapi.ErrorItem{{Reason: "rateLimitExceeded", Message: "User-rate limit exceeded."}},
	}
}

var concurrencyError = &googleapi.Error{
	Code:    429,
	Message: "Too many concurrent requests for user",
	Errors:  []googleapi.ErrorItem{{Reason: "rateLimitExceeded", Message: "Too many concurrent requests for user"}},
}

// spendTimes spends n gets on m and returns the virtual time of each.
func spendTimes(t *testing.T, m *Meter, clk *virtualClock, n int) []time.Time {
	t.Helper()
	times := make([]time.Time, 0, n)
	for i := range n {
		if err := m.Spend(context.Background(), "messages.get"); err != nil {
			t.Fatalf("Spend() #%d = %v", i, err)
		}
		times = append(times, clk.Now())
	}
	return times
}

func TestMeterPacesUnderSlidingWindow(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{Regime: Regime2024, UnitsPerMinute: 600, Margin: 1}, clk)
	start := clk.Now()
	times := spendTimes(t, m, clk, 300) // 1,500 units: two and a half minutes

	// No sliding minute may hold more than 600 units (120 gets).
	for i := range times {
		j := i
		for j < len(times) && times[j].Sub(times[i]) < time.Minute {
			j++
		}
		if j-i > 120 {
			t.Fatalf("%d gets within the minute from %v, want at most 120", j-i, times[i].Sub(start))
		}
	}
	// One second of credit lets three gets through at once, then they come
	// every half second (10 units/s at 5 units each).
	if got := times[2].Sub(start); got != 0 {
		t.Errorf("third get at %v, want 0 (burst credit)", got)
	}
	if got := times[3].Sub(start); got != 500*time.Millisecond {
		t.Errorf("fourth get at %v, want 500ms", got)
	}
	// The whole run keeps close to the ceiling: 297 half-second steps.
	elapsed := times[len(times)-1].Sub(start)
	if elapsed < 148*time.Second || elapsed > 152*time.Second {
		t.Errorf("300 gets took %v, want about 148.5s", elapsed)
	}
	u := m.Usage()
	if u.Calls["messages.get"] != 300 || u.Units["messages.get"] != 1500 {
		t.Errorf("Usage() = %v, want 300 calls and 1500 units", u)
	}
}

func TestMeterSpendsMarginOfCeiling(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{Regime: Regime2024, UnitsPerMinute: 15000}, clk)
	start := clk.Now()
	times := spendTimes(t, m, clk, 5000)
	perSecond := float64(len(times)) / times[len(times)-1].Sub(start).Seconds()
	// 95% of 15,000 units/min at 5 units a get is 47.5 gets/s.
	if perSecond < 47 || perSecond > 48.5 {
		t.Errorf("meter admitted %.2f gets/s, want about 47.5", perSecond)
	}
	if got := m.Rate(); got != 14250 {
		t.Errorf("Rate() = %v, want 14250 units/min", got)
	}
}

func TestMeterQuotaErrorHalvesRateAndPauses(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{Regime: Regime2024, UnitsPerMinute: 6000, Margin: 1}, clk)
	spendTimes(t, m, clk, 10)

	errAt := clk.Now()
	retryAt := errAt.Add(10 * time.Second)
	m.Observe("messages.get", quotaError(retryAt))
	if got := m.Rate(); got != 3000 {
		t.Errorf("Rate() after a quota error = %v, want 3000", got)
	}
	// The calls that were in flight together fail together: one decrease.
	m.Observe("messages.get", quotaError(retryAt))
	if got := m.Rate(); got != 3000 {
		t.Errorf("Rate() after a second error of the same volley = %v, want 3000", got)
	}
	if err := m.Wait(context.Background(), "messages.get"); err != nil {
		t.Fatal(err)
	}
	if got := clk.Now().Sub(errAt); got < 10*time.Second {
		t.Errorf("Wait() returned %v after the error, want at least the 10s Gmail asked for", got)
	}

	u := m.Usage()
	if u.Calls["messages.get"] != 12 || u.Units["messages.get"] != 50 {
		t.Errorf("Usage() = %v, want 12 calls and 50 units: rate-limit answers cost nothing", u)
	}
	if u.RateLimited != 2 || u.RateWaits != 1 || u.RateWaitTime != 10*time.Second {
		t.Errorf("Usage() = %v, want 2 rate-limit answers and one pause of 10s", u)
	}
}

func TestMeterClimbsBackAfterSuccesses(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{Regime: Regime2024, UnitsPerMinute: 6000, Margin: 1}, clk)
	m.Observe("messages.get", quotaError(clk.Now()))
	if got := m.Rate(); got != 3000 {
		t.Fatalf("Rate() after a quota error = %v, want 3000", got)
	}
	// Each two seconds' worth of successes adds 5% of 6,000 units/min, so
	// the rate is back at the target after ten steps and no more than 40 s.
	start := clk.Now()
	for i := 0; m.Rate() < 6000; i++ {
		if i > 1000 {
			t.Fatalf("Rate() = %v after %d successes, want back at 6000", m.Rate(), i)
		}
		if err := m.Spend(context.Background(), "messages.get"); err != nil {
			t.Fatal(err)
		}
	}
	if got := clk.Now().Sub(start); got < 10*time.Second || got > 40*time.Second {
		t.Errorf("rate climbed back in %v, want between 10s and 40s", got)
	}
}

func TestMeterConcurrencyLimitKeepsRate(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{Regime: Regime2024, UnitsPerMinute: 6000}, clk)
	m.Observe("messages.get", concurrencyError)
	if got := m.Rate(); got != 5700 {
		t.Errorf("Rate() after a concurrency limit = %v, want 5700", got)
	}
	u := m.Usage()
	if u.RateLimited != 1 || u.RateWaits != 0 || u.Units["messages.get"] != 0 {
		t.Errorf("Usage() = %v, want one rate-limit answer, no pause, no units", u)
	}
}

func TestMeterPauseBounds(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{MinPause: 2 * time.Second, MaxPause: 30 * time.Second}, clk)
	now := clk.Now()
	tests := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"time in the past", quotaError(now.Add(-time.Hour)), 2 * time.Second},
		{"time far off", quotaError(now.Add(time.Hour)), 30 * time.Second},
		{"no time", &googleapi.Error{Code: 429, Message: "Too many requests"}, 2 * time.Second},
		{"time within bounds", quotaError(now.Add(7 * time.Second)), 7 * time.Second},
	}
	for _, tt := range tests {
		if got := m.pauseFor(tt.err, now); got != tt.want {
			t.Errorf("%s: pauseFor() = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestMeterWaitCanceled(t *testing.T) {
	clk := newVirtualClock()
	m := newMeter(MeterOptions{UnitsPerMinute: 60, Margin: 1}, clk)
	m.Observe("messages.get", quotaError(clk.Now().Add(time.Minute)))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := m.Wait(ctx, "messages.get")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Wait(canceled) = %v, want context.Canceled", err)
	}
	if m.windowUnits != 0 {
		t.Errorf("canceled Wait left %d units in the window, want 0", m.windowUnits)
	}
}

// A pause must hold every caller, including those already waiting for a
// slot and those that arrive later, not just the one that got the error.
func TestMeterPauseHoldsEveryCaller(t *testing.T) {
	m := NewMeterWithOptions(MeterOptions{Regime: Regime2024, UnitsPerMinute: 1200, Margin: 1, MinPause: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// At 20 units/s a send of 100 units makes the next calls wait about
	// four seconds for their slots, unless the pause requeues them.
	if err := m.Wait(ctx, "messages.send"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	waited := make([]time.Duration, 4)
	for i := range waited {
		wg.Go(func() {
			if err := m.Wait(ctx, "getProfile"); err != nil {
				t.Errorf("Wait() = %v", err)
			}
			waited[i] = time.Since(start)
		})
	}
	time.Sleep(20 * time.Millisecond)
	m.Observe("messages.get", quotaError(time.Now().Add(-time.Second)))
	wg.Wait()
	for i, d := range waited {
		if d < 300*time.Millisecond || d > 2*time.Second {
			t.Errorf("caller %d resumed after %v, want soon after the 300ms pause", i, d)
		}
	}
}
