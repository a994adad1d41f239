package e2e

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// generatedLabels are the label sets the generated messages of the
// incremental scenario cycle through.
var generatedLabels = [][]string{
	{"INBOX", "UNREAD"},
	{"INBOX"},
	{"INBOX", "STARRED"},
	{"Projects/alpha"},
	{"INBOX", "Projects/alpha", "UNREAD"},
	{"SENT"},
	{},
	{"INBOX", "Work", "IMPORTANT"},
}

// scenario is the state of TestIncrementalScenario between its steps.
type scenario struct {
	t       *testing.T
	w       *world // reports to t
	base    *world // the top-level test's world
	foreign string // the mail client's file, relative to the Maildir root
	content []byte // its bytes
	clock   time.Time
	n       int // generated messages so far
}

// use makes the scenario report to t, a subtest's.
func (s *scenario) use(t *testing.T) {
	s.t = t
	s.w = s.base.forTest(t)
}

// nextMessage adds a generated message with labels and returns its id.
func (s *scenario) nextMessage(labels ...string) string {
	s.t.Helper()
	s.n++
	s.clock = s.clock.Add(time.Minute)
	return s.w.addMessage(generatedMessage("inc", s.n), labels, s.clock)
}

// step runs one sync after a scripted change and checks the whole mirror,
// the mail client's file, and that the run fetched exactly wantGets
// messages. It returns the sync's JSON report.
func (s *scenario) step(name string, wantGets int) syncReport {
	s.t.Helper()
	rep, delta, res := s.w.syncJSON()
	d := s.w.dump()
	var opts mirrorOptions
	if s.foreign != "" {
		opts.foreign = []string{s.foreign}
	}
	ok := checkExactMirror(s.t, s.w.maildir, d, opts)
	if got := delta.gets(); got != wantGets {
		ok = false
		s.t.Errorf("step %q: messages.get called %d times, want %d", name, got, wantGets)
	}
	if s.foreign != "" {
		data, err := os.ReadFile(filepath.Join(s.w.maildir, s.foreign))
		if err != nil || !bytes.Equal(data, s.content) {
			ok = false
			s.t.Errorf("step %q: the mail client's file %s changed or is gone (err %v)", name, s.foreign, err)
		}
	}
	if !ok {
		s.t.Logf("step %q: report %+v; emulator requests %v\nstderr:\n%s", name, rep, delta.Requests, res.stderr)
	}
	return rep
}

