package e2e

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"
)

// killFractions are the points, as fractions of an uninterrupted run's
// duration, at which TestCrashSafety kills a sync: from the start-up and
// listing through the downloads to the final commits.
var killFractions = []float64{0.03, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.97}

// crashBudget bounds TestCrashSafety: once spent, no further kill point is
// started.
const crashBudget = 150 * time.Second

// crashLabels are the label sets of TestCrashSafety's messages.
var crashLabels = [][]string{
	{"INBOX", "UNREAD"},
	{"INBOX"},
	{"INBOX", "STARRED", "Crash/one"},
	{"Crash/one"},
	{"Crash/two", "UNREAD"},
	{"SENT"},
	{},
	{"TRASH"},
	{"INBOX", "Crash/two", "Crash/three"},
	{"SPAM"},
}

// crashRun is one kill point: a sync killed after delay, then a sync run
// to completion.
type crashRun struct {
	name      string
	delay     time.Duration
	killed    bool // the process was still running when killed
	leftovers []string
	gets      int // messages.get calls of both runs
}

// TestCrashSafety kills `gmsync sync` with SIGKILL at many points of a full
// sync and of incremental syncs. After each kill the next sync must leave
// the Maildir equal to the mailbox, with no loss, no duplicate, no stale
// file and nothing left in tmp/. It must also not fetch again more than
// the messages in flight at the kill.
func TestCrashSafety(t *testing.T) {
	start := time.Now()
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC)
	const total = 400
	for i := range total {
		w.addMessage(generatedMessage("crash", i), crashLabels[i%len(crashLabels)], base.Add(time.Duration(i)*time.Minute))
	}
	w.login("sync")
	w.setFaults(faults{LatencyMs: 20, LatencyJitterMs: 5, Seed: 1})

	full := measureFullSync(t, w, total)
	t.Logf("uninterrupted full sync of %d messages: %v", total, full)

	var runs []crashRun
	t.Run("full sync", func(t *testing.T) {
		w := w.forTest(t)
		for _, f := range killFractions {
			if time.Since(start) > crashBudget {
				t.Errorf("time budget of %v spent before the kill at %.0f%% of the full sync", crashBudget, f*100)
				break
			}
			resetMirror(t, w)
			delay := time.Duration(f * float64(full))
			run := killAndResume(t, w, fmt.Sprintf("full sync killed at %v", delay), delay, total)
			runs = append(runs, run)
		}
		checkKillsHit(t, runs)
	})

	t.Run("interrupted repeatedly", func(t *testing.T) {
		w := w.forTest(t)
		resetMirror(t, w)
		before := w.stats()
		for i := range 4 {
			p := w.startGmsync("sync", "--account", w.account)
			time.Sleep(full / 4)
			if !p.kill() {
				t.Logf("kill %d: the sync had already ended: %s", i+1, p)
			}
		}
		w.mustGmsync(nil, "sync", "--account", w.account)
		checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
		if gets := w.stats().since(before).gets(); gets > total+4*inFlightAllowance {
			t.Errorf("four killed syncs and one to completion fetched %d messages, want at most %d (%d messages, %d in flight per kill)", gets, total+4*inFlightAllowance, total, inFlightAllowance)
		}
	})

	t.Run("incremental sync", func(t *testing.T) {
		w := w.forTest(t)
		rng := rand.New(rand.NewPCG(1, 2))
		changes := &crashChanges{w: w, rng: rng, clock: base.Add(total * time.Minute)}

		changes.apply(t, 0)
		before := time.Now()
		w.mustGmsync(nil, "sync", "--account", w.account)
		incremental := time.Since(before)
		checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
		t.Logf("uninterrupted incremental sync of %d changes: %v", changes.last, incremental)

		var incRuns []crashRun
		for i, f := range killFractions {
			if time.Since(start) > crashBudget {
				t.Errorf("time budget of %v spent before incremental kill %d", crashBudget, i+1)
				break
			}
			added := changes.apply(t, i+1)
			delay := time.Duration(f * float64(incremental))
			run := killAndResume(t, w, fmt.Sprintf("incremental sync %d killed at %v", i+1, delay), delay, added)
			incRuns = append(incRuns, run)
		}
		checkKillsHit(t, incRuns)
		runs = append(runs, incRuns...)
	})

	leftovers := 0
	for _, r := range runs {
		leftovers += len(r.leftovers)
	}
	t.Logf("%d kill points in %v; killed runs left %d files in tmp/ for the next sync to clean", len(runs), time.Since(start).Round(time.Millisecond), leftovers)
}

// inFlightAllowance is how many messages a killed sync may have fetched
// without committing them, so that the next run fetches them again. That is
// one uncommitted batch (at most 64 records, or 250 ms of work) plus the 8
// downloads and 8 deliveries in flight. The bound comes from the design,
// not from this machine's speed, so a slow machine does not fail it.
const inFlightAllowance = 64 + 2*8

// measureFullSync runs one uninterrupted full sync, checks it, and returns
// its duration.
func measureFullSync(t *testing.T, w *world, total int) time.Duration {
	t.Helper()
	before := time.Now()
	rep, delta, _ := w.syncJSON()
	took := time.Since(before)
	checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
	if rep.Mode != "full" || delta.gets() != total {
		t.Errorf("uninterrupted full sync: mode %q, %d messages fetched, want full, %d", rep.Mode, delta.gets(), total)
	}
	return took
}

