package gmailapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
)

func TestGetRawRetriesServerErrors(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n <= 2 {
			writeGmailError(w, http.StatusServiceUnavailable, "The service is currently unavailable.", "backendError")
			return true
		}
		return false
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	msg, err := c.GetRaw(testContext(t), "m1")
	if err != nil {
		t.Fatalf("GetRaw(m1) = %v, want success after two 503s", err)
	}
	if string(msg.Raw) != "Subject: m1\r\n\r\nbody\r\n" {
		t.Errorf("GetRaw(m1).Raw = %q", msg.Raw)
	}
	u := c.Meter().Usage()
	if u.Calls["messages.get"] != 3 || u.Units["messages.get"] != 5 || u.Retries != 2 {
		t.Errorf("Usage() = %v, want 3 calls, 5 units (503s cost nothing), 2 retries", u)
	}
}

func TestGetRawRetriesDroppedConnection(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n == 1 {
			dropConnection(w)
			return true
		}
		return false
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	if _, err := c.GetRaw(testContext(t), "m1"); err != nil {
		t.Fatalf("GetRaw(m1) = %v, want success after a dropped connection", err)
	}
	if got := fake.requests.Load(); got != 2 {
		t.Errorf("server saw %d requests, want 2", got)
	}
}

func TestGetRawPermanentErrorFailsAtOnce(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		writeGmailError(w, http.StatusNotFound, "Requested entity was not found.", "notFound")
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	_, err := c.GetRaw(testContext(t), "gone")
	if !IsNotFound(err) {
		t.Fatalf("GetRaw(gone) = %v, want a not-found error", err)
	}
	u := c.Meter().Usage()
	if u.Calls["messages.get"] != 1 || u.Units["messages.get"] != 5 || u.Retries != 0 {
		t.Errorf("Usage() = %v, want 1 call, 5 units, no retry", u)
	}
}

func TestGetRawGivesUpAfterMaxAttempts(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		writeGmailError(w, http.StatusInternalServerError, "Backend Error", "backendError")
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	start := time.Now()
	_, err := c.GetRaw(testContext(t), "m1")
	if Classify(err) != Temporary {
		t.Fatalf("GetRaw(m1) = %v, want the last 500", err)
	}
	if got := fake.requests.Load(); got != 6 {
		t.Errorf("server saw %d requests, want 6 (MaxAttempts)", got)
	}
	// Backoff of 5, 10, 20, 40 and 80 ms at least: a failing call never spins.
	if elapsed := time.Since(start); elapsed < 155*time.Millisecond {
		t.Errorf("six attempts took %v, want at least 155ms of backoff", elapsed)
	}
}

func TestGetRawWaitsForRetryAfter(t *testing.T) {
	var retryAt time.Time
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		if n == 1 {
			retryAt = time.Now().Add(300 * time.Millisecond)
			writeQuotaError(w, retryAt)
			return true
		}
		return false
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	if _, err := c.GetRaw(testContext(t), "m1"); err != nil {
		t.Fatalf("GetRaw(m1) = %v, want success after the retry time", err)
	}
	fake.mu.Lock()
	second := fake.seen[1].at
	fake.mu.Unlock()
	// The message states milliseconds, so allow for the truncation.
	if early := retryAt.Sub(second); early > time.Millisecond {
		t.Errorf("retry came %v before the time Gmail named", early)
	}
	u := c.Meter().Usage()
	if u.Calls["messages.get"] != 2 || u.Units["messages.get"] != 5 || u.RateLimited != 1 || u.RateWaits != 1 || u.Retries != 1 {
		t.Errorf("Usage() = %v, want 2 calls, 5 units, 1 rate-limit answer, 1 pause, 1 retry", u)
	}
}

