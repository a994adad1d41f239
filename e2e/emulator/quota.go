package emulator

// Quota regimes: Gmail's "Usage limits" page before and after 2026-05-01.
const (
	Regime2024 = "2024"
	Regime2026 = "2026"
)

// unitCosts are the per-method quota units of the Gmail "Usage limits" page
// as it read until April 2026.
var unitCosts = map[string]int{
	"getProfile":               1,
	"labels.list":              1,
	"labels.get":               1,
	"labels.create":            5,
	"messages.list":            5,
	"messages.get":             5,
	"messages.attachments.get": 5,
	"messages.send":            100,
	"messages.modify":          5,
	"messages.batchModify":     50,
	"messages.trash":           5,
	"messages.untrash":         5,
	"messages.delete":          10,
	"messages.batchDelete":     50,
	"history.list":             2,
}

// unitCosts2026 overrides unitCosts for projects created from 2026-05-01.
// NOTE: these values come from third-party transcriptions of Google's page,
// not from the page itself.
var unitCosts2026 = map[string]int{
	"messages.get":             20,
	"messages.attachments.get": 20,
}

// quotaCounter counts requests and quota units per method. Server.mu guards
// it. Every Gmail call that passed authentication goes through charge, so
// quota enforcement can be added there.
type quotaCounter struct {
	regime   string
	requests map[string]int
	units    map[string]int
}

func newQuotaCounter(regime string) quotaCounter {
	if regime != Regime2026 {
		regime = Regime2024
	}
	return quotaCounter{regime: regime, requests: make(map[string]int), units: make(map[string]int)}
}

func (q *quotaCounter) cost(method string) int {
	if q.regime == Regime2026 {
		if c, ok := unitCosts2026[method]; ok {
			return c
		}
	}
	return unitCosts[method]
}

func (q *quotaCounter) charge(method string) {
	q.requests[method]++
	q.units[method] += q.cost(method)
}
