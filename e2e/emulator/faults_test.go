package emulator

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
)

// wantDropped checks that err is the transport error of a connection
// closed without a response.
func wantDropped(t *testing.T, call string, err error) {
	t.Helper()
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		t.Fatalf("%s = %v, want a transport error", call, err)
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("%s = %v, want io.EOF or io.ErrUnexpectedEOF", call, err)
	}
}

func TestDropSurfacesAsEOF(t *testing.T) {
	srv, base := startServer(t, Options{Faults: Faults{DropRate: 1}})
	// The OAuth flow and the admin API are never faulted.
	svc := service(t, base, scopeReadonly)
	var dump Dump
	if resp := rawGet(t, base+"admin/users/"+testUser+"/dump", "", &dump); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin dump status = %d, want 200", resp.StatusCode)
	}

	_, err := svc.Users.GetProfile("me").Do()
	wantDropped(t, "GetProfile()", err)
	if got := srv.Stats().Dropped; got < 1 {
		t.Errorf("Stats().Dropped = %d, want at least 1", got)
	}
}

func TestDropAfterHandlerLeavesSendInDoubt(t *testing.T) {
	srv, base := startServer(t, Options{Faults: Faults{DropRate: 1, Seed: 3}})
	svc := service(t, base, scopeSend)
	const sends = 10
	for i := range sends {
		raw := testMessage(testUser, "bob@example.org", "Doubt", "<doubt"+string(rune('a'+i))+"@x>", "", "body")
		_, err := svc.Users.Messages.Send("me", &gmail.Message{Raw: base64.URLEncoding.EncodeToString(raw)}).Do()
		wantDropped(t, "Messages.Send()", err)
	}

	sent := len(sentList(t, base))
	stats := srv.Stats()
	if sent == 0 || sent == sends {
		t.Errorf("sent %d of %d dropped sends, want some dropped before and some after the handler", sent, sends)
	}
	if stats.Requests["messages.send"] != sent {
		t.Errorf("Stats().Requests[messages.send] = %d, want %d as sent", stats.Requests["messages.send"], sent)
	}
	if stats.Dropped != sends {
		t.Errorf("Stats().Dropped = %d, want %d", stats.Dropped, sends)
	}
}

// profileStatuses calls GetProfile n times and returns each HTTP status.
func profileStatuses(t *testing.T, svc *gmail.Service, n int) []int {
	t.Helper()
	out := make([]int, 0, n)
	for range n {
		_, err := svc.Users.GetProfile("me").Do()
		var gerr *googleapi.Error
		switch {
		case err == nil:
			out = append(out, http.StatusOK)
		case errors.As(err, &gerr):
			out = append(out, gerr.Code)
			checkInjectedError(t, gerr)
		default:
			t.Fatalf("GetProfile() = %v, want a response", err)
		}
	}
	return out
}

func checkInjectedError(t *testing.T, gerr *googleapi.Error) {
	t.Helper()
	want := map[int][]string{
		http.StatusInternalServerError: {`"reason":"backendError"`, `"message":"Backend Error"`, `"status":"INTERNAL"`},
		http.StatusServiceUnavailable:  {`"status":"UNAVAILABLE"`},
	}[gerr.Code]
	if want == nil {
		t.Fatalf("GetProfile() code = %d, want 500 or 503; body %s", gerr.Code, gerr.Body)
	}
	for _, w := range want {
		if !strings.Contains(gerr.Body, w) {
			t.Errorf("GetProfile() %d body = %s, want %s", gerr.Code, gerr.Body, w)
		}
	}
	if gerr.Code == http.StatusServiceUnavailable && gerr.Message != "The service is currently unavailable." &&
		gerr.Message != "Gmail service is temporarily unavailable" {
		t.Errorf("GetProfile() 503 message = %q, want one of Gmail's 503 texts", gerr.Message)
	}
}

func TestErrorRateWithSeed(t *testing.T) {
	const calls, rate = 200, 0.25
	faults := Faults{ErrorRate: rate, Seed: 42}
	srv, base := startServer(t, Options{Faults: faults})
	first := profileStatuses(t, service(t, base, scopeReadonly), calls)

	counts := map[int]int{}
	for _, code := range first {
		counts[code]++
	}
	failed := calls - counts[http.StatusOK]
	if failed < calls*rate*0.6 || failed > calls*rate*1.4 {
		t.Errorf("%d of %d calls failed, want about %v", failed, calls, calls*rate)
	}
	if counts[http.StatusInternalServerError] == 0 || counts[http.StatusServiceUnavailable] == 0 {
		t.Errorf("status counts = %v, want both 500 and 503", counts)
	}
	stats := srv.Stats()
	if stats.Injected5xx != failed || stats.Requests["getProfile"] != counts[http.StatusOK] {
		t.Errorf("Stats() = %d injected, %d getProfile; want %d and %d",
			stats.Injected5xx, stats.Requests["getProfile"], failed, counts[http.StatusOK])
	}

	// The same seed gives the same sequence.
	_, base2 := startServer(t, Options{Faults: faults})
	second := profileStatuses(t, service(t, base2, scopeReadonly), calls)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("statuses with the same seed differ (-first +second):\n%s", diff)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	srv, base := startServer(t, Options{MaxConcurrentPerUser: 1, Faults: Faults{Latency: 400 * time.Millisecond}})
	svc := service(t, base, scopeReadonly)

	// Two calls overlap during the latency, so one of them is over the limit.
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := svc.Users.GetProfile("me").Do()
			errs <- err
		}()
	}
	var rejected []error
	for range 2 {
		if err := <-errs; err != nil {
			rejected = append(rejected, err)
		}
	}
	if len(rejected) != 1 {
		t.Fatalf("two overlapping GetProfile calls failed %d times (%v), want once", len(rejected), rejected)
	}
	gerr := wantAPIError(t, "GetProfile(second in flight)", rejected[0], http.StatusTooManyRequests, "rateLimitExceeded")
	if got := strings.TrimSpace(gerr.Body); got != concurrencyLimitBody {
		t.Errorf("concurrency 429 body = %s, want %s", got, concurrencyLimitBody)
	}

	stats := srv.Stats()
	if stats.ConcurrencyRejected != 1 || stats.PeakConcurrent != 1 {
		t.Errorf("Stats() = %d rejected, peak %d; want 1 and 1", stats.ConcurrencyRejected, stats.PeakConcurrent)
	}
}

