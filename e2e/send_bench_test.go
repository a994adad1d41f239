package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// sendRuns is how many sends each figure of TestSendLatency takes the
// median of.
const sendRuns = 21

// benchMessage returns a message of about 20 KB of plain text.
func benchMessage(n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: alice@example.com\nTo: bob@example.org\nSubject: bench %d\nMessage-ID: <bench-%d@gmsync.test>\n\n", n, n)
	for b.Len() < 20<<10 {
		b.WriteString("A line of a twenty kilobyte message that gmsync sends in the benchmark.\n")
	}
	return []byte(b.String())
}

// timeSends runs `gmsync send -t` sendRuns times as w and returns the
// median wall time, the process start included.
func timeSends(t *testing.T, w *world, first int, args ...string) time.Duration {
	t.Helper()
	times := make([]time.Duration, 0, sendRuns)
	for i := range sendRuns {
		msg := benchMessage(first + i)
		begin := time.Now()
		w.mustGmsync(msg, append([]string{"send", "-t"}, args...)...)
		times = append(times, time.Since(begin))
	}
	slices.Sort(times)
	return times[len(times)/2]
}

func (w *world) issuedTokens() int {
	w.t.Helper()
	var out struct {
		Tokens []string `json:"tokens"`
	}
	w.admin("GET", "tokens", nil, &out)
	return len(out.Tokens)
}

// TestSendLatency measures `gmsync send` of a 20 KB message against the
// local emulator with the access token cached in the keyring, and the time
// to queue one while Gmail is unreachable or with -odq. The goal for a
// send is a median under 30 ms; the test reports the figures and fails
// only when a send refreshes the token.
func TestSendLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test skipped with -short")
	}
	w := newWorld(t, "alice@example.com")
	w.login("send")
	w.mustGmsync(benchMessage(0), "send", "-t") // warms the page cache before the timed runs
	tokens := w.issuedTokens()

	sendMedian := timeSends(t, w, 100)
	if got := w.issuedTokens(); got != tokens {
		t.Errorf("the emulator issued %d access tokens during the sends, want 0: the cached token was not used", got-tokens)
	}
	offlineMedian := timeSends(t, w.withAPI(closedURL), 200)
	queueOnlyMedian := timeSends(t, w, 300, "-odq")
	t.Logf("median of %d runs, 20 KB message: send %v (goal < 30ms); queue while offline %v; queue with -odq %v",
		sendRuns, sendMedian, offlineMedian, queueOnlyMedian)
	if sent := len(w.sent()); sent != 1+sendRuns {
		t.Errorf("emulator received %d messages, want %d", sent, 1+sendRuns)
	}
}