func TestFetchRawQuotaErrorPausesEveryWorker(t *testing.T) {
	var (
		firstError atomic.Int64 // UnixNano of the first quota error
		retryAt    atomic.Int64
	)
	const pause = 2 * time.Second
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, n int64) bool {
		now := time.Now()
		if n == 10 {
			firstError.Store(now.UnixNano())
			retryAt.Store(now.Add(pause).UnixNano())
		}
		if at := retryAt.Load(); at != 0 && now.UnixNano() < at {
			writeQuotaError(w, time.Unix(0, at))
			return true
		}
		return false
	})
	fake.latency = 5 * time.Millisecond
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)

	fetched := map[string]bool{}
	err := c.FetchRaw(testContext(t), ids(60), 4, func(res FetchResult) error {
		if res.Err != nil {
			t.Errorf("FetchRaw result %s = %v", res.ID, res.Err)
			return nil
		}
		fetched[res.ID] = true
		return nil
	})
	if err != nil || len(fetched) != 60 {
		t.Fatalf("FetchRaw() = %v with %d of 60 messages", err, len(fetched))
	}
	// Requests admitted before the pause may still arrive late on a loaded
	// machine. In the second half of the pause no request arrives from any
	// worker.
	first := time.Unix(0, firstError.Load())
	if got := fake.requestsBetween(first.Add(pause/2), time.Unix(0, retryAt.Load())); got != 0 {
		t.Errorf("%d requests arrived during the pause, want 0", got)
	}
	u := c.Meter().Usage()
	if u.RateWaits != 1 || u.Units["messages.get"] != 300 {
		t.Errorf("Usage() = %v, want one pause and 300 units for 60 messages", u)
	}
	if rate, ceiling := c.Meter().Rate(), 0.95*6_000_000; rate >= ceiling {
		t.Errorf("Rate() = %v after a quota error, want below the target %v", rate, ceiling)
	}
}

func TestFetchRawLowersConcurrency(t *testing.T) {
	var inFlight, peak, rejected atomic.Int64
	const limit = 2
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		if n > limit {
			rejected.Add(1)
			writeConcurrencyError(w)
			return true
		}
		for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
		}
		time.Sleep(20 * time.Millisecond)
		return false
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)

	done := 0
	err := c.FetchRaw(testContext(t), ids(100), 16, func(res FetchResult) error {
		if res.Err != nil {
			t.Errorf("FetchRaw result %s = %v", res.ID, res.Err)
		}
		done++
		return nil
	})
	if err != nil || done != 100 {
		t.Fatalf("FetchRaw() = %v after %d of 100 results", err, done)
	}
	// 16 workers against a limit of 2: the first volley is refused, the cap
	// halves down to the limit, and later probes above it cost one refusal
	// per raiseAfter × cap successes.
	if got := rejected.Load(); got > 40 {
		t.Errorf("server refused %d requests as too many concurrent, want at most 40", got)
	}
	u := c.Meter().Usage()
	if u.RateWaits != 0 || u.Units["messages.get"] != 500 {
		t.Errorf("Usage() = %v, want no quota pause and 500 units", u)
	}
}

func TestConcurrencyLimitAdapts(t *testing.T) {
	l := newConcurrencyLimit(8)
	ctx := context.Background()
	var tickets []uint64
	for range 8 {
		ticket, err := l.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tickets = append(tickets, ticket)
	}

	// A volley of refusals for requests in flight together halves once.
	for _, ticket := range tickets {
		l.release(ticket, concurrencyError)
	}
	if got := l.current(); got != 4 {
		t.Fatalf("cap after one volley of refusals = %d, want 4", got)
	}

	ticket, _ := l.acquire(ctx)
	l.release(ticket, concurrencyError)
	if got := l.current(); got != 2 {
		t.Fatalf("cap after a later refusal = %d, want 2", got)
	}

	for range 3 {
		ticket, _ := l.acquire(ctx)
		l.release(ticket, concurrencyError)
	}
	if got := l.current(); got != 1 {
		t.Fatalf("cap after more refusals = %d, want the floor 1", got)
	}

	for range raiseAfter {
		ticket, _ := l.acquire(ctx)
		l.release(ticket, nil)
	}
	if got := l.current(); got != 2 {
		t.Errorf("cap after %d successes = %d, want 2", raiseAfter, got)
	}
}

