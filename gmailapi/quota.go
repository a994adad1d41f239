package gmailapi

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/time/rate"
)

// Regime is a Gmail quota pricing regime. Google changed the per-user limit
// and the price of messages.get for Cloud projects created from 2026-05-01
// ("Usage limits", developers.google.com/workspace/gmail/api/reference/quota).
type Regime string

const (
	// Regime2024 is 15,000 units per user per minute, 5 units per get.
	Regime2024 Regime = "2024"
	// Regime2026 is 6,000 units per user per minute, 20 units per get.
	Regime2026 Regime = "2026"
)

// ParseRegime accepts "2024" or "2026"; empty means Regime2024.
func ParseRegime(s string) (Regime, error) {
	switch Regime(s) {
	case "", Regime2024:
		return Regime2024, nil
	case Regime2026:
		return Regime2026, nil
	}
	return "", fmt.Errorf("invalid quota regime %q: use 2024 (projects that used Gmail before May 2026) or 2026", s)
}

// UnitsPerMinute is the per-user ceiling of the regime.
func (r Regime) UnitsPerMinute() int {
	if r == Regime2026 {
		return 6000
	}
	return 15000
}

// Cost returns the quota units of one call of method, named as in Gmail's
// quota table ("messages.get"). Unknown methods cost 5, the most common price.
func (r Regime) Cost(method string) int {
	if r == Regime2026 && (method == "messages.get" || method == "messages.attachments.get") {
		return 20
	}
	if r == Regime2026 && method == "threads.get" {
		return 40
	}
	if cost, ok := units2024[method]; ok {
		return cost
	}
	return 5
}

var units2024 = map[string]int{
	"getProfile":      1,
	"labels.list":     1,
	"labels.get":      1,
	"messages.list":   5,
	"messages.get":    5,
	"messages.send":   100,
	"messages.modify": 5,
	"history.list":    2,
	"threads.get":     10,
}

// Meter spends quota units under a per-minute limiter and counts every
// call by method. It is safe for concurrent use.
type Meter struct {
	regime  Regime
	limiter *rate.Limiter

	mu    sync.Mutex
	calls map[string]int
	units map[string]int
}

// NewMeter returns a meter that allows unitsPerMinute units per minute
// (the regime's ceiling when zero) with a burst of one second's worth, so a
// run never front-loads a minute of quota into a few seconds.
func NewMeter(regime Regime, unitsPerMinute int) *Meter {
	if unitsPerMinute <= 0 {
		unitsPerMinute = regime.UnitsPerMinute()
	}
	perSecond := float64(unitsPerMinute) / 60
	burst := max(int(perSecond), 40)
	return &Meter{
		regime:  regime,
		limiter: rate.NewLimiter(rate.Limit(perSecond), burst),
		calls:   map[string]int{},
		units:   map[string]int{},
	}
}

// Spend waits until the limiter allows one call of method, then counts it.
func (m *Meter) Spend(ctx context.Context, method string) error {
	cost := m.regime.Cost(method)
	if err := m.limiter.WaitN(ctx, min(cost, m.limiter.Burst())); err != nil {
		return fmt.Errorf("waiting for Gmail quota for %s: %w", method, err)
	}
	m.mu.Lock()
	m.calls[method]++
	m.units[method] += cost
	m.mu.Unlock()
	return nil
}

// Usage is a snapshot of what a meter counted.
type Usage struct {
	Calls map[string]int
	Units map[string]int
}

// TotalUnits is the sum of units over all methods.
func (u Usage) TotalUnits() int {
	total := 0
	for _, n := range u.Units {
		total += n
	}
	return total
}

// String lists calls and units by method, e.g. "messages.get 12 (60 units)".
func (u Usage) String() string {
	methods := make([]string, 0, len(u.Calls))
	for method := range u.Calls {
		methods = append(methods, method)
	}
	sort.Strings(methods)
	parts := make([]string, 0, len(methods))
	for _, method := range methods {
		parts = append(parts, fmt.Sprintf("%s %d (%d units)", method, u.Calls[method], u.Units[method]))
	}
	return strings.Join(parts, ", ")
}

// Usage returns a copy of the counters.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := Usage{Calls: map[string]int{}, Units: map[string]int{}}
	for k, v := range m.calls {
		u.Calls[k] = v
	}
	for k, v := range m.units {
		u.Units[k] = v
	}
	return u
}
