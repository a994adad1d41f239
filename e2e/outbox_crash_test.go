package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// killedRun is one gmsync process that TestOutboxCrashSafety killed.
type killedRun struct {
	code   int  // exit code, or -1 when the kill ended it
	killed bool // the process was still running at the kill
	stderr string
}

// killAfter runs gmsync with stdin and args and sends it SIGKILL after
// delay, unless it has ended by then.
func (w *world) killAfter(delay time.Duration, stdin []byte, args ...string) killedRun {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "gmsync"), args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	run := killedRun{}
	var err error
	select {
	case err = <-done:
	case <-time.After(delay):
		run.killed = cmd.Process.Signal(syscall.SIGKILL) == nil
		err = <-done
	}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		run.code = exitErr.ExitCode()
	default:
		w.t.Fatalf("gmsync %v: %v", args, err)
	}
	run.stderr = stderr.String()
	return run
}

// crashPoints is the number of kills of TestOutboxCrashSafety's first
// phase; every third kills a queue flush, the others a send.
const crashPoints = 24

// TestOutboxCrashSafety kills `gmsync send` and `gmsync queue flush` with
// SIGKILL at many points of a send that meets 150 ms of latency, then
// drops connections after Gmail took the message. In the end every message
// whose send exited 0 is sent exactly once, no message is sent twice
// without a "possible duplicate" notice, and the outbox is empty.
func TestOutboxCrashSafety(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	w.login("sync") // lets a flush check in-doubt messages by rfc822msgid: search
	w.setFaults(faults{LatencyMs: 150, Seed: 1})

	begin := time.Now()
	w.mustGmsync(outboxMessage("crash-warmup", 0), "send", "-t")
	full := time.Since(begin)
	t.Logf("uninterrupted send with 150 ms latency: %v", full)

	accepted := map[string]bool{"<crash-warmup-0@gmsync.test>": true}
	var reports strings.Builder
	killed := 0
	for i := range crashPoints {
		id := fmt.Sprintf("<crash-%d@gmsync.test>", i)
		delay := full * time.Duration(i+1) / crashPoints
		var run killedRun
		if i%3 == 2 {
			w.mustGmsync(outboxMessage("crash", i), "send", "-odq", "-t")
			accepted[id] = true
			run = w.killAfter(delay, nil, "queue", "flush", "--now")
		} else {
			run = w.killAfter(delay, outboxMessage("crash", i), "send", "-t")
			if run.code == 0 && !run.killed {
				accepted[id] = true
			}
		}
		if run.killed {
			killed++
		}
		reports.WriteString(run.stderr)
	}
	if killed < crashPoints*3/4 {
		t.Errorf("only %d of %d runs were still running at their kill, want at least %d", killed, crashPoints, crashPoints*3/4)
	}

	// Connections dropped before or after the emulator took the message
	// leave in-doubt entries without any kill.
	w.setFaults(faults{DropRate: 1, Seed: 7})
	for i := range 6 {
		res := w.gmsync(outboxMessage("dropped", i), "send", "-t")
		wantExit(t, res, 0, "Gmail may have it")
		accepted[fmt.Sprintf("<dropped-%d@gmsync.test>", i)] = true
		reports.WriteString(res.stderr)
	}

	w.setFaults(faults{})
	for range 5 {
		res := w.gmsync(nil, "queue", "flush", "--now")
		reports.WriteString(res.stderr)
		if len(outboxFiles(t, w.outboxDir())) == 0 {
			break
		}
	}
	checkOutboxSentOnce(t, w, accepted, reports.String())
}

// checkOutboxSentOnce checks the emulator's sent list against the accepted
// messages and the notices that gmsync printed.
func checkOutboxSentOnce(t *testing.T, w *world, accepted map[string]bool, reports string) {
	t.Helper()
	counts := map[string]int{}
	for _, id := range w.sentMessageIDs() {
		counts[id]++
	}
	for id, n := range counts {
		bare := strings.Trim(id, "<>")
		if n > 1 && !strings.Contains(reports, bare+" (outbox ID") {
			t.Errorf("message %s was sent %d times without a notice", id, n)
		}
		if n > 1 && !strings.Contains(reports, "possible duplicate") {
			t.Errorf("message %s was sent %d times, and no notice says possible duplicate", id, n)
		}
	}
	for id := range accepted {
		if counts[id] == 0 {
			t.Errorf("message %s: gmsync took it (exit 0) but it was never sent", id)
		}
	}
	if files := outboxFiles(t, w.outboxDir()); len(files) != 0 {
		t.Errorf("outbox still holds %v after the final flushes", files)
	}
	if files := outboxFiles(t, filepath.Join(w.outboxDir(), "failed")); len(files) != 0 {
		t.Errorf("failed/ holds %v, want nothing", files)
	}
	t.Logf("%d distinct messages sent; notices about interrupted attempts: %d found sent, %d sent again",
		len(counts), strings.Count(reports, "an interrupted attempt had sent it"), strings.Count(reports, "sending it again"))
}
