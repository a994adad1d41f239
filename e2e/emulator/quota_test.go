package emulator

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/googleapi"
)

// fakeClock is a settable clock for the quota window, safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startClocked starts an emulator whose clock the test moves by hand.
func startClocked(t *testing.T, opts Options) (*Server, string, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 9, 11, 19, 59, 0, 0, time.UTC)}
	srv := New(opts)
	srv.now = clock.Now
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return srv, base, clock
}

var retryAfterMessage = regexp.MustCompile(`^User-rate limit exceeded\.  Retry after (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)$`)

// wantRateLimit checks err is Gmail's quota error with code and returns
// the retry time stated in its message.
func wantRateLimit(t *testing.T, call string, err error, code int) time.Time {
	t.Helper()
	gerr := wantAPIError(t, call, err, code, "rateLimitExceeded")
	m := retryAfterMessage.FindStringSubmatch(gerr.Message)
	if m == nil {
		t.Fatalf("%s message = %q, want \"User-rate limit exceeded.  Retry after <RFC 3339 ms>\"", call, gerr.Message)
	}
	at, err := time.Parse(time.RFC3339Nano, m[1])
	if err != nil {
		t.Fatalf("%s retry time %q: %v", call, m[1], err)
	}
	if len(gerr.Errors) == 0 || gerr.Errors[0].Message != "User-rate limit exceeded." {
		t.Errorf("%s errors = %+v, want message \"User-rate limit exceeded.\"", call, gerr.Errors)
	}
	wantStatus := map[int]string{403: `"status":"PERMISSION_DENIED"`, 429: `"status":"RESOURCE_EXHAUSTED"`}[code]
	for _, want := range []string{`"domain":"usageLimits"`, wantStatus} {
		if !strings.Contains(gerr.Body, want) {
			t.Errorf("%s body = %s, want %s", call, gerr.Body, want)
		}
	}
	if h := gerr.Header.Get("Retry-After"); h != "" {
		t.Errorf("%s Retry-After header = %q, want none", call, h)
	}
	return at
}

func TestQuotaRejectsOverLimit(t *testing.T) {
	srv, base, clock := startClocked(t, Options{QuotaUnitsPerMinute: 10})
	mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<q1@x>", "", "body"), nil, time.Time{})
	svc := service(t, base, scopeReadonly)
	start := clock.Now()

	list, err := svc.Users.Messages.List("me").Do()
	if err != nil || len(list.Messages) != 1 {
		t.Fatalf("Messages.List() = %v, %v; want one message", list, err)
	}
	clock.Advance(10 * time.Second)
	if _, err := svc.Users.Messages.Get("me", list.Messages[0].Id).Do(); err != nil {
		t.Fatalf("Messages.Get() = %v", err)
	}
	clock.Advance(time.Second)
	_, err = svc.Users.GetProfile("me").Do()
	at := wantRateLimit(t, "GetProfile(over quota)", err, http.StatusForbidden)
	if want := start.Add(time.Minute); !at.Equal(want) {
		t.Errorf("retry after = %v, want %v (when the first 5 units leave the window)", at, want)
	}
	if !at.After(clock.Now()) {
		t.Errorf("retry after = %v, want after now %v", at, clock.Now())
	}

	clock.Advance(at.Sub(clock.Now()) - time.Millisecond)
	_, err = svc.Users.GetProfile("me").Do()
	wantRateLimit(t, "GetProfile(1ms early)", err, http.StatusForbidden)
	clock.Advance(time.Millisecond)
	if _, err := svc.Users.GetProfile("me").Do(); err != nil {
		t.Fatalf("GetProfile(at retry time) = %v", err)
	}

	got := srv.Stats()
	want := Stats{
		Regime:      Regime2024,
		Requests:    map[string]int{"messages.list": 1, "messages.get": 1, "getProfile": 1},
		Units:       map[string]int{"messages.list": 5, "messages.get": 5, "getProfile": 1},
		RateLimited: 2, PeakConcurrent: 1,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Stats() (-want +got):\n%s", diff)
	}
}

func TestQuotaWindowSlides(t *testing.T) {
	srv, base, clock := startClocked(t, Options{QuotaUnitsPerMinute: 2})
	svc := service(t, base, scopeReadonly)
	start := clock.Now()
	profile := func() error {
		_, err := svc.Users.GetProfile("me").Do()
		return err
	}

	if err := profile(); err != nil {
		t.Fatalf("GetProfile(t+0s) = %v", err)
	}
	clock.Advance(30 * time.Second)
	if err := profile(); err != nil {
		t.Fatalf("GetProfile(t+30s) = %v", err)
	}
	clock.Advance(10 * time.Second)
	at := wantRateLimit(t, "GetProfile(t+40s)", profile(), http.StatusForbidden)
	if want := start.Add(time.Minute); !at.Equal(want) {
		t.Errorf("retry after at t+40s = %v, want %v", at, want)
	}
	clock.Advance(20 * time.Second)
	if err := profile(); err != nil {
		t.Fatalf("GetProfile(t+60s) = %v", err)
	}
	clock.Advance(10 * time.Second)
	at = wantRateLimit(t, "GetProfile(t+70s)", profile(), http.StatusForbidden)
	if want := start.Add(90 * time.Second); !at.Equal(want) {
		t.Errorf("retry after at t+70s = %v, want %v (the t+30s unit leaves)", at, want)
	}
	if got := srv.Stats().Requests["getProfile"]; got != 3 {
		t.Errorf("Stats().Requests[getProfile] = %d, want 3", got)
	}
}

