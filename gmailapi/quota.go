package gmailapi

import "fmt"

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
