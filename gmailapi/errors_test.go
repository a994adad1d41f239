package gmailapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/gmsync/gmsync/internal/sysexits"
)

func TestClassify(t *testing.T) {
	rate := &googleapi.Error{Code: 403, Message: "User-rate limit exceeded.", Errors: []googleapi.ErrorItem{{Reason: "userRateLimitExceeded"}}}
	concurrency := &googleapi.Error{Code: 429, Message: "Too many concurrent requests for user", Errors: []googleapi.ErrorItem{{Reason: "rateLimitExceeded"}}}
	scope := &googleapi.Error{Code: 403, Message: "Request had insufficient authentication scopes.", Errors: []googleapi.ErrorItem{{Reason: "insufficientPermissions"}}}
	tests := []struct {
		name string
		err  error
		want Class
	}{
		{"user rate limit 403", rate, RateLimited},
		{"concurrency 429", concurrency, RateLimited},
		{"wrapped rate limit", fmt.Errorf("fetching message x: %w", rate), RateLimited},
		{"scope 403", scope, Permanent},
		{"daily limit 403", &googleapi.Error{Code: 403, Errors: []googleapi.ErrorItem{{Reason: "dailyLimitExceeded"}}}, Permanent},
		{"not found", &googleapi.Error{Code: 404}, Permanent},
		{"backend error", &googleapi.Error{Code: 500}, Temporary},
		{"unavailable", &googleapi.Error{Code: 503}, Temporary},
		{"unauthorized", &googleapi.Error{Code: 401}, Auth},
		{"invalid grant", &url.Error{Op: "Get", URL: "x", Err: &oauth2.RetrieveError{ErrorCode: "invalid_grant"}}, Auth},
		{"token endpoint 503", &oauth2.RetrieveError{Response: &http.Response{StatusCode: 503}}, Temporary},
		{"exit code 77", sysexits.Wrap(sysexits.NoPerm, errors.New("no grant")), Auth},
		{"connection refused", &url.Error{Op: "Post", URL: "x", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}}, Temporary},
		{"unexpected EOF", fmt.Errorf("reading: %w", io.ErrUnexpectedEOF), Temporary},
		{"deadline", context.DeadlineExceeded, Temporary},
		{"canceled", context.Canceled, Permanent},
		{"plain", errors.New("something else"), Permanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Errorf("Classify(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 9, 11, 19, 59, 30, 0, time.UTC)
	inMessage := &googleapi.Error{Code: 403, Message: "User-rate limit exceeded.  Retry after 2026-09-11T20:00:00.000Z"}
	header := &googleapi.Error{Code: 429, Header: http.Header{"Retry-After": []string{"7"}}}
	past := &googleapi.Error{Code: 403, Message: "Retry after 2026-09-11T19:00:00Z"}
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{"time in message", inMessage, 30 * time.Second, true},
		{"seconds header", header, 7 * time.Second, true},
		{"time in the past", past, 0, true},
		{"no time", &googleapi.Error{Code: 429, Message: "Too many concurrent requests for user"}, 0, false},
		{"not an API error", errors.New("x"), 0, false},
	}
	for _, tt := range tests {
		got, ok := RetryAfter(tt.err, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s: RetryAfter = %v, %v, want %v, %v", tt.name, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestDecodeRaw(t *testing.T) {
	for _, in := range []string{"aGk_Pw==", "aGk_Pw"} {
		got, err := DecodeRaw(in)
		if err != nil || string(got) != "hi??" {
			t.Errorf("DecodeRaw(%q) = %q, %v, want %q", in, got, err, "hi??")
		}
	}
	if _, err := DecodeRaw("not base64!"); err == nil {
		t.Error("DecodeRaw(invalid) succeeded, want an error")
	}
}

func TestRetryPolicyDo(t *testing.T) {
	var waits []time.Duration
	policy := RetryPolicy{MaxAttempts: 4, BaseDelay: time.Second, MaxDelay: 5 * time.Second,
		sleep: func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }}

	calls := 0
	err := policy.Do(context.Background(), "test", func(context.Context) error {
		calls++
		if calls < 3 {
			return &googleapi.Error{Code: 503}
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("Do = %v after %d calls, want success after 3", err, calls)
	}
	if len(waits) != 2 || waits[0] < time.Second || waits[0] >= 2*time.Second || waits[1] < 2*time.Second || waits[1] >= 3*time.Second {
		t.Errorf("waits = %v, want about 1s and 2s plus under 1s of jitter", waits)
	}

	calls = 0
	err = policy.Do(context.Background(), "test", func(context.Context) error {
		calls++
		return &googleapi.Error{Code: 400}
	})
	if err == nil || calls != 1 {
		t.Errorf("Do on a permanent error: %v after %d calls, want the error after 1 call", err, calls)
	}

	calls = 0
	err = policy.Do(context.Background(), "test", func(context.Context) error {
		calls++
		return &googleapi.Error{Code: 500}
	})
	if err == nil || calls != 4 {
		t.Errorf("Do on a lasting 500: %v after %d calls, want the error after 4 calls", err, calls)
	}
}

func TestRegimeCost(t *testing.T) {
	tests := []struct {
		regime Regime
		method string
		want   int
	}{
		{Regime2024, "messages.get", 5},
		{Regime2026, "messages.get", 20},
		{Regime2026, "history.list", 2},
		{Regime2024, "messages.send", 100},
		{Regime2024, "getProfile", 1},
	}
	for _, tt := range tests {
		if got := tt.regime.Cost(tt.method); got != tt.want {
			t.Errorf("Regime(%s).Cost(%s) = %d, want %d", tt.regime, tt.method, got, tt.want)
		}
	}
}
