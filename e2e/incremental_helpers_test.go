package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gmsync/gmsync/e2e/emulator"
	"github.com/gmsync/gmsync/maildir"
)

// forTest returns a copy of w that reports to t, for use inside t.Run:
// a subtest must not fail its parent.
func (w *world) forTest(t *testing.T) *world {
	c := *w
	c.t = t
	return &c
}

// generatedMessage returns a small RFC 5322 message whose Message-ID is
// <tag-n@gmsync.test>, so tests can tell the messages apart by header.
func generatedMessage(tag string, n int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Bob Example <bob@example.org>\r\n")
	fmt.Fprintf(&b, "To: alice@example.com\r\n")
	fmt.Fprintf(&b, "Subject: %s message %d\r\n", tag, n)
	fmt.Fprintf(&b, "Date: Mon, 02 Nov 2026 09:%02d:00 +0000\r\n", n%60)
	fmt.Fprintf(&b, "Message-ID: %s\r\n", generatedMessageID(tag, n))
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	for line := range 3 + n%5 {
		fmt.Fprintf(&b, "Line %d of %s message %d.\r\n", line, tag, n)
	}
	return []byte(b.String())
}

func generatedMessageID(tag string, n int) string {
	return fmt.Sprintf("<%s-%d@gmsync.test>", tag, n)
}

// addMessage adds one message through the admin API and returns its Gmail
// id. Label names that do not exist yet become user labels.
func (w *world) addMessage(raw []byte, labels []string, internal time.Time) string {
	w.t.Helper()
	if labels == nil {
		labels = []string{}
	}
	body := map[string]any{"raw": raw, "labels": labels, "internalDate": strconv.FormatInt(internal.UnixMilli(), 10)}
	var out struct {
		ID string `json:"id"`
	}
	w.admin("POST", "users/"+w.address+"/messages", body, &out)
	if out.ID == "" {
		w.t.Fatalf("admin add message: no id in the response")
	}
	return out.ID
}