func TestPeakConcurrentAndLatency(t *testing.T) {
	const latency = 300 * time.Millisecond
	srv, base := startServer(t, Options{Faults: Faults{Latency: latency}})
	svc := service(t, base, scopeReadonly)

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	for range 3 {
		wg.Go(func() {
			_, err := svc.Users.GetProfile("me").Do()
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("GetProfile() = %v", err)
		}
	}
	if took := time.Since(start); took < latency {
		t.Errorf("3 GetProfile calls took %v, want at least the latency %v", took, latency)
	}
	if got := srv.Stats().PeakConcurrent; got != 3 {
		t.Errorf("Stats().PeakConcurrent = %d, want 3", got)
	}
}

func TestAdminFaultsAndQuota(t *testing.T) {
	_, base := startServer(t, Options{})
	svc := service(t, base, scopeReadonly)

	var errBody adminError
	for _, body := range []string{`{"errorRate":2}`, `{"errorRate":0.6,"dropRate":0.6}`, `{"latencyMs":-1}`, `{"errorRates":1}`} {
		if resp := adminPost(t, base+"admin/faults", body, &errBody); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /admin/faults %s status = %d, want 400", body, resp.StatusCode)
		}
	}
	var faults AdminFaults
	if resp := adminPost(t, base+"admin/faults", `{"errorRate":1,"seed":5}`, &faults); resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /admin/faults status = %d, want 200", resp.StatusCode)
	}
	if faults != (AdminFaults{ErrorRate: 1, Seed: 5}) {
		t.Errorf("POST /admin/faults = %+v, want errorRate 1 and seed 5", faults)
	}
	_ = profileStatuses(t, svc, 1)
	adminPost(t, base+"admin/faults", `{}`, &faults)

	for _, body := range []string{`{"rateLimitStatus":500}`, `{"regime":"1999"}`, `{"unitsPerMinute":-1}`, `{"maxConcurrent":-1}`} {
		if resp := adminPost(t, base+"admin/quota", body, &errBody); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /admin/quota %s status = %d, want 400", body, resp.StatusCode)
		}
	}
	var quota map[string]any
	adminPost(t, base+"admin/quota", `{"unitsPerMinute":1,"regime":"2026","rateLimitStatus":429}`, &quota)
	wantQuota := map[string]any{"unitsPerMinute": 1.0, "regime": "2026", "maxConcurrent": 0.0, "rateLimitStatus": 429.0}
	if diff := cmp.Diff(wantQuota, quota); diff != "" {
		t.Errorf("POST /admin/quota (-want +got):\n%s", diff)
	}
	if _, err := svc.Users.GetProfile("me").Do(); err != nil {
		t.Fatalf("GetProfile() = %v", err)
	}
	_, err := svc.Users.GetProfile("me").Do()
	wantAPIError(t, "GetProfile(over admin quota)", err, http.StatusTooManyRequests, "rateLimitExceeded")

	var stats map[string]any
	rawGet(t, base+"admin/stats", "", &stats)
	for key, want := range map[string]any{"regime": "2026", "rateLimited": 1.0, "injected5xx": 1.0, "dropped": 0.0,
		"concurrencyRejected": 0.0, "peakConcurrent": 1.0, "units": map[string]any{"getProfile": 1.0}} {
		if diff := cmp.Diff(want, stats[key]); diff != "" {
			t.Errorf("GET /admin/stats %s (-want +got):\n%s", key, diff)
		}
	}
	adminPost(t, base+"admin/stats/reset", "", &stats)
	want := map[string]any{"regime": "2026", "requests": map[string]any{}, "units": map[string]any{}, "rateLimited": 0.0,
		"concurrencyRejected": 0.0, "injected5xx": 0.0, "dropped": 0.0, "peakConcurrent": 0.0}
	if diff := cmp.Diff(want, stats); diff != "" {
		t.Errorf("POST /admin/stats/reset (-want +got):\n%s", diff)
	}
}
