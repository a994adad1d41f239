package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// sendRuns is how many sends each figure of BenchmarkSend takes the median
// of.
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
func timeSends(w *world, first int, args ...string) time.Duration {
	w.t.Helper()
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

// BenchmarkSend measures `gmsync send` of a 20 KB message against the local
// emulator with the access token cached in the keyring (goal: a median
// under 30 ms, and no token refresh), and the time to queue one while Gmail
// is unreachable or with -odq. Each figure is the median of sendRuns runs
// of the binary, process start included.
func BenchmarkSend(b *testing.B) {
	if testing.Short() {
		b.Skip("benchmark of the binaries skipped with -short")
	}
	w := newWorld(b, "alice@example.com")
	w.login("send")
	w.mustGmsync(benchMessage(0), "send", "-t") // warms the page cache before the timed runs
	tokens := w.issuedTokens()

	var sendMedian, offlineMedian, queueOnlyMedian time.Duration
	round := 0
	for b.Loop() {
		round++
		sendMedian = timeSends(w, round*1000+100)
		offlineMedian = timeSends(w.withAPI(closedURL), round*1000+200)
		queueOnlyMedian = timeSends(w, round*1000+300, "-odq")
	}
	b.ReportMetric(float64(sendMedian.Microseconds())/1000, "send-ms")
	b.ReportMetric(float64(offlineMedian.Microseconds())/1000, "queue-offline-ms")
	b.ReportMetric(float64(queueOnlyMedian.Microseconds())/1000, "queue-odq-ms")
	b.ReportMetric(float64(w.issuedTokens()-tokens), "token-refreshes")
}
