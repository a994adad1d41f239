package emulator

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Quota regimes: Gmail's "Usage limits" page before and after 2026-05-01.
const (
	Regime2024 = "2024"
	Regime2026 = "2026"
)

// Per-user quota limits of the two regimes, in units per minute, for
// Options.QuotaUnitsPerMinute and SetQuota: 15,000 on the "Usage limits"
// page until April 2026, 6,000 for projects created from 2026-05-01.
const (
	UnitsPerMinute2024 = 15000
	UnitsPerMinute2026 = 6000
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

// quotaWindowLength is the span over which the per-user limit is metered.
// Gmail states its limit "per minute per user" without saying whether the
// minute is fixed or sliding. A sliding window never lets more than the limit
// through in any 60 seconds, so it is the conservative reading.
const quotaWindowLength = time.Minute

// quotaCounter counts requests and quota units per method and enforces the
// per-user quota and concurrency limits. Server.mu guards it. Every Gmail
// call that passed authentication goes through charge.
type quotaCounter struct {
	regime          string
	unitsPerMinute  int // per user, where 0 disables the check but not the windows
	rateLimitStatus int // 403 or 429
	maxConcurrent   int // per user, where 0 is unlimited

	requests map[string]int // by method
	units    map[string]int // by method
	windows  map[string]*usageWindow
	inFlight map[string]int // admitted requests running now, by user

	rateLimited         int
	concurrencyRejected int
	injected5xx         int
	dropped             int
	peakConcurrent      int
}

func newQuotaCounter(opts Options) quotaCounter {
	q := quotaCounter{
		regime:          normalizeRegime(opts.QuotaRegime),
		unitsPerMinute:  max(opts.QuotaUnitsPerMinute, 0),
		rateLimitStatus: normalizeRateLimitStatus(opts.RateLimitStatus),
		maxConcurrent:   max(opts.MaxConcurrentPerUser, 0),
		windows:         make(map[string]*usageWindow),
		inFlight:        make(map[string]int),
	}
	q.resetStats()
	return q
}

func normalizeRegime(regime string) string {
	if regime == Regime2026 {
		return Regime2026
	}
	return Regime2024
}

func normalizeRateLimitStatus(code int) int {
	if code == http.StatusTooManyRequests {
		return code
	}
	return http.StatusForbidden
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

func (q *quotaCounter) resetStats() {
	q.requests = make(map[string]int)
	q.units = make(map[string]int)
	q.rateLimited = 0
	q.concurrencyRejected = 0
	q.injected5xx = 0
	q.dropped = 0
	q.peakConcurrent = 0
}

// admit records cost units for user at now and returns true, unless the
// quota is on and they would push the user's window over the limit. Then it
// records nothing and returns the earliest time at which they would fit.
func (q *quotaCounter) admit(user string, cost int, now time.Time) (retryAt time.Time, ok bool) {
	w := q.windows[user]
	if w == nil {
		w = &usageWindow{}
		q.windows[user] = w
	}
	w.prune(now)
	if q.unitsPerMinute > 0 {
		if at, fits := w.fitsAt(now, cost, q.unitsPerMinute); !fits {
			q.rateLimited++
			return at, false
		}
	}
	w.add(now, cost)
	return time.Time{}, true
}

// enter counts one more request of user in flight and returns true, unless
// the user already has maxConcurrent requests in flight.
func (q *quotaCounter) enter(user string) bool {
	if q.maxConcurrent > 0 && q.inFlight[user] >= q.maxConcurrent {
		q.concurrencyRejected++
		return false
	}
	q.inFlight[user]++
	q.peakConcurrent = max(q.peakConcurrent, q.inFlight[user])
	return true
}

func (q *quotaCounter) leave(user string) {
	q.inFlight[user]--
	if q.inFlight[user] <= 0 {
		delete(q.inFlight, user)
	}
}

// usageWindow is one user's quota spending over the last quotaWindowLength,
// oldest first.
type usageWindow struct {
	spends []unitSpend
	total  int
}

type unitSpend struct {
	at    time.Time
	units int
}

// prune drops the spends that left the window by now: a spend at t counts
// until t+quotaWindowLength, exclusive.
func (w *usageWindow) prune(now time.Time) {
	n := 0
	for n < len(w.spends) && !w.spends[n].at.Add(quotaWindowLength).After(now) {
		w.total -= w.spends[n].units
		n++
	}
	w.spends = w.spends[n:]
}

func (w *usageWindow) add(now time.Time, units int) {
	if units > 0 {
		w.spends = append(w.spends, unitSpend{at: now, units: units})
		w.total += units
	}
}

// fitsAt reports whether cost more units fit under limit now, and if not,
// the moment enough old spends will have left the window. A cost above the
// limit never fits, so that request gets a retry time a full window later.
func (w *usageWindow) fitsAt(now time.Time, cost, limit int) (time.Time, bool) {
	if w.total+cost <= limit {
		return time.Time{}, true
	}
	if cost > limit {
		return now.Add(quotaWindowLength), false
	}
	left := w.total
	for _, sp := range w.spends {
		left -= sp.units
		if left+cost <= limit {
			return sp.at.Add(quotaWindowLength), false
		}
	}
	return now.Add(quotaWindowLength), false
}

// apiCaller is whom a Gmail API request is metered against, worked out
// before the router runs so that rejected requests never reach a handler.
type apiCaller struct {
	user   string // empty when the request carries no live access token
	method string // empty when the api wrapper will not charge the request
	cost   int
}

// callerOf returns the user behind r's access token and, when the api
// wrapper in api.go would charge r, the method and its cost. It repeats the
// wrapper's checks in the same order (token, scope, {userId}), so quota is
// spent exactly for the requests that get charged. The caller holds s.mu.
func (s *Server) callerOf(r *http.Request) apiCaller {
	tok := bearerToken(r)
	if tok == "" {
		return apiCaller{}
	}
	g, _ := s.lookupAccess(tok)
	if g == nil {
		return apiCaller{}
	}
	c := apiCaller{user: g.user}
	method := gmailMethod(r)
	if method == "" || !scopeAllows(method, g.scopes) {
		return c
	}
	if userID := pathUserID(r.URL); userID != "me" && !strings.EqualFold(userID, g.user) {
		return c
	}
	c.method = method
	c.cost = s.quota.cost(method)
	return c
}

// methodRoute is a ServeMux handler that does nothing: the mux in
// meteredRoutes only maps a request to its Gmail method name.
type methodRoute string

func (methodRoute) ServeHTTP(http.ResponseWriter, *http.Request) {}

// meteredRoutes maps the charged Gmail routes of api.go to their method
// names. A route missing here is served but costs no quota units.
// NOTE: a batch endpoint, once added, must meter each inner call (Gmail
// counts a batch of n calls as n requests); none exists yet.
var meteredRoutes = func() *http.ServeMux {
	mux := http.NewServeMux()
	const u = "/gmail/v1/users/{userId}"
	for pattern, method := range map[string]string{
		"GET " + u + "/profile":                               "getProfile",
		"GET " + u + "/labels":                                "labels.list",
		"POST " + u + "/labels":                               "labels.create",
		"GET " + u + "/labels/{id}":                           "labels.get",
		"GET " + u + "/messages":                              "messages.list",
		"GET " + u + "/messages/{id}":                         "messages.get",
		"DELETE " + u + "/messages/{id}":                      "messages.delete",
		"GET " + u + "/messages/{messageId}/attachments/{id}": "messages.attachments.get",
		"POST " + u + "/messages/{id}/modify":                 "messages.modify",
		"POST " + u + "/messages/{id}/trash":                  "messages.trash",
		"POST " + u + "/messages/{id}/untrash":                "messages.untrash",
		"POST " + u + "/messages/batchModify":                 "messages.batchModify",
		"POST " + u + "/messages/batchDelete":                 "messages.batchDelete",
		"POST " + u + "/messages/send":                        "messages.send",
		"POST /upload" + u + "/messages/send":                 "messages.send",
		"POST /resumable/upload" + u + "/messages/send":       "messages.send",
		"PUT /upload" + u + "/messages/send":                  "messages.send",
		"GET " + u + "/history":                               "history.list",
	} {
		mux.Handle(pattern, methodRoute(method))
	}
	return mux
}()

// gmailMethod returns the Gmail method name that r will be charged as, or
// "" for a request that is not charged, such as a chunk of an open upload
// session (it carries upload_id and goes around the api wrapper).
func gmailMethod(r *http.Request) string {
	if r.URL.Query().Get("upload_id") != "" {
		return ""
	}
	h, _ := meteredRoutes.Handler(r)
	m, _ := h.(methodRoute)
	return string(m)
}

// pathUserID returns the {userId} segment of a Gmail API path, unescaped.
func pathUserID(u *url.URL) string {
	_, rest, ok := strings.Cut(u.EscapedPath(), "/users/")
	if !ok {
		return ""
	}
	seg, _, _ := strings.Cut(rest, "/")
	id, err := url.PathUnescape(seg)
	if err != nil {
		return seg
	}
	return id
}

// Stats is a snapshot of the Gmail API counters since New or the last
// ResetStats. Its JSON form is the body of GET /admin/stats.
type Stats struct {
	Regime string `json:"regime"`
	// Requests and Units count the calls that were processed, by Gmail
	// method name ("messages.get"). Rejected requests and injected faults
	// cost nothing.
	Requests map[string]int `json:"requests"`
	Units    map[string]int `json:"units"`
	// RateLimited counts quota rejections, ConcurrencyRejected the
	// concurrency 429s, Injected5xx and Dropped the injected faults.
	RateLimited         int `json:"rateLimited"`
	ConcurrencyRejected int `json:"concurrencyRejected"`
	Injected5xx         int `json:"injected5xx"`
	Dropped             int `json:"dropped"`
	// PeakConcurrent is the largest number of one user's admitted requests
	// in flight at once, latency included.
	PeakConcurrent int `json:"peakConcurrent"`
}

// Stats returns a copy of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &s.quota
	return Stats{
		Regime:              q.regime,
		Requests:            maps.Clone(q.requests),
		Units:               maps.Clone(q.units),
		RateLimited:         q.rateLimited,
		ConcurrencyRejected: q.concurrencyRejected,
		Injected5xx:         q.injected5xx,
		Dropped:             q.dropped,
		PeakConcurrent:      q.peakConcurrent,
	}
}

// ResetStats zeroes the counters. The quota windows keep the units already
// spent, so a reset does not lift a rate limit.
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota.resetStats()
}

// SetQuota sets the per-user limit in units per minute (0 turns enforcement
// off, but units are still counted) and the regime that prices each method. An
// empty regime keeps the current one, and any value but Regime2026 means
// Regime2024. Units spent before the call stay in the window.
func (s *Server) SetQuota(unitsPerMinute int, regime string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quota.unitsPerMinute = max(unitsPerMinute, 0)
	if regime != "" {
		s.quota.regime = normalizeRegime(regime)
	}
}