// TestIncrementalScenario makes one kind of remote change per step and
// syncs after each. After every sync the Maildir must equal the mailbox,
// the mail client's own file in INBOX must be untouched, and gmsync must
// have fetched exactly the messages that are new and still exist.
func TestIncrementalScenario(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	s := &scenario{t: t, w: w, base: w, clock: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)}

	fixtures, err := filepath.Glob(filepath.Join("testdata", "mail", "*.eml"))
	if err != nil || len(fixtures) == 0 {
		t.Fatalf("no fixtures in testdata/mail: %v", err)
	}
	for _, path := range fixtures {
		s.clock = s.clock.Add(time.Minute)
		w.addMessage(readFile(t, path), fixtureLabels[filepath.Base(path)], s.clock)
	}
	var ids []string
	for i := range 22 {
		ids = append(ids, s.nextMessage(generatedLabels[i%len(generatedLabels)]...))
	}

	w.login("sync")
	if rep := s.step("first sync", len(fixtures)+len(ids)); rep.Mode != "full" {
		t.Errorf("first sync: mode %q, want full", rep.Mode)
	}

	d := w.dump()
	inbox, _ := mapperFor(d).Dir("INBOX")
	s.content = generatedMessage("laptop", 1)
	s.foreign = writeForeignFile(t, w.maildir, inbox, "1700000000.M1P1.laptop:2,S", s.content)

	checkNoChangeSync(t, s, "no change")

	// ids[0..21] carry generatedLabels[i%8]; each step below picks
	// messages whose labels make the change visible.
	t.Run("add", func(t *testing.T) {
		s.use(t)
		s.nextMessage("INBOX", "UNREAD")
		s.nextMessage("Projects/alpha")
		s.nextMessage("INBOX", "STARRED")
		s.nextMessage()

		// A dry run reports the work and does none of it: no download, no
		// file, and the next sync still finds the changes.
		before := mirrorPaths(t, s.w.maildir)
		stats := s.w.stats()
		res := s.w.gmsync(nil, "sync", "--dry-run", "--json", "--account", s.w.account)
		delta := s.w.stats().since(stats)
		if res.code != 0 {
			t.Errorf("sync --dry-run: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
		}
		if dry, ok := parseReport(t, res); ok && dry.New != 4 {
			t.Errorf("sync --dry-run after 4 adds: new %d, want 4", dry.New)
		}
		if delta.gets() != 0 {
			t.Errorf("sync --dry-run fetched %d messages, want 0", delta.gets())
		}
		if diff := cmp.Diff(before, mirrorPaths(t, s.w.maildir)); diff != "" {
			t.Errorf("sync --dry-run changed the Maildir (-before +after):\n%s", diff)
		}

		rep := s.step("add", 4)
		if rep.New != 4 || rep.Mode != "incremental" {
			t.Errorf("sync after 4 adds: mode %q, new %d, want incremental, 4", rep.Mode, rep.New)
		}
	})

	t.Run("delete", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.deleteMessage(ids[1])  // INBOX
		w.deleteMessage(ids[12]) // INBOX, Projects/alpha, UNREAD
		rep := s.step("delete", 0)
		if rep.Deleted != 2 {
			t.Errorf("sync after 2 deletions: deleted %d, want 2", rep.Deleted)
		}
	})

	t.Run("labels and flags", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.modify(ids[2], []string{"Work"}, nil)             // user label added
		w.modify(ids[3], nil, []string{"Projects/alpha"})   // user label removed
		w.modify(ids[9], []string{"STARRED"}, nil)          // flagged
		w.modify(ids[10], nil, []string{"STARRED"})         // unflagged
		w.modify(ids[17], []string{"UNREAD"}, nil)          // read to unread
		w.modify(ids[8], nil, []string{"UNREAD"})           // unread to read
		w.modify(ids[14], []string{"INBOX", "UNREAD"}, nil) // archived message back in the inbox
		w.modify(ids[16], nil, []string{"INBOX"})           // archived
		rep := s.step("labels and flags", 0)
		if rep.Changed == 0 {
			t.Errorf("sync after label changes: changed 0, want more")
		}
	})

	t.Run("new label", func(t *testing.T) {
		s.use(t)
		w := s.w
		acme := w.createLabel("Clients/Acme")
		w.modify(ids[4], []string{acme}, nil)
		w.modify(ids[6], []string{acme}, nil)
		s.step("new label", 0)
	})

	t.Run("rename label", func(t *testing.T) {
		s.use(t)
		w := s.w
		before := w.dump()
		alpha := labelID(t, before, "Projects/alpha")
		oldDir, _ := mapperFor(before).Dir(alpha)
		w.renameLabel(alpha, "Projects/beta")
		after := w.dump()
		newDir, _ := mapperFor(after).Dir(alpha)
		s.step("rename label", 0)
		if _, err := os.Stat(filepath.Join(w.maildir, filepath.FromSlash(oldDir))); err == nil {
			t.Errorf("after renaming label %s from Projects/alpha to Projects/beta: old folder %s still exists", alpha, oldDir)
		}
		if _, err := os.Stat(filepath.Join(w.maildir, filepath.FromSlash(newDir), "cur")); err != nil {
			t.Errorf("after renaming label %s to Projects/beta: folder %s: %v", alpha, newDir, err)
		}
	})

	t.Run("rename label with flag changes", func(t *testing.T) {
		s.use(t)
		w := s.w
		acme := labelID(t, w.dump(), "Clients/Acme")
		w.renameLabel(acme, "Clients/Acme Corp")
		w.modify(ids[4], nil, []string{"UNREAD"}) // new/ to cur/ in the renamed folder
		w.modify(ids[6], []string{"UNREAD", "STARRED"}, nil)
		s.step("rename label with flag changes", 0)
	})

	t.Run("trash and untrash", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.modify(ids[7], []string{"TRASH"}, nil) // INBOX, Work, IMPORTANT
		s.step("trash", 0)
		w.modify(ids[7], nil, []string{"TRASH"})
		s.step("untrash", 0)
	})

	t.Run("spam", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.modify(ids[0], []string{"SPAM"}, []string{"INBOX"})
		s.step("spam", 0)
		w.modify(ids[0], []string{"INBOX"}, []string{"SPAM"})
		s.step("not spam", 0)
	})

	t.Run("drafts churn", func(t *testing.T) {
		s.use(t)
		w := s.w
		draft := s.nextMessage("DRAFT")
		s.step("draft saved", 1)
		w.deleteMessage(draft)
		draft = s.nextMessage("DRAFT")
		s.step("draft saved again", 1)

		// Three saves within one sync window: only the last one exists by
		// the time gmsync looks, so only it may be fetched.
		for range 3 {
			w.deleteMessage(draft)
			draft = s.nextMessage("DRAFT")
		}
		s.step("three draft saves in one window", 1)
		w.deleteMessage(draft)
		s.step("draft sent or discarded", 0)
	})

	t.Run("added and deleted in one window", func(t *testing.T) {
		s.use(t)
		w := s.w
		gone := s.nextMessage("INBOX", "UNREAD")
		s.nextMessage("INBOX")
		w.modify(gone, []string{"STARRED"}, nil)
		w.deleteMessage(gone)
		s.step("added and deleted in one window", 1)
	})

	t.Run("unknown system label", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.modify(ids[11], []string{"YELLOW_STAR"}, nil)
		d := w.dump()
		for _, l := range d.Labels {
			if l.Name == "YELLOW_STAR" {
				t.Logf("the emulator stored YELLOW_STAR as a %s label with id %s", l.Type, l.ID)
			}
		}
		s.step("YELLOW_STAR added", 0)
	})

	t.Run("history expired", func(t *testing.T) {
		s.use(t)
		w := s.w
		w.expireHistory()
		s.nextMessage("INBOX", "UNREAD")
		s.nextMessage("Projects/beta")
		s.nextMessage("SENT")
		w.deleteMessage(ids[13])
		w.modify(ids[18], []string{"UNREAD"}, []string{"STARRED"})
		w.modify(ids[19], []string{"Work"}, nil)
		w.modify(ids[20], []string{"TRASH"}, nil)
		rep := s.step("history expired", 3)
		if rep.Mode != "reconcile" {
			t.Errorf("sync after the history expired: mode %q, want reconcile", rep.Mode)
		}
		if rep.New != 3 || rep.Deleted != 1 {
			t.Errorf("reconciling sync: new %d, deleted %d, want 3, 1", rep.New, rep.Deleted)
		}

		s.nextMessage("INBOX")
		if rep := s.step("after reconciling", 1); rep.Mode != "incremental" {
			t.Errorf("sync after a reconciliation: mode %q, want incremental", rep.Mode)
		}
	})

	checkNoChangeSync(t, s, "no change at the end")
}

