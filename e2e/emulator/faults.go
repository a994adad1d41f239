package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Faults are failures injected into Gmail API requests (/gmail/v1/...,
// /upload/..., /resumable/upload/... and /batch...). OAuth and admin
// requests never see them. The zero value injects nothing.
type Faults struct {
	// Latency delays every Gmail API response, including rejections.
	Latency time.Duration
	// LatencyJitter adds a uniformly drawn extra delay in [0, LatencyJitter).
	LatencyJitter time.Duration
	// ErrorRate is the fraction of requests that get a 500 or 503 response
	// (half each) before any work is done.
	ErrorRate float64
	// DropRate is the fraction of requests whose connection is closed without
	// a response. Half are dropped before the handler runs and half after it
	// ran, so a dropped send may have been sent: the "in doubt" case.
	// ErrorRate+DropRate must not exceed 1. Go's http.Transport resends a
	// GET once when a reused connection closes before any response, so a
	// dropped GET may reach the server a second time and meet a new draw.
	DropRate float64
	// Seed starts the random sequence, so the same requests in the same
	// order meet the same faults.
	Seed int64
}

// Validate returns an error for negative durations, a rate outside [0, 1]
// or rates that add up to more than 1.
func (f Faults) Validate() error {
	switch {
	case f.Latency < 0 || f.LatencyJitter < 0:
		return fmt.Errorf("invalid latency %v with jitter %v: use 0 or more", f.Latency, f.LatencyJitter)
	case f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("invalid error rate %v: use a fraction from 0 to 1", f.ErrorRate)
	case f.DropRate < 0 || f.DropRate > 1:
		return fmt.Errorf("invalid drop rate %v: use a fraction from 0 to 1", f.DropRate)
	case f.ErrorRate+f.DropRate > 1:
		return fmt.Errorf("error rate %v and drop rate %v add up to more than 1", f.ErrorRate, f.DropRate)
	}
	return nil
}

// faultState draws the faults of each request from a seeded sequence.
// Server.mu guards it.
type faultState struct {
	cfg Faults
	rng *rand.Rand
}

func newFaultState(f Faults) faultState {
	f.DropRate = min(max(f.DropRate, 0), 1)
	f.ErrorRate = min(max(f.ErrorRate, 0), 1-f.DropRate)
	seed := uint64(f.Seed)
	return faultState{cfg: f, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// faultPlan is what happens to one request.
type faultPlan struct {
	delay      time.Duration
	dropBefore bool // close the connection before the handler runs
	dropAfter  bool // run the handler, then close without a response
	status     int  // 500 or 503 to send instead of running the handler, or 0
	gmailText  bool // send a 503 with "Gmail service is temporarily unavailable"
}

// plan draws the next request's faults. It always draws three numbers, so a
// change of rates does not shift the sequence of later requests.
func (f *faultState) plan() faultPlan {
	outcome, split, jitter := f.rng.Float64(), f.rng.Float64(), f.rng.Float64()
	p := faultPlan{delay: max(f.cfg.Latency, 0)}
	if f.cfg.LatencyJitter > 0 {
		p.delay += time.Duration(jitter * float64(f.cfg.LatencyJitter))
	}
	switch {
	case outcome < f.cfg.DropRate:
		p.dropBefore = split < 0.5
		p.dropAfter = !p.dropBefore
	case outcome < f.cfg.DropRate+f.cfg.ErrorRate:
		p.status = http.StatusInternalServerError
		if split >= 0.5 {
			p.status = http.StatusServiceUnavailable
			p.gmailText = split >= 0.75
		}
	}
	return p
}

// SetFaults replaces the injected faults and restarts their random sequence
// from f.Seed. Rates are clamped to [0, 1], ErrorRate to 1-DropRate, and
// negative durations act as 0. Use Faults.Validate to reject them instead.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = newFaultState(f)
}

// isGmailAPIPath reports whether path is served by the Gmail API, as
// opposed to OAuth or the admin API.
func isGmailAPIPath(path string) bool {
	for _, prefix := range []string{"/gmail/v1/", "/upload/", "/resumable/upload/", "/batch"} {
		if strings.HasPrefix(path, prefix) {
			return true
		}
	}
	return false
}

// guardAPI applies faults and per-user limits to Gmail API requests in this
// order: the concurrency limit (a request counts as in flight from arrival,
// latency included), latency, a dropped connection or a 5xx, then the quota.
// Other requests pass straight to next.
func (s *Server) guardAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isGmailAPIPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		s.mu.Lock()
		plan := s.faults.plan()
		caller := s.callerOf(r)
		admitted := caller.user == "" || s.quota.enter(caller.user)
		s.mu.Unlock()
		if caller.user != "" && admitted {
			defer func() {
				s.mu.Lock()
				s.quota.leave(caller.user)
				s.mu.Unlock()
			}()
		}

		if !sleepContext(r.Context(), plan.delay) {
			return
		}
		if !admitted {
			writeConcurrencyLimit(w)
			return
		}
		if plan.dropBefore {
			s.dropConnection(w, r, "before handler")
			return
		}
		if plan.status != 0 {
			s.writeInjectedError(w, plan)
			return
		}
		if caller.method != "" && !s.admitQuota(w, caller) {
			return
		}
		if plan.dropAfter {
			next.ServeHTTP(&discardWriter{header: make(http.Header)}, r)
			s.dropConnection(w, r, "after handler")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admitQuota spends the caller's units, or writes Gmail's quota error and
// returns false when they do not fit in the caller's window.
func (s *Server) admitQuota(w http.ResponseWriter, c apiCaller) bool {
	s.mu.Lock()
	retryAt, ok := s.quota.admit(c.user, c.cost, s.now())
	status := s.quota.rateLimitStatus
	s.mu.Unlock()
	if !ok {
		writeAPIError(w, errUserRateLimit(status, retryAt))
	}
	return ok
}

func sleepContext(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// dropConnection closes the client connection without a response. It reads
// the rest of the request body first, so the client sees EOF rather than a
// reset. Where the connection cannot be hijacked (HTTP/2), it aborts the
// handler, which also ends the response without one.
func (s *Server) dropConnection(w http.ResponseWriter, r *http.Request, when string) {
	s.mu.Lock()
	s.quota.dropped++
	s.mu.Unlock()
	s.logger.Debug("dropping connection", "path", r.URL.Path, "when", when)

	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, uploadBodyLimit))
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if err := conn.Close(); err != nil && !errors.Is(err, io.EOF) {
		s.logger.Debug("closing dropped connection", "error", err)
	}
}

// discardWriter swallows the response of a handler whose connection is
// dropped after it ran.
type discardWriter struct {
	header http.Header
}

func (d *discardWriter) Header() http.Header         { return d.header }
func (d *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardWriter) WriteHeader(int)             {}

// concurrencyLimitBody is Gmail's per-user concurrency 429 byte for byte,
// as reported by third-party clients. Unlike most Gmail errors it carries
// no "status" field.
const concurrencyLimitBody = `{"error":{"errors":[{"domain":"usageLimits","reason":"rateLimitExceeded",` +
	`"message":"Too many concurrent requests for user"}],"code":429,"message":"Too many concurrent requests for user"}}`

func writeConcurrencyLimit(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = io.WriteString(w, concurrencyLimitBody)
}

// errUserRateLimit is Gmail's per-user quota error as reported by
// third-party clients: the retry time sits in the message after two spaces,
// in RFC 3339 UTC with milliseconds, and no Retry-After header is set.
// Gmail sends it as 403 and sometimes as 429.
func errUserRateLimit(status int, retryAt time.Time) *apiError {
	// Round up, so the stated time is never before the window frees up.
	at := retryAt.UTC().Truncate(time.Millisecond)
	if at.Before(retryAt) {
		at = at.Add(time.Millisecond)
	}
	return &apiError{
		Code:        status,
		Message:     "User-rate limit exceeded.  Retry after " + at.Format("2006-01-02T15:04:05.000Z"),
		ItemMessage: "User-rate limit exceeded.",
		Domain:      "usageLimits",
		Reason:      "rateLimitExceeded",
	}
}

// writeInjectedError writes an injected 5xx with Gmail's texts: 500
// backendError "Backend Error" (Gmail's "Resolve errors" guide), and 503
// with either Google's generic text or "Gmail service is temporarily
// unavailable", both reported by third parties.
func (s *Server) writeInjectedError(w http.ResponseWriter, p faultPlan) {
	s.mu.Lock()
	s.quota.injected5xx++
	s.mu.Unlock()

	e := &apiError{Code: http.StatusInternalServerError, Message: "Backend Error", Reason: "backendError"}
	status := "INTERNAL"
	if p.status == http.StatusServiceUnavailable {
		e = &apiError{Code: p.status, Message: "The service is currently unavailable.", Reason: "backendError"}
		if p.gmailText {
			e.Message = "Gmail service is temporarily unavailable"
		}
		status = "UNAVAILABLE"
	}
	body := e.body()
	body.Status = status
	writeJSON(w, e.Code, map[string]errorBody{"error": body})
}
