package gmailapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// fakeGmail is an httptest server with Gmail's paths. Each request gets a
// number from 1 up. respond may write the response and return true;
// otherwise messages.get returns a small raw message.
type fakeGmail struct {
	srv      *httptest.Server
	latency  time.Duration
	respond  func(w http.ResponseWriter, r *http.Request, n int64) bool
	requests atomic.Int64

	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	at    time.Time
	path  string
	query string
}

func newFakeGmail(t *testing.T, respond func(w http.ResponseWriter, r *http.Request, n int64) bool) *fakeGmail {
	t.Helper()
	f := &fakeGmail{respond: respond}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGmail) serve(w http.ResponseWriter, r *http.Request) {
	n := f.requests.Add(1)
	f.mu.Lock()
	f.seen = append(f.seen, seenRequest{at: time.Now(), path: r.URL.Path, query: r.URL.RawQuery})
	f.mu.Unlock()
	if f.latency > 0 {
		time.Sleep(f.latency)
	}
	if f.respond != nil && f.respond(w, r, n) {
		return
	}
	const prefix = "/gmail/v1/users/me/messages/"
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix) {
		id := strings.TrimPrefix(r.URL.Path, prefix)
		raw := base64.URLEncoding.EncodeToString(fmt.Appendf(nil, "Subject: %s\r\n\r\nbody\r\n", id))
		writeJSONBody(w, http.StatusOK, map[string]any{"id": id, "threadId": "t" + id, "labelIds": []string{"INBOX"}, "raw": raw})
		return
	}
	writeGmailError(w, http.StatusNotFound, "Requested entity was not found.", "notFound")
}

// requestsBetween counts the requests that arrived in [from, to).
func (f *fakeGmail) requestsBetween(from, to time.Time) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, s := range f.seen {
		if !s.at.Before(from) && s.at.Before(to) {
			n++
		}
	}
	return n
}

func writeJSONBody(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeGmailError(w http.ResponseWriter, code int, message, reason string) {
	writeJSONBody(w, code, map[string]any{"error": map[string]any{
		"code": code, "message": message,
		"errors": []map[string]string{{"message": message, "domain": "usageLimits", "reason": reason}},
	}})
}

func writeQuotaError(w http.ResponseWriter, retryAt time.Time) {
	writeGmailError(w, http.StatusForbidden,
		"User-rate limit exceeded.  Retry after "+retryAt.UTC().Format("2006-01-02T15:04:05.000Z"), "rateLimitExceeded")
}

func writeConcurrencyError(w http.ResponseWriter) {
	writeGmailError(w, http.StatusTooManyRequests, "Too many concurrent requests for user", "rateLimitExceeded")
}

// dropConnection closes the connection without a response.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

// fastRetries is the default policy with millisecond waits.
var fastRetries = RetryPolicy{MaxAttempts: 6, MaxRateWaits: 10, BaseDelay: 5 * time.Millisecond, MaxDelay: 100 * time.Millisecond}

// newTestClient returns a client of base with fast retries and a meter
// of opts (a generous ceiling when zero).
func newTestClient(t testing.TB, base string, opts MeterOptions, ts oauth2.TokenSource) *Client {
	t.Helper()
	if opts.UnitsPerMinute == 0 {
		opts.UnitsPerMinute = 6_000_000
	}
	if opts.MinPause == 0 {
		opts.MinPause = 20 * time.Millisecond
	}
	if ts == nil {
		ts = oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "test-token"})
	}
	svc, err := NewService(context.Background(), base, ts)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClient(svc, NewMeterWithOptions(opts), nil)
	c.SetRetryPolicy(fastRetries)
	return c
}

// testContext returns a context that ends with the test or after a minute.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("m%04d", i)
	}
	return out
}