// checkNoChangeSync checks that a sync with nothing to do costs exactly
// one history.list call, in gmsync's own count and in the emulator's.
func checkNoChangeSync(t *testing.T, s *scenario, name string) {
	t.Helper()
	s.use(t)
	rep := s.step(name, 0)
	want := map[string]int{"history.list": 1}
	if !mapsEqual(rep.Calls, want) {
		t.Errorf("%s: gmsync sync --json calls = %v (total %d), want %v", name, rep.Calls, rep.totalCalls(), want)
	}
	if rep.Mode != "incremental" || rep.New != 0 || rep.Changed != 0 || rep.Deleted != 0 {
		t.Errorf("%s: mode %q, new %d, changed %d, deleted %d, want incremental and no changes", name, rep.Mode, rep.New, rep.Changed, rep.Deleted)
	}
	// The emulator's own count, in case gmsync's report misses a call.
	_, delta, _ := s.w.syncJSON()
	if !mapsEqual(delta.Requests, want) {
		t.Errorf("%s: the emulator served %v, want %v", name, delta.Requests, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSentCopyNotDuplicated checks that the Sent folder keeps one file for
// a sent message when the mail client saved its own copy there and Gmail
// adds the SENT message. It covers a message sent through gmsync send and
// one that Gmail received some other way.
func TestSentCopyNotDuplicated(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	for i := range 5 {
		w.addMessage(generatedMessage("sent-seed", i), []string{"INBOX"}, base.Add(time.Duration(i)*time.Minute))
	}
	w.login("sync")
	w.login("send")
	w.mustGmsync(nil, "sync", "--account", w.account)
	sentDir, ok := mapperFor(w.dump()).Dir("SENT")
	if !ok {
		t.Fatal("the default mapping has no Sent folder")
	}

	viaSend := "<sent-through-gmsync@laptop.example.com>"
	message := fmt.Sprintf("From: alice@example.com\r\nTo: bob@example.org\r\nSubject: copy kept by the client\r\nDate: Tue, 03 Nov 2026 10:00:00 +0000\r\nMessage-ID: %s\r\n\r\nHello Bob.\r\n", viaSend)
	clientCopy := writeForeignFile(t, w.maildir, sentDir, "1700000001.M2P1.laptop:2,S", []byte(message))
	w.mustGmsync([]byte(message), "send", "--account", w.account, "-oi", "bob@example.org")

	viaAdmin := "<sent-elsewhere@laptop.example.com>"
	other := strings.Replace(message, viaSend, viaAdmin, 1)
	otherCopy := writeForeignFile(t, w.maildir, sentDir, "1700000002.M3P1.laptop:2,S", []byte(other))
	w.addMessage([]byte(other), []string{"SENT"}, base.Add(time.Hour))

	for run := range 2 {
		w.mustGmsync(nil, "sync", "--account", w.account)
		d := w.dump()
		optional := map[string]bool{}
		for _, m := range d.Messages {
			if m.MessageID == viaSend || m.MessageID == viaAdmin {
				optional[sentDir+"\x00"+m.ID] = true
			}
		}
		if len(optional) != 2 {
			t.Fatalf("the mailbox holds %d messages with the two Message-IDs, want 2", len(optional))
		}
		checkSentOnce(t, w, d, sentDir, viaSend, run)
		checkSentOnce(t, w, d, sentDir, viaAdmin, run)
		checkExactMirror(t, w.maildir, d, mirrorOptions{foreign: presentForeign(t, w.maildir, clientCopy, otherCopy), optional: optional})
	}
}

// checkSentOnce checks that the Sent folder holds one file with msgID and
// that All Mail holds gmsync's copy of it.
func checkSentOnce(t *testing.T, w *world, d emulator.Dump, sentDir, msgID string, run int) {
	t.Helper()
	if got := filesWithMessageID(t, w.maildir, sentDir, msgID); len(got) != 1 {
		t.Errorf("sync %d: Sent holds %d files with Message-ID %s, want 1: %v", run+1, len(got), msgID, got)
	}
	allMail, _ := mapperFor(d).Dir("ALL")
	if got := filesWithMessageID(t, w.maildir, allMail, msgID); len(got) != 1 {
		t.Errorf("sync %d: All Mail holds %d files with Message-ID %s, want 1: %v", run+1, len(got), msgID, got)
	}
}

// presentForeign returns those of the mail client's files that still
// exist: gmsync may replace the client's copy of a sent message with its
// own, so either one may be the file that remains.
func presentForeign(t *testing.T, root string, paths ...string) []string {
	t.Helper()
	var out []string
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(root, filepath.FromSlash(p))); err == nil {
			out = append(out, p)
		} else {
			t.Logf("gmsync removed or renamed the mail client's copy %s", p)
		}
	}
	return out
}

// TestConcurrentSyncLock checks the per-account sync lock: of two syncs
// started together one runs and the other exits 0 at once with a notice,
// and a sync started with --wait waits for the running one, then syncs.
func TestConcurrentSyncLock(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 8, 1, 8, 0, 0, 0, time.UTC)
	for i := range 200 {
		w.addMessage(generatedMessage("lock", i), generatedLabels[i%len(generatedLabels)], base.Add(time.Duration(i)*time.Minute))
	}
	w.login("sync")
	w.setFaults(faults{LatencyMs: 60, Seed: 1})

	t.Run("second sync exits at once", func(t *testing.T) {
		w := w.forTest(t)
		a := w.startGmsync("sync", "--account", w.account)
		b := w.startGmsync("sync", "--account", w.account)
		var quick, slow *process
		select {
		case <-a.done:
			quick, slow = a, b
		case <-b.done:
			quick, slow = b, a
		case <-time.After(20 * time.Second):
			t.Fatalf("neither of two concurrent syncs ended within 20s")
		}
		if slow.exited() {
			t.Errorf("both syncs ended before either could be seen running alone; first: %s\nsecond: %s", quick, slow)
		}
		if took := quick.ended.Sub(quick.started); took > 5*time.Second {
			t.Errorf("the sync that found the lock taken ran %v, want an exit at once", took)
		}
		if quick.code != 0 || !mentionsLock(quick.stderr.String()) {
			t.Errorf("the sync that found the lock taken: %s\nwant exit 0 and a notice that another sync is running", quick)
		}
		if !slow.wait(90 * time.Second) {
			t.Fatalf("the sync holding the lock did not end within 90s")
		}
		if slow.code != 0 {
			t.Errorf("the sync holding the lock: %s", slow)
		}
		checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
	})

	t.Run("wait", func(t *testing.T) {
		w := w.forTest(t)
		for i := range 150 {
			w.addMessage(generatedMessage("lock-new", i), []string{"INBOX", "UNREAD"}, base.Add(time.Duration(1000+i)*time.Minute))
		}
		before := w.stats().totalRequests()
		holder := w.startGmsync("sync", "--account", w.account)
		if !waitForRequests(w, before, 10*time.Second) {
			t.Fatalf("the first sync made no API call within 10s: %s", holder)
		}
		waiter := w.startGmsync("sync", "--wait", "--account", w.account)
		if !holder.wait(90*time.Second) || !waiter.wait(90*time.Second) {
			t.Fatalf("the syncs did not end within 90s:\nfirst: %s\nwaiting: %s", holder, waiter)
		}
		if holder.code != 0 || waiter.code != 0 {
			t.Errorf("first sync: %s\nwaiting sync: %s\nwant both to exit 0", holder, waiter)
		}
		if waiter.ended.Before(holder.ended) {
			t.Errorf("the sync with --wait ended %v before the one holding the lock; want it to wait: %s", holder.ended.Sub(waiter.ended), waiter)
		}
		checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
	})
}

