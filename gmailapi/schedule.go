package gmailapi

import (
	"context"
	"time"
)

// admit schedules a call of cost units at the earliest time that respects
// the pause, the even rate and the sliding window, and records it. The
// caller holds m.mu.
//
// The even rate is a virtual schedule (the generic cell rate algorithm):
// nextFree is when the next call would be on time, and a call may run up to
// burstCredit ahead of it. Admission times never decrease, so the window
// stays sorted.
func (m *Meter) admit(now time.Time, cost int) admission {
	at := latest(now, m.pausedUntil, m.nextFree.Add(-burstCredit))
	if n := len(m.window); n > 0 {
		at = latest(at, m.window[n-1].at)
	}
	at = m.fitWindow(at, cost)

	interval := time.Duration(float64(cost) / m.rate * float64(time.Second))
	m.nextFree = latest(m.nextFree, at).Add(interval)
	m.seq++
	adm := admission{at: at, units: cost, seq: m.seq}
	m.window = append(m.window, adm)
	m.windowUnits += cost
	return adm
}

// fitWindow returns the earliest time from at on when cost more units keep
// the sliding minute at or under target × 60 units. A single call dearer
// than that limit runs alone in its window.
func (m *Meter) fitWindow(at time.Time, cost int) time.Time {
	limit := int(m.target * quotaWindow.Seconds())
	for {
		for len(m.window) > 0 && !m.window[0].at.Add(quotaWindow).After(at) {
			m.windowUnits -= m.window[0].units
			m.window = m.window[1:]
		}
		if m.windowUnits+cost <= limit || len(m.window) == 0 {
			return at
		}
		at = m.window[0].at.Add(quotaWindow)
	}
}

// cancel removes the admission seq of a caller that stopped waiting, so its
// units stay available. The caller does not hold m.mu.
func (m *Meter) cancel(seq uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.window) - 1; i >= 0; i-- {
		if m.window[i].seq == seq {
			m.windowUnits -= m.window[i].units
			m.window = append(m.window[:i], m.window[i+1:]...)
			return
		}
	}
}

// pause stops admissions until now+d, or extends the current pause to
// then. Admissions scheduled after now are
// dropped and their callers queue again behind the pause, so that the
// calls that resume are paced instead of released together. The caller
// holds m.mu.
func (m *Meter) pause(now time.Time, d time.Duration) {
	until := now.Add(d)
	if !until.After(m.pausedUntil) {
		return
	}
	if !now.Before(m.pausedUntil) {
		m.usage.RateWaits++
	}
	m.usage.RateWaitTime += until.Sub(latest(now, m.pausedUntil))
	m.pausedUntil = until
	m.nextFree = until
	for n := len(m.window); n > 0 && m.window[n-1].at.After(now); n-- {
		m.windowUnits -= m.window[n-1].units
		m.window = m.window[:n-1]
	}
	close(m.pauseChanged)
	m.pauseChanged = make(chan struct{})
}

// slowDown halves the rate (multiplicative decrease), once for all the
// quota errors of calls that were in flight together. The caller holds
// m.mu.
func (m *Meter) slowDown(now time.Time) {
	if now.Before(m.pausedUntil) || now.Sub(m.lastDecrease) < decreaseHold {
		return
	}
	m.rate = max(m.rate/2, m.target*minRateFraction)
	m.lastDecrease = now
	m.cleanUnits = 0
}

// climb credits a successful call of cost units and raises the rate by
// climbStep of the target (additive increase) after climbEvery seconds'
// worth of successes. The caller holds m.mu.
func (m *Meter) climb(cost int) {
	if m.rate >= m.target {
		return
	}
	m.cleanUnits += float64(cost)
	if m.cleanUnits >= m.rate*climbEvery {
		m.rate = min(m.rate+m.target*climbStep, m.target)
		m.cleanUnits = 0
	}
}

func latest(t time.Time, others ...time.Time) time.Time {
	for _, o := range others {
		if o.After(t) {
			t = o
		}
	}
	return t
}

// clock is the time source of a Meter; tests replace it.
type clock interface {
	Now() time.Time
	// Sleep waits for d. It returns true early when wake is closed, and
	// ctx's error when ctx ends first.
	Sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) (bool, error)
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) Sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) (bool, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return false, nil
	case <-wake:
		return true, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}