// modify adds and removes labels (ids or names) on one message, as a
// change made in the Gmail web interface would.
func (w *world) modify(id string, add, remove []string) {
	w.t.Helper()
	body := map[string]any{"addLabelIds": orEmpty(add), "removeLabelIds": orEmpty(remove)}
	w.admin("POST", "users/"+w.address+"/messages/"+id+"/modify", body, nil)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// deleteMessage deletes one message permanently (not to Trash).
func (w *world) deleteMessage(id string) {
	w.t.Helper()
	w.admin("DELETE", "users/"+w.address+"/messages/"+id, nil, nil)
}

// createLabel creates a user label and returns its id.
func (w *world) createLabel(name string) string {
	w.t.Helper()
	var out emulator.DumpLabel
	w.admin("POST", "users/"+w.address+"/labels", map[string]string{"name": name}, &out)
	return out.ID
}

func (w *world) renameLabel(id, name string) {
	w.t.Helper()
	w.admin("PATCH", "users/"+w.address+"/labels/"+id, map[string]string{"name": name}, nil)
}

func (w *world) expireHistory() {
	w.t.Helper()
	w.admin("POST", "users/"+w.address+"/history/expire", nil, nil)
}

// faults is the body of POST /admin/faults.
type faults struct {
	LatencyMs       int     `json:"latencyMs"`
	LatencyJitterMs int     `json:"latencyJitterMs"`
	ErrorRate       float64 `json:"errorRate"`
	DropRate        float64 `json:"dropRate"`
	Seed            int64   `json:"seed"`
}

// quota is the body of POST /admin/quota.
type quota struct {
	UnitsPerMinute  int    `json:"unitsPerMinute"`
	Regime          string `json:"regime"`
	MaxConcurrent   int    `json:"maxConcurrent"`
	RateLimitStatus int    `json:"rateLimitStatus"`
}

func (w *world) setFaults(f faults) {
	w.t.Helper()
	w.admin("POST", "faults", f, nil)
}

func (w *world) setQuota(q quota) {
	w.t.Helper()
	w.admin("POST", "quota", q, nil)
}

// apiStats is GET /admin/stats: requests and quota units per Gmail method
// since the emulator started, and the counters of refused or broken calls.
type apiStats struct {
	Requests            map[string]int `json:"requests"`
	Units               map[string]int `json:"units"`
	RateLimited         int            `json:"rateLimited"`
	ConcurrencyRejected int            `json:"concurrencyRejected"`
	Injected5xx         int            `json:"injected5xx"`
	Dropped             int            `json:"dropped"`
}

func (w *world) stats() apiStats {
	w.t.Helper()
	var s apiStats
	w.admin("GET", "stats", nil, &s)
	return s
}

// since returns the difference s - earlier, dropping zero entries.
func (s apiStats) since(earlier apiStats) apiStats {
	diff := func(now, before map[string]int) map[string]int {
		out := map[string]int{}
		for k, v := range now {
			if d := v - before[k]; d != 0 {
				out[k] = d
			}
		}
		return out
	}
	return apiStats{
		Requests:            diff(s.Requests, earlier.Requests),
		Units:               diff(s.Units, earlier.Units),
		RateLimited:         s.RateLimited - earlier.RateLimited,
		ConcurrencyRejected: s.ConcurrencyRejected - earlier.ConcurrencyRejected,
		Injected5xx:         s.Injected5xx - earlier.Injected5xx,
		Dropped:             s.Dropped - earlier.Dropped,
	}
}

func (s apiStats) totalRequests() int {
	n := 0
	for _, v := range s.Requests {
		n += v
	}
	return n
}

func (s apiStats) gets() int { return s.Requests["messages.get"] }

// syncReport is the JSON object `gmsync sync --json` prints. The history
// ids are kept raw because the contract does not fix string or number.
type syncReport struct {
	Mode        string          `json:"mode"`
	New         int             `json:"new"`
	Changed     int             `json:"changed"`
	Deleted     int             `json:"deleted"`
	HistoryFrom json.RawMessage `json:"historyFrom"`
	HistoryTo   json.RawMessage `json:"historyTo"`
	Units       int             `json:"units"`
	Calls       map[string]int  `json:"calls"`
}

func (r syncReport) totalCalls() int {
	n := 0
	for _, v := range r.Calls {
		n += v
	}
	return n
}

// syncJSON runs `gmsync sync --json` with extra arguments, fails the test
// unless it exits 0 and prints one JSON object, and returns that object
// with the emulator's request counts for the run.
func (w *world) syncJSON(args ...string) (syncReport, apiStats, result) {
	w.t.Helper()
	before := w.stats()
	res := w.mustGmsync(nil, append([]string{"sync", "--json", "--account", w.account}, args...)...)
	delta := w.stats().since(before)
	rep, ok := parseReport(w.t, res)
	if !ok {
		w.t.FailNow()
	}
	return rep, delta, res
}

// parseReport decodes the JSON object of `gmsync sync --json` and reports
// an error unless stdout holds exactly that object. It returns false when
// no object could be decoded.
func parseReport(t testing.TB, res result) (syncReport, bool) {
	t.Helper()
	var rep syncReport
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	if err := dec.Decode(&rep); err != nil {
		t.Errorf("gmsync sync --json: stdout is not a JSON object: %v\nstdout:\n%s\nstderr:\n%s", err, res.stdout, res.stderr)
		return rep, false
	}
	if rest := strings.TrimSpace(res.stdout[dec.InputOffset():]); rest != "" {
		t.Errorf("gmsync sync --json: stdout holds more than one JSON object; the rest is %q", rest)
	}
	return rep, true
}

// mapperFor returns the mapper of the default configuration for the
// labels of d.
func mapperFor(d emulator.Dump) *maildir.Mapper {
	labels := make([]maildir.Label, 0, len(d.Labels))
	for _, l := range d.Labels {
		labels = append(labels, maildir.Label{ID: l.ID, Name: l.Name, Type: l.Type})
	}
	return maildir.NewMapper(labels, maildir.MapperOptions{})
}

// labelID returns the id of the label called name in d.
func labelID(t *testing.T, d emulator.Dump, name string) string {
	t.Helper()
	for _, l := range d.Labels {
		if l.Name == name {
			return l.ID
		}
	}
	t.Fatalf("no label %q in the mailbox", name)
	return ""
}

// mirrorOptions relaxes checkExactMirror for files a mail client wrote.
type mirrorOptions struct {
	// foreign lists files, relative to the Maildir root, that the mail
	// client wrote; they must still be there and are otherwise ignored.
	foreign []string
	// optional lists folder+"\x00"+gmailID copies that may be missing
	// because a foreign file replaces them.
	optional map[string]bool
}

// mirrorEntry is one gmsync message file found in the Maildir.
type mirrorEntry struct {
	path   string // relative to the root
	sha256 string
	inNew  bool
	flags  string
	inode  uint64
	mtime  time.Time
	mode   os.FileMode
}

// mirrorIndex is what a walk of the Maildir found.
type mirrorIndex struct {
	files   map[string][]mirrorEntry // by folder+"\x00"+gmailID; more than one is a duplicate
	foreign []string                 // files in cur/ or new/ not named by gmsync, relative to the root
	tmp     []string                 // files in any tmp/, relative to the root
	dirs    map[string]bool          // folders (directories holding cur/), relative to the root
}

// indexMirror walks root. Unlike indexMaildir it keeps duplicate copies,
// foreign files and tmp/ files apart instead of failing on them, so the
// caller decides what each means.
func indexMirror(t *testing.T, root string) mirrorIndex {
	t.Helper()
	idx := mirrorIndex{files: map[string][]mirrorEntry{}, dirs: map[string]bool{}}
	err := filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if entry.IsDir() {
			if entry.Name() == "cur" {
				idx.dirs[filepath.ToSlash(filepath.Dir(rel))] = true
			}
			return nil
		}
		sub := filepath.Base(filepath.Dir(path))
		switch sub {
		case "tmp":
			idx.tmp = append(idx.tmp, rel)
			return nil
		case "cur", "new":
		default:
			return nil
		}
		id, ok := maildir.ParseKey(entry.Name())
		if !ok {
			idx.foreign = append(idx.foreign, rel)
			return nil
		}
		folder := filepath.ToSlash(filepath.Dir(filepath.Dir(rel)))
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := os.Stat(path)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		_, flags, _ := strings.Cut(entry.Name(), ":2,")
		key := folder + "\x00" + id
		idx.files[key] = append(idx.files[key], mirrorEntry{
			path:   rel,
			sha256: hex.EncodeToString(sum[:]),
			inNew:  sub == "new",
			flags:  flags,
			inode:  info.Sys().(*syscall.Stat_t).Ino,
			mtime:  info.ModTime(),
			mode:   info.Mode().Perm(),
		})
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return idx
}

// checkExactMirror checks that the Maildir under root equals the mailbox d.
// Every message is in each folder of its labels exactly once, byte for
// byte, with the right flags, mtime and mode, and with one inode per
// message. No file belongs to a message or a label that is gone, tmp/ is
// empty, and every file not named by gmsync is one the test wrote. It
// returns false when it reported an error.
func checkExactMirror(t *testing.T, root string, d emulator.Dump, opts mirrorOptions) bool {
	t.Helper()
	failed := false
	errorf := func(format string, args ...any) {
		t.Helper()
		failed = true
		t.Errorf(format, args...)
	}
	mapper := mapperFor(d)
	idx := indexMirror(t, root)

	expected := map[string]bool{}
	for _, m := range d.Messages {
		unread := slices.Contains(m.LabelIDs, "UNREAD")
		internal, _ := strconv.ParseInt(m.InternalDate, 10, 64)
		var inode uint64
		for _, target := range mapper.Targets(m.LabelIDs) {
			key := target.Dir + "\x00" + m.ID
			expected[key] = true
			copies := idx.files[key]
			if len(copies) == 0 {
				if !opts.optional[key] {
					errorf("message %s (labels %v): missing from folder %q", m.ID, m.LabelIDs, target.Dir)
				}
				continue
			}
			if len(copies) > 1 {
				errorf("message %s (labels %v): %d files in folder %q, want 1: %v", m.ID, m.LabelIDs, len(copies), target.Dir, entryPaths(copies))
			}
			f := copies[0]
			if f.sha256 != m.SHA256 {
				errorf("message %s in %q: sha256 %s, want %s (the emulator's bytes)", m.ID, target.Dir, f.sha256, m.SHA256)
			}
			if f.inNew != unread {
				errorf("message %s in %q: in new/ = %v, want %v (UNREAD)", m.ID, target.Dir, f.inNew, unread)
			}
			if want := flagString(target.Flags, unread); f.flags != want {
				errorf("message %s in %q: flags %q, want %q (labels %v)", m.ID, target.Dir, f.flags, want, m.LabelIDs)
			}
			if f.mode != 0o600 {
				errorf("message %s in %q: mode %v, want 0600", m.ID, target.Dir, f.mode)
			}
			if f.mtime.Unix() != internal/1000 {
				errorf("message %s in %q: mtime %v, want internalDate %v", m.ID, target.Dir, f.mtime, time.UnixMilli(internal))
			}
			if inode == 0 {
				inode = f.inode
			} else if f.inode != inode {
				errorf("message %s in %q: a separate copy (inode %d), want a hard link to inode %d", m.ID, target.Dir, f.inode, inode)
			}
		}
	}

	var stale []string
	for key, copies := range idx.files {
		if !expected[key] {
			stale = append(stale, entryPaths(copies)...)
		}
	}
	sort.Strings(stale)
	for _, p := range stale {
		errorf("stale file %s: no message of the mailbox belongs there", p)
	}
	for _, p := range idx.tmp {
		errorf("file left in tmp/: %s", p)
	}
	for _, p := range idx.foreign {
		if !slices.Contains(opts.foreign, p) {
			errorf("file %s is not named by gmsync and the test did not write it", p)
		}
	}
	for _, p := range opts.foreign {
		if !slices.Contains(idx.foreign, p) {
			errorf("the mail client's file %s is gone", p)
		}
	}
	if failed {
		t.Logf("mailbox at historyId %s: %d messages, labels %v", d.HistoryID, len(d.Messages), labelNames(d))
	}
	return !failed
}

func entryPaths(entries []mirrorEntry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.path
	}
	return out
}