func TestQuotaStatus429(t *testing.T) {
	_, base, _ := startClocked(t, Options{QuotaUnitsPerMinute: 1, RateLimitStatus: http.StatusTooManyRequests})
	svc := service(t, base, scopeReadonly)
	if _, err := svc.Users.GetProfile("me").Do(); err != nil {
		t.Fatalf("GetProfile() = %v", err)
	}
	_, err := svc.Users.GetProfile("me").Do()
	wantRateLimit(t, "GetProfile(over quota)", err, http.StatusTooManyRequests)
}

func TestQuotaCostAboveLimit(t *testing.T) {
	_, base, clock := startClocked(t, Options{QuotaUnitsPerMinute: 4})
	svc := service(t, base, scopeReadonly)
	_, err := svc.Users.Messages.List("me").Do()
	at := wantRateLimit(t, "Messages.List(cost 5, limit 4)", err, http.StatusForbidden)
	if want := clock.Now().Add(time.Minute); !at.Equal(want) {
		t.Errorf("retry after = %v, want %v", at, want)
	}
}

func TestQuotaRegime2026(t *testing.T) {
	srv, base, _ := startClocked(t, Options{QuotaRegime: Regime2026, QuotaUnitsPerMinute: 39})
	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<q2@x>", "", "body"), nil, time.Time{})
	svc := service(t, base, scopeReadonly)
	if _, err := svc.Users.Messages.Get("me", id).Do(); err != nil {
		t.Fatalf("Messages.Get() = %v", err)
	}
	_, err := svc.Users.Messages.Get("me", id).Do()
	wantRateLimit(t, "Messages.Get(20 + 20 > 39)", err, http.StatusForbidden)

	srv.SetQuota(40, "")
	if _, err := svc.Users.Messages.Get("me", id).Do(); err != nil {
		t.Errorf("Messages.Get() after SetQuota(40) = %v", err)
	}
	srv.SetQuota(0, Regime2024)
	if _, err := svc.Users.Messages.Get("me", id).Do(); err != nil {
		t.Errorf("Messages.Get() with the quota off = %v", err)
	}
	if got, want := srv.Stats().Units["messages.get"], 20+20+5; got != want {
		t.Errorf("Stats().Units[messages.get] = %d, want %d", got, want)
	}
}

// TestQuotaWindowMatchesCharges guards meteredRoutes against drift from the
// routes in api.go: every charged call must spend exactly its units.
func TestQuotaWindowMatchesCharges(t *testing.T) {
	srv, base, _ := startClocked(t, Options{QuotaUnitsPerMinute: 100000})
	id, _ := mustAdd(t, srv, testMessage("bob@example.org", testUser, "Hi", "<q3@x>", "", "body"), nil, time.Time{})
	svc := service(t, base, scopeMail)
	calls := map[string]func() error{
		"getProfile":  func() error { _, err := svc.Users.GetProfile("me").Do(); return err },
		"labels.list": func() error { _, err := svc.Users.Labels.List("me").Do(); return err },
		"labels.get":  func() error { _, err := svc.Users.Labels.Get("me", "INBOX").Do(); return err },
		"messages.get": func() error {
			_, err := svc.Users.Messages.Get("me", id).Do()
			return err
		},
		"messages.trash":   func() error { _, err := svc.Users.Messages.Trash("me", id).Do(); return err },
		"messages.untrash": func() error { _, err := svc.Users.Messages.Untrash("me", id).Do(); return err },
		"history.list": func() error {
			_, err := svc.Users.History.List("me").StartHistoryId(1).Do()
			return err
		},
	}
	for name, call := range calls {
		// A 404 is charged like a success, so it counts here too.
		var gerr *googleapi.Error
		if err := call(); err != nil && (!errors.As(err, &gerr) || gerr.Code != http.StatusNotFound) {
			t.Errorf("%s() = %v", name, err)
		}
	}

	stats := srv.Stats()
	total := 0
	for method, units := range stats.Units {
		if units == 0 {
			t.Errorf("Stats().Units[%s] = 0, want the method's cost", method)
		}
		total += units
	}
	srv.mu.Lock()
	spent := srv.quota.windows[testUser].total
	srv.mu.Unlock()
	if spent != total {
		t.Errorf("quota window holds %d units, want %d as charged (%v)", spent, total, stats.Units)
	}
}