func TestFetchRawHandleErrorStops(t *testing.T) {
	fake := newFakeGmail(t, nil)
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	stop := errors.New("stop")
	calls := 0
	err := c.FetchRaw(testContext(t), ids(50), 4, func(FetchResult) error {
		calls++
		if calls == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 3 {
		t.Errorf("FetchRaw() = %v after %d handle calls, want the handle's error after 3", err, calls)
	}
}

func TestHistoryPagesWithSameStart(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, r *http.Request, n int64) bool {
		switch n {
		case 1:
			writeGmailError(w, http.StatusInternalServerError, "Backend Error", "backendError")
		case 2:
			writeJSONBody(w, http.StatusOK, map[string]any{"history": []map[string]any{{"id": "43"}}, "nextPageToken": "p2", "historyId": "50"})
		default:
			writeJSONBody(w, http.StatusOK, map[string]any{"history": []map[string]any{{"id": "44"}}, "historyId": "50"})
		}
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	var records []uint64
	err := c.History(testContext(t), 42, func(resp *gmail.ListHistoryResponse) error {
		for _, h := range resp.History {
			records = append(records, h.Id)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("History(42) = %v", err)
	}
	if diff := cmp.Diff([]uint64{43, 44}, records); diff != "" {
		t.Errorf("History(42) records (-want +got):\n%s", diff)
	}
	var queries []url.Values
	for _, s := range fake.seen {
		q, _ := url.ParseQuery(s.query)
		queries = append(queries, url.Values{"startHistoryId": q["startHistoryId"], "maxResults": q["maxResults"], "pageToken": q["pageToken"]})
	}
	want := []url.Values{
		{"startHistoryId": {"42"}, "maxResults": {"500"}, "pageToken": nil},
		{"startHistoryId": {"42"}, "maxResults": {"500"}, "pageToken": nil},
		{"startHistoryId": {"42"}, "maxResults": {"500"}, "pageToken": {"p2"}},
	}
	if diff := cmp.Diff(want, queries); diff != "" {
		t.Errorf("history.list queries (-want +got):\n%s", diff)
	}
	if got := c.Meter().Usage().Units["history.list"]; got != 4 {
		t.Errorf("history.list units = %d, want 4 (two pages at 2 units)", got)
	}
}

func TestHistoryTooOldIsNotFound(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		writeGmailError(w, http.StatusNotFound, "Requested entity was not found.", "notFound")
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	err := c.History(testContext(t), 1, func(*gmail.ListHistoryResponse) error { return nil })
	if !IsNotFound(err) {
		t.Errorf("History(1) = %v, want a not-found error", err)
	}
}

func TestGetMinimalAsksFormatMinimal(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if got := r.URL.Query().Get("format"); got != "minimal" {
			t.Errorf("format = %q, want minimal", got)
		}
		writeJSONBody(w, http.StatusOK, map[string]any{"id": "m1", "labelIds": []string{"INBOX", "UNREAD"}})
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	msg, err := c.GetMinimal(testContext(t), "m1")
	if err != nil || !cmp.Equal(msg.LabelIds, []string{"INBOX", "UNREAD"}) {
		t.Errorf("GetMinimal(m1) = %v, %v, want labels INBOX and UNREAD", msg, err)
	}
}

func TestSendIsNotRetried(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, _ *http.Request, _ int64) bool {
		writeGmailError(w, http.StatusServiceUnavailable, "The service is currently unavailable.", "backendError")
		return true
	})
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, nil)
	if _, err := c.Send(testContext(t), []byte("Subject: x\r\n\r\nbody\r\n"), ""); err == nil {
		t.Fatal("Send() succeeded, want the 503")
	}
	if got := fake.requests.Load(); got != 1 {
		t.Errorf("server saw %d send requests, want 1", got)
	}
}

// countingSource hands out a new token after each Invalidate.
type countingSource struct{ invalidated atomic.Int64 }

func (s *countingSource) Token() (*oauth2.Token, error) {
	if s.invalidated.Load() == 0 {
		return &oauth2.Token{AccessToken: "stale"}, nil
	}
	return &oauth2.Token{AccessToken: "fresh"}, nil
}

func (s *countingSource) Invalidate() { s.invalidated.Add(1) }

func TestCallRefreshesTokenAfter401(t *testing.T) {
	fake := newFakeGmail(t, func(w http.ResponseWriter, r *http.Request, _ int64) bool {
		if r.Header.Get("Authorization") != "Bearer fresh" {
			writeGmailError(w, http.StatusUnauthorized, "Invalid Credentials", "authError")
			return true
		}
		return false
	})
	ts := &countingSource{}
	c := newTestClient(t, fake.srv.URL, MeterOptions{}, ts)
	c.SetTokenInvalidator(ts)
	if _, err := c.GetRaw(testContext(t), "m1"); err != nil {
		t.Fatalf("GetRaw(m1) = %v, want success with a fresh token", err)
	}
	u := c.Meter().Usage()
	if ts.invalidated.Load() != 1 || u.Calls["messages.get"] != 2 || u.Units["messages.get"] != 5 {
		t.Errorf("after a 401: %d invalidations, usage %v, want 1, 2 calls and 5 units", ts.invalidated.Load(), u)
	}
}