func labelNames(d emulator.Dump) []string {
	var out []string
	for _, l := range d.Labels {
		if l.Type == "user" {
			out = append(out, l.ID+"="+l.Name)
		}
	}
	return out
}

// writeForeignFile writes a message file the way a mail client does (its
// own unique name, no .gmsync key) and returns its path relative to root.
func writeForeignFile(t *testing.T, root, folder, name string, raw []byte) string {
	t.Helper()
	dir := filepath.Join(root, filepath.FromSlash(folder))
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "cur", name)
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return folder + "/cur/" + name
}

// filesWithMessageID returns the files in folder's cur/ and new/ whose
// Message-ID header is msgID.
func filesWithMessageID(t *testing.T, root, folder, msgID string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(folder), sub))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			data := readFile(t, filepath.Join(root, filepath.FromSlash(folder), sub, e.Name()))
			m, err := mail.ReadMessage(bytes.NewReader(data))
			if err == nil && m.Header.Get("Message-Id") == msgID {
				out = append(out, folder+"/"+sub+"/"+e.Name())
			}
		}
	}
	return out
}

// process is a gmsync run in the background.
type process struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	started        time.Time
	done           chan struct{}
	ended          time.Time
	code           int
	err            error
}

// startGmsync starts gmsync without waiting for it. The process is killed
// when the test ends, at the latest.
func (w *world) startGmsync(args ...string) *process {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p := &process{done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, filepath.Join(binDir, "gmsync"), args...)
	p.cmd.Env = w.env
	p.cmd.Dir = w.dir
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		cancel()
		w.t.Fatalf("starting gmsync %v: %v", args, err)
	}
	go func() {
		err := p.cmd.Wait()
		p.ended = time.Now()
		if exitErr, ok := err.(*exec.ExitError); ok {
			p.code = exitErr.ExitCode()
		} else {
			p.err = err
		}
		cancel()
		close(p.done)
	}()
	w.t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits up to timeout for the process to end and reports whether it
// did.
func (p *process) wait(timeout time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(timeout):
		return false
	}
}

// exited reports whether the process has ended, without waiting.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end. It reports whether
// the process was still running when killed.
func (p *process) kill() bool {
	if p.exited() {
		return false
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return p.code == -1 || p.err != nil
}

func (p *process) String() string {
	return fmt.Sprintf("exit %d after %v\nstdout:\n%s\nstderr:\n%s", p.code, p.ended.Sub(p.started).Round(time.Millisecond), p.stdout.String(), p.stderr.String())
}