// resetMirror removes the Maildir and the sync state, so the next sync is a
// first one. The tokens stay in the keyring.
func resetMirror(t *testing.T, w *world) {
	t.Helper()
	for _, dir := range []string{w.maildir, w.stateDir} {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
	}
}

// killAndResume starts a sync, kills it after delay, runs a sync to
// completion and checks the mirror. fetchable is how many messages the
// two runs need to fetch between them.
func killAndResume(t *testing.T, w *world, name string, delay time.Duration, fetchable int) crashRun {
	t.Helper()
	run := crashRun{name: name, delay: delay}
	before := w.stats()
	p := w.startGmsync("sync", "--account", w.account)
	time.Sleep(delay)
	run.killed = p.kill()
	if !run.killed && p.code != 0 {
		t.Errorf("%s: the sync ended on its own before the kill and failed: %s", name, p)
	}
	run.leftovers = indexMirror(t, w.maildir).tmp

	res := w.mustGmsync(nil, "sync", "--account", w.account)
	run.gets = w.stats().since(before).gets()
	if !checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{}) {
		t.Logf("%s: killed=%v, tmp/ after the kill %v\nresumed sync stderr:\n%s\nkilled sync stderr:\n%s", name, run.killed, run.leftovers, res.stderr, p.stderr.String())
	}
	if run.gets > fetchable+inFlightAllowance {
		t.Errorf("%s: the killed and the resumed sync fetched %d messages, want at most %d (%d new, %d in flight)", name, run.gets, fetchable+inFlightAllowance, fetchable, inFlightAllowance)
	}
	return run
}

// checkKillsHit fails the test when too few kills found a running sync:
// then the schedule missed the work it was meant to interrupt.
func checkKillsHit(t *testing.T, runs []crashRun) {
	t.Helper()
	hit := 0
	for _, r := range runs {
		if r.killed {
			hit++
		}
		t.Logf("%s: running when killed %v, %d files in tmp/ after the kill, %d messages fetched", r.name, r.killed, len(r.leftovers), r.gets)
	}
	if hit < len(runs)/2 {
		t.Errorf("only %d of %d kills found the sync still running; the kill schedule is too late for this machine", hit, len(runs))
	}
}

// crashChanges makes the remote changes between incremental syncs of
// TestCrashSafety.
type crashChanges struct {
	w     *world
	rng   *rand.Rand
	clock time.Time
	n     int    // generated messages so far
	draft string // the current draft's id
	last  int    // changes in the latest batch

	renamed string // the id of the label renamed every fourth batch
}

// crashBatch sizes one batch of changes: enough new messages that an
// incremental sync takes a while under the emulator's latency, and few
// enough deletions to stay under the deletion guard.
const (
	crashAdds      = 60
	crashDeletes   = 4
	crashRelabels  = 24
	crashLabelsCap = 6
)

// apply makes one batch of changes and returns how many messages it
// added, the messages the next sync must fetch.
func (c *crashChanges) apply(t *testing.T, step int) int {
	t.Helper()
	d := c.w.dump()
	var ids []string
	for _, m := range d.Messages {
		if !slices.Contains(m.LabelIDs, "DRAFT") {
			ids = append(ids, m.ID)
		}
	}
	c.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })

	for i := range crashAdds {
		c.n++
		c.clock = c.clock.Add(time.Minute)
		c.w.addMessage(generatedMessage(fmt.Sprintf("crash-step%d", step), c.n), crashLabels[(c.n+i)%len(crashLabels)], c.clock)
	}
	for _, id := range ids[:crashDeletes] {
		c.w.deleteMessage(id)
	}
	relabels := []struct{ add, remove []string }{
		{[]string{"STARRED"}, nil},
		{nil, []string{"STARRED"}},
		{[]string{"UNREAD"}, nil},
		{nil, []string{"UNREAD"}},
		{[]string{fmt.Sprintf("Crash/step-%d", step%crashLabelsCap)}, nil},
		{nil, []string{"INBOX"}},
		{[]string{"INBOX"}, []string{"TRASH", "SPAM"}},
		{[]string{"TRASH"}, nil},
	}
	for i, id := range ids[crashDeletes : crashDeletes+crashRelabels] {
		r := relabels[(i+step)%len(relabels)]
		c.w.modify(id, r.add, r.remove)
	}

	// Drafts churn: the old draft goes, a new one with a new id comes.
	if c.draft != "" {
		c.w.deleteMessage(c.draft)
	}
	c.n++
	c.clock = c.clock.Add(time.Minute)
	c.draft = c.w.addMessage(generatedMessage("crash-draft", c.n), []string{"DRAFT"}, c.clock)

	if step%4 == 3 {
		if c.renamed == "" {
			c.renamed = labelID(t, d, "Crash/two")
		}
		c.w.renameLabel(c.renamed, fmt.Sprintf("Crash/two-%d", step))
	}
	c.last = crashAdds + crashDeletes + crashRelabels + 2
	return crashAdds + 1
}
