package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// The benchmarks in this file run the real gmsync binary against a
// gmail-emulator process with a generated mailbox. Neither side injects
// latency or enforces a quota, so they measure gmsync alone: wall time,
// peak RSS of the gmsync process, and the API calls and units it spends.
// Run them with
//
//	go test -run '^$' -bench Sync -benchtime 1x ./e2e/
//
// Each one takes from a few seconds to about two minutes; all of them skip
// under -short.

// benchWorld is a world for a benchmark: an emulator whose default user
// holds a generated mailbox, and a configuration with one account logged
// in for sync. The world type and its helpers report to a *testing.T, so
// the benchmarks use this smaller copy.
type benchWorld struct {
	*world
	b *testing.B
}

// benchSeed makes every benchmark mailbox of one size the same.
const benchSeed = 1

// newBenchWorld starts an emulator with messages generated messages and
// logs in for sync. The account's quota ceiling is far above anything the
// emulator can serve, so gmsync's meter never waits.
func newBenchWorld(b *testing.B, name string, messages int) *benchWorld {
	b.Helper()
	w := newWorld(b, "bench@example.com", "--generate", strconv.Itoa(messages), "--generate-seed", strconv.Itoa(benchSeed))
	// One benchmark may hold several mailboxes at once, each with its own
	// grant, and all share one keyring.
	w.account = accountName(b.Name() + "-" + name)
	w.writeConfig("quota_units_per_minute = 100000000\n")
	w.login("sync")
	return &benchWorld{world: w, b: b}
}

func (w *benchWorld) stats() apiStats {
	w.b.Helper()
	var s apiStats
	w.admin("GET", "stats", nil, &s)
	return s
}

// syncRun is one measured `gmsync sync --json` process.
type syncRun struct {
	report syncReport
	calls  apiStats // what the emulator served during the run
	wall   time.Duration
	maxRSS int64 // peak resident set size of the gmsync process, in bytes
}

func (r syncRun) units() int {
	n := 0
	for _, v := range r.calls.Units {
		n += v
	}
	return n
}

