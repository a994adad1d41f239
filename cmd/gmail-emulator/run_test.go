package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	urlFile := filepath.Join(dir, "url")
	secretFile := filepath.Join(dir, "client_secret.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- runContext(ctx, []string{"--demo", "--url-file", urlFile, "--write-client-secret", secretFile, "--user", "me@example.com"}, &stdout, &stderr)
	}()

	var base []byte
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(urlFile); err == nil {
			base = bytes.TrimSpace(data)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if base == nil {
		t.Fatalf("url file not written within 10s; stderr %s", stderr.String())
	}
	line := regexp.MustCompile(`^gmail-emulator listening on http://127\.0\.0\.1:\d+/\n$`)
	if got := stdout.String(); !line.MatchString(got) || !strings.Contains(got, string(base)) {
		t.Errorf("stdout = %q, want one listening line with %s", got, base)
	}
	if info, err := os.Stat(secretFile); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("client secret file = %v, %v, want mode 0600", info, err)
	}
	resp, err := http.Get(string(base) + "admin/users/me@example.com/dump")
	if err != nil {
		t.Fatalf("GET dump: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("dump status = %d, want 200", resp.StatusCode)
	}

	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("runContext() = %d, want %d; stderr %s", code, exitOK, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runContext did not return within 10s of cancellation")
	}
}

func TestRunRejects(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--addr", "0.0.0.0:0"}, exitFailure, "not a loopback address"},
		{[]string{"--addr", "192.0.2.1:8080"}, exitFailure, "not a loopback address"},
		{[]string{"--quota-regime", "1999"}, exitUsage, "invalid --quota-regime"},
		{[]string{"--rate-limit-status", "500"}, exitUsage, "invalid --rate-limit-status 500"},
		{[]string{"--quota-units-per-minute", "-1"}, exitUsage, "invalid --quota-units-per-minute"},
		{[]string{"--max-concurrent", "-2"}, exitUsage, "invalid --max-concurrent"},
		{[]string{"--latency", "-1s"}, exitUsage, "invalid --latency"},
		{[]string{"--error-rate", "1.5"}, exitUsage, "invalid --error-rate 1.5"},
		{[]string{"--drop-rate", "-0.1"}, exitUsage, "invalid --drop-rate -0.1"},
		{[]string{"--error-rate", "0.5", "--drop-rate", "0.6"}, exitUsage, "add up to more than 1"},
		{[]string{"--nope"}, exitUsage, "flag provided but not defined"},
		{[]string{"extra"}, exitUsage, "unexpected argument"},
	}
	for _, tt := range tests {
		var stdout, stderr lockedBuffer
		code := runContext(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("runContext(%q) = %d, stderr %q; want %d containing %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
		if stdout.String() != "" {
			t.Errorf("runContext(%q) stdout = %q, want empty", tt.args, stdout.String())
		}
	}
}

// startRun runs the binary's runContext with args until the test ends and
// returns the base URL it wrote.
func startRun(t *testing.T, args ...string) string {
	t.Helper()
	urlFile := filepath.Join(t.TempDir(), "url")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan int, 1)
	go func() { done <- runContext(ctx, append(args, "--url-file", urlFile), &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("runContext did not return within 10s of cancellation")
		}
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if data, err := os.ReadFile(urlFile); err == nil {
			return string(bytes.TrimSpace(data))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("url file not written within 10s; stderr %s", stderr.String())
	return ""
}

func TestRunInjectsFaultsFromFlags(t *testing.T) {
	base := startRun(t, "--error-rate", "1", "--latency", "50ms", "--fault-seed", "9")
	start := time.Now()
	resp, err := http.Get(base + "gmail/v1/users/me/profile")
	if err != nil {
		t.Fatalf("GET profile: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError && resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("GET profile with --error-rate 1 status = %d, want 500 or 503", resp.StatusCode)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("GET profile with --latency 50ms took %v", took)
	}

	resp, err = http.Get(base + "admin/stats")
	if err != nil {
		t.Fatalf("GET stats: %v", err)
	}
	defer resp.Body.Close()
	var stats struct{ Injected5xx int }
	if err := json.NewDecoder(resp.Body).Decode(&stats); err != nil || stats.Injected5xx != 1 {
		t.Errorf("stats = %+v, %v; want injected5xx 1", stats, err)
	}
}

func TestRunSetsQuotaFromFlags(t *testing.T) {
	base := startRun(t, "--quota-units-per-minute", "6000", "--quota-regime", "2026",
		"--rate-limit-status", "429", "--max-concurrent", "4")
	// An empty POST changes nothing and returns the current settings.
	resp, err := http.Post(base+"admin/quota", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatalf("POST /admin/quota: %v", err)
	}
	defer resp.Body.Close()
	var got map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decoding /admin/quota: %v", err)
	}
	want := map[string]any{"unitsPerMinute": 6000.0, "regime": "2026", "rateLimitStatus": 429.0, "maxConcurrent": 4.0}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("POST /admin/quota {} (-want +got):\n%s", diff)
	}
}
