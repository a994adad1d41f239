package gmailapi

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Usage is a snapshot of what a meter counted.
type Usage struct {
	// Calls counts requests by method, failed attempts and retries included.
	Calls map[string]int
	// Units counts the quota units of the calls Gmail surely charged for:
	// successes and 4xx responses other than rate limits and 401.
	Units map[string]int
	// Retries counts repeated attempts, whatever their cause.
	Retries int
	// RateLimited counts rate-limit responses, concurrency limits included.
	RateLimited int
	// RateWaits counts the pauses of all callers that quota errors ordered
	// (an error that extends a running pause adds none), and RateWaitTime
	// is their total length.
	RateWaits    int
	RateWaitTime time.Duration
}

func newUsage() Usage {
	return Usage{Calls: map[string]int{}, Units: map[string]int{}}
}

func (u Usage) clone() Usage {
	c := u
	c.Calls = maps.Clone(u.Calls)
	c.Units = maps.Clone(u.Units)
	return c
}

// TotalUnits is the sum of units over all methods.
func (u Usage) TotalUnits() int {
	total := 0
	for _, n := range u.Units {
		total += n
	}
	return total
}

// TotalCalls is the sum of calls over all methods.
func (u Usage) TotalCalls() int {
	total := 0
	for _, n := range u.Calls {
		total += n
	}
	return total
}

// String lists calls and units by method, then the retry counters, e.g.
// "messages.get 12 (60 units); 2 retries, 1 rate-limit response, 1 pause
// (3s)".
func (u Usage) String() string {
	parts := make([]string, 0, len(u.Calls))
	for _, method := range slices.Sorted(maps.Keys(u.Calls)) {
		parts = append(parts, fmt.Sprintf("%s %d (%d units)", method, u.Calls[method], u.Units[method]))
	}
	return fmt.Sprintf("%s; %s, %s, %s (%s)", strings.Join(parts, ", "),
		plural(u.Retries, "retry", "retries"),
		plural(u.RateLimited, "rate-limit response", "rate-limit responses"),
		plural(u.RateWaits, "pause", "pauses"), u.RateWaitTime.Round(time.Millisecond))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}