// sync runs `gmsync sync --json` under a three-minute deadline and fails
// the benchmark unless it exits 0 with one JSON summary.
func (w *benchWorld) sync() syncRun {
	w.b.Helper()
	before := w.stats()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "gmsync"), "sync", "--json", "--account", w.account)
	cmd.Env = w.env
	cmd.Dir = w.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	run := syncRun{wall: time.Since(start)}
	if err != nil {
		w.b.Fatalf("gmsync sync --json: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	// Linux reports ru_maxrss in KiB.
	run.maxRSS = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
	run.calls = w.stats().since(before)
	if err := json.Unmarshal(stdout.Bytes(), &run.report); err != nil {
		w.b.Fatalf("gmsync sync --json: stdout is not a JSON summary: %v\n%s", err, stdout.String())
	}
	return run
}

// forBench returns a copy of w that reports to b, for use inside b.Run.
func (w *benchWorld) forBench(b *testing.B) *benchWorld {
	inner := *w.world
	inner.t = b
	return &benchWorld{world: &inner, b: b}
}

// forget removes the Maildir and the sync state, so the next sync is a
// first sync again. The token stays in the keyring.
func (w *benchWorld) forget() {
	w.b.Helper()
	for _, dir := range []string{w.maildir, filepath.Join(w.stateDir, "gmsync")} {
		if err := os.RemoveAll(dir); err != nil {
			w.b.Fatal(err)
		}
	}
}

func skipShort(b *testing.B) {
	if testing.Short() {
		b.Skip("runs gmsync against a generated mailbox of up to 50,000 messages: skipped with -short")
	}
}

const mib = 1 << 20

// BenchmarkSyncFull measures a first sync of a generated mailbox (2 to 20
// KiB a message, about 11 KiB on average) by the gmsync binary with the
// default 8 concurrent downloads. It reports messages per second of wall
// time, process start and token refresh included, and the peak RSS of the
// gmsync process. Goals: at least 1,500 messages/s, and less than 150 MB of RSS
// that does not grow from 5,000 to 50,000 messages.
//
// Both mailboxes are set up first and removed only at the end. On ext4
// without a journal, creating files is much slower for a minute or more
// after many files were deleted, because the inode allocator skips inodes
// freed recently (recently_deleted in fs/ext4/ialloc.c), so removing the
// first Maildir before the second sync would slow it down. TMPDIR picks the
// filesystem under test.
func BenchmarkSyncFull(b *testing.B) {
	skipShort(b)
	sizes := []int{5000, 50000}
	worlds := make(map[int]*benchWorld)
	for _, messages := range sizes {
		worlds[messages] = newBenchWorld(b, strconv.Itoa(messages), messages)
	}
	for _, messages := range sizes {
		b.Run(fmt.Sprintf("messages=%d", messages), func(b *testing.B) {
			w := worlds[messages].forBench(b)
			var wall time.Duration
			var peak int64
			for b.Loop() {
				b.StopTimer()
				w.forget()
				b.StartTimer()
				run := w.sync()
				if run.report.New != messages {
					b.Fatalf("first sync stored %d new messages, want %d", run.report.New, messages)
				}
				wall += run.wall
				peak = max(peak, run.maxRSS)
				b.ReportMetric(float64(run.units())/float64(messages), "units/msg")
			}
			b.ReportMetric(float64(messages*b.N)/wall.Seconds(), "msgs/s")
			b.ReportMetric(float64(peak)/mib, "peak-RSS-MB")
		})
	}
}

// BenchmarkSyncIncrementalNoChange measures a sync with nothing to do at
// 1,000 and at 50,000 messages, after a first sync of each. It reports the
// API calls of the run (goal: exactly 1, history.list) and the ratio of the
// median wall times of the large and the small mailbox (goal: below 1.5).
// Every iteration runs gmsync five times on each mailbox, alternating.
func BenchmarkSyncIncrementalNoChange(b *testing.B) {
	skipShort(b)
	const runs = 5
	small := newBenchWorld(b, "small", 1000)
	large := newBenchWorld(b, "large", 50000)
	for _, w := range []*benchWorld{small, large} {
		w.sync()
	}

	var smallWall, largeWall []time.Duration
	maxCalls, maxRSS := 0, int64(0)
	for b.Loop() {
		for range runs {
			for i, w := range []*benchWorld{small, large} {
				run := w.sync()
				if run.report.Mode != "incremental" || run.report.New+run.report.Changed+run.report.Deleted != 0 {
					b.Fatalf("sync without changes reported %+v, want an incremental sync that changed nothing", run.report)
				}
				if n := run.calls.totalRequests(); n > maxCalls {
					maxCalls = n
					b.Logf("sync without changes at %d messages: calls %v", []int{1000, 50000}[i], run.calls.Requests)
				}
				if w == small {
					smallWall = append(smallWall, run.wall)
				} else {
					largeWall = append(largeWall, run.wall)
					maxRSS = max(maxRSS, run.maxRSS)
				}
			}
		}
	}
	b.ReportMetric(float64(maxCalls), "api-calls")
	b.ReportMetric(median(smallWall).Seconds()*1000, "ms-1k")
	b.ReportMetric(median(largeWall).Seconds()*1000, "ms-50k")
	b.ReportMetric(median(largeWall).Seconds()/median(smallWall).Seconds(), "ratio")
	b.ReportMetric(float64(maxRSS)/mib, "peak-RSS-MB-50k")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkSyncLabelChanges measures a sync after 100 label changes made in
// Gmail on a 5,000-message mailbox: half of the messages move in or out of
// a user label, half are marked read or unread. Goal: no messages.get at
// all, since history records carry the new label set. Reports the API
// units and the messages.get calls per sync.
func BenchmarkSyncLabelChanges(b *testing.B) {
	skipShort(b)
	const (
		messages = 5000
		changes  = 100
	)
	w := newBenchWorld(b, "", messages)
	var label emulator.DumpLabel
	w.admin("POST", "users/"+w.address+"/labels", map[string]string{"name": "Relabelled"}, &label)
	w.sync()

	var dump emulator.Dump
	w.admin("GET", "users/"+w.address+"/dump", nil, &dump)
	picked := make([]emulator.DumpMessage, 0, changes)
	for i := 0; len(picked) < changes; i += len(dump.Messages) / changes {
		picked = append(picked, dump.Messages[i])
	}

	units, gets, calls := 0, 0, 0
	for b.Loop() {
		b.StopTimer()
		for i := range picked {
			toggled := "UNREAD"
			if i%2 == 0 {
				toggled = label.ID
			}
			w.toggle(&picked[i], toggled)
		}
		b.StartTimer()
		run := w.sync()
		if run.report.Changed != changes || run.report.New != 0 {
			b.Fatalf("sync after %d label changes reported %+v, want %d changed and none new", changes, run.report, changes)
		}
		if units == 0 {
			b.Logf("calls of the first sync after %d label changes: %v", changes, run.calls.Requests)
		}
		units += run.units()
		gets += run.calls.gets()
		calls += run.calls.totalRequests()
	}
	b.ReportMetric(float64(units)/float64(b.N), "units")
	b.ReportMetric(float64(gets)/float64(b.N), "gets")
	b.ReportMetric(float64(calls)/float64(b.N), "api-calls")
}

// toggle adds labelID to m when it lacks it, else removes it, through the
// admin API, and keeps m.LabelIDs current.
func (w *benchWorld) toggle(m *emulator.DumpMessage, labelID string) {
	w.b.Helper()
	add, remove := []string{labelID}, []string{}
	if slices.Contains(m.LabelIDs, labelID) {
		add, remove = remove, add
		m.LabelIDs = slices.DeleteFunc(m.LabelIDs, func(id string) bool { return id == labelID })
	} else {
		m.LabelIDs = append(m.LabelIDs, labelID)
	}
	body := map[string][]string{"addLabelIds": add, "removeLabelIds": remove}
	w.admin("POST", "users/"+w.address+"/messages/"+m.ID+"/modify", body, nil)
}