// mentionsLock reports whether a notice states that another sync holds
// the lock, in any of the usual words.
func mentionsLock(stderr string) bool {
	s := strings.ToLower(stderr)
	return strings.Contains(s, "running") || strings.Contains(s, "in progress") || strings.Contains(s, "lock")
}

// waitForRequests polls the emulator until it has served more than before
// requests, and reports whether that happened within timeout.
func waitForRequests(w *world, before int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if w.stats().totalRequests() > before {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// TestDeletionGuard checks that a sync which would delete more than 25% of
// the mirror stops without deleting anything and names --force, that it
// keeps stopping until forced, and that sync --force then deletes.
func TestDeletionGuard(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	base := time.Date(2026, 7, 1, 8, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 40 {
		ids = append(ids, w.addMessage(generatedMessage("guard", i), generatedLabels[i%len(generatedLabels)], base.Add(time.Duration(i)*time.Minute)))
	}
	w.login("sync")
	w.mustGmsync(nil, "sync", "--account", w.account)
	checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
	before := mirrorPaths(t, w.maildir)

	for _, id := range ids[:16] {
		w.deleteMessage(id)
	}
	for attempt := range 2 {
		res := w.gmsync(nil, "sync", "--account", w.account)
		if res.code == 0 || !strings.Contains(res.stdout+res.stderr, "--force") {
			t.Errorf("sync %d after deleting 16 of 40 messages: exit %d, want non-zero and a message naming --force\nstdout:\n%s\nstderr:\n%s", attempt+1, res.code, res.stdout, res.stderr)
		}
		if diff := cmp.Diff(before, mirrorPaths(t, w.maildir)); diff != "" {
			t.Errorf("sync %d refused by the deletion guard changed the Maildir (-before +after):\n%s", attempt+1, diff)
		}
	}

	w.mustGmsync(nil, "sync", "--force", "--account", w.account)
	checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})

	// 5 of the remaining 24 is about 21%, under the default limit.
	for _, id := range ids[16:21] {
		w.deleteMessage(id)
	}
	w.mustGmsync(nil, "sync", "--account", w.account)
	checkExactMirror(t, w.maildir, w.dump(), mirrorOptions{})
}

// mirrorPaths returns every message file under root, relative to it.
func mirrorPaths(t *testing.T, root string) []string {
	t.Helper()
	idx := indexMirror(t, root)
	var out []string
	for _, copies := range idx.files {
		out = append(out, entryPaths(copies)...)
	}
	out = append(out, idx.foreign...)
	sort.Strings(out)
	return out
}
