package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
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
