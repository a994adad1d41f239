package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// closedURL is an API root where nothing listens: the discard port.
const closedURL = "http://127.0.0.1:9/"

// withAPI returns a copy of w whose gmsync runs send Gmail API requests to
// url, for a Gmail that is unreachable; OAuth still reaches the emulator.
func (w *world) withAPI(url string) *world {
	c := *w
	c.env = append(slices.Clone(w.env), "GMSYNC_API_URL="+url)
	return &c
}

// outboxDir returns the outbox of the world's account.
func (w *world) outboxDir() string {
	return filepath.Join(w.stateDir, "gmsync", w.account, "outbox")
}

// outboxFiles returns the names of the metadata files in dir, which name
// the queued messages.
func outboxFiles(t *testing.T, dir string) []string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range names {
		names[i] = filepath.Base(n)
	}
	return names
}

// queueRows runs `gmsync queue list` and returns its rows without the
// heading, each split into columns.
func (w *world) queueRows() [][]string {
	w.t.Helper()
	res := w.mustGmsync(nil, "queue", "list", "--account", w.account)
	lines := strings.Split(strings.TrimRight(res.stdout, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ACCOUNT") {
		w.t.Fatalf("queue list printed no heading:\n%s", res.stdout)
	}
	var rows [][]string
	for _, line := range lines[1:] {
		rows = append(rows, strings.Fields(line))
	}
	return rows
}

func outboxMessage(tag string, n int) []byte {
	return fmt.Appendf(nil, "From: alice@example.com\nTo: bob@example.org\nSubject: %s %d\nMessage-ID: <%s-%d@gmsync.test>\n\nBody of %s %d.\n", tag, n, tag, n, tag, n)
}

// sentMessageIDs returns the Message-ID of each message the emulator
// accepted, in order.
func (w *world) sentMessageIDs() []string {
	w.t.Helper()
	var ids []string
	for _, s := range w.sent() {
		ids = append(ids, headerOf(w.t, s.Raw, "Message-Id"))
	}
	return ids
}

func TestOutboxOfflineThenFlush(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	offline := w.withAPI(closedURL)

	var want []string
	for n := range 10 {
		res := offline.gmsync(outboxMessage("offline", n), "send", "-t")
		if res.code != 0 {
			t.Fatalf("send %d while offline: exit %d, want 0\n%s", n, res.code, res.stderr)
		}
		if !strings.Contains(res.stderr, "queued") || strings.Count(res.stderr, "\n") != 1 {
			t.Errorf("send %d while offline: stderr %q, want one line saying it was queued", n, res.stderr)
		}
		want = append(want, fmt.Sprintf("<offline-%d@gmsync.test>", n))
	}
	if got := w.sent(); len(got) != 0 {
		t.Fatalf("emulator received %d messages while offline, want 0", len(got))
	}
	rows := w.queueRows()
	if len(rows) != 10 {
		t.Fatalf("queue list shows %d rows, want 10", len(rows))
	}
	for _, row := range rows {
		if row[3] != "queued" {
			t.Errorf("queue list row %v: state %s, want queued", row, row[3])
		}
	}

	res := w.mustGmsync(nil, "queue", "flush")
	if !strings.Contains(res.stderr, "sent 10") {
		t.Errorf("queue flush stderr = %q, want a summary with sent 10", res.stderr)
	}
	if got := w.sentMessageIDs(); !slices.Equal(got, want) {
		t.Errorf("emulator received %v, want %v in that order", got, want)
	}
	if rows := w.queueRows(); len(rows) != 0 {
		t.Errorf("queue list after flush shows %v, want nothing", rows)
	}

	res = w.mustGmsync(nil, "queue", "flush")
	if res.stderr != "" || len(w.sent()) != 10 {
		t.Errorf("second flush: stderr %q, %d sent, want silence and still 10", res.stderr, len(w.sent()))
	}
}

func TestOutboxQueueOnly(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")

	res := w.mustGmsync(outboxMessage("odq", 1), "send", "-odq", "-t")
	if res.stderr != "" {
		t.Errorf("send -odq stderr = %q, want nothing", res.stderr)
	}
	if got := w.sent(); len(got) != 0 {
		t.Fatalf("emulator received %d messages after send -odq, want 0", len(got))
	}
	if files := outboxFiles(t, w.outboxDir()); len(files) != 1 {
		t.Fatalf("outbox holds %v, want one message", files)
	}
	w.mustGmsync(nil, "queue", "flush", "--account", w.account)
	if got := w.sentMessageIDs(); !slices.Equal(got, []string{"<odq-1@gmsync.test>"}) {
		t.Errorf("emulator received %v after flush, want the queued message", got)
	}
}

func TestOutboxNoQueueOffline(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")

	res := w.withAPI(closedURL).gmsync(outboxMessage("noqueue", 1), "send", "--no-queue", "-t")
	wantExit(t, res, 75, "not queued")
	if files := outboxFiles(t, w.outboxDir()); len(files) != 0 {
		t.Errorf("outbox holds %v after send --no-queue, want nothing", files)
	}
}

func TestOutboxAuthMissingQueues(t *testing.T) {
	w := newWorld(t, "alice@example.com")

	res := w.gmsync(outboxMessage("nogrant", 1), "send", "-t")
	wantExit(t, res, 0, "gmsync auth login --account "+w.account+" --for send")
	if files := outboxFiles(t, w.outboxDir()); len(files) != 1 {
		t.Fatalf("outbox holds %v, want the message", files)
	}

	w.login("send")
	w.mustGmsync(nil, "queue", "flush")
	if got := w.sentMessageIDs(); !slices.Equal(got, []string{"<nogrant-1@gmsync.test>"}) {
		t.Errorf("emulator received %v after login and flush, want the queued message", got)
	}
}

func TestOutboxRejectedMovesToFailed(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	// RFC 5322 still allows a source route, so gmsync passes this To
	// field, but the emulator's address parser (net/mail) returns 400
	// "Invalid To header" as Gmail does for a To it cannot parse.
	message := []byte("From: alice@example.com\nTo: <@relay.example.org:bob@example.org>\nSubject: rejected\nMessage-ID: <rejected-1@gmsync.test>\n\nhi\n")

	res := w.gmsync(message, "send", "-t")
	if res.code == 0 {
		t.Skipf("the emulator accepted the message, so this case cannot be made: %s", res.stderr)
	}
	wantExit(t, res, 65, "Gmail rejected the message")
	failed := outboxFiles(t, filepath.Join(w.outboxDir(), "failed"))
	if len(failed) != 1 {
		t.Fatalf("failed/ holds %v, want the rejected message", failed)
	}
	copyPath := filepath.Join(w.outboxDir(), "failed", strings.TrimSuffix(failed[0], ".json")+".eml")
	data, err := os.ReadFile(copyPath)
	if err != nil || !strings.Contains(string(data), "rejected-1@gmsync.test") {
		t.Errorf("failed copy %s: %v, want the message", copyPath, err)
	}
	rows := w.queueRows()
	if len(rows) != 1 || rows[0][3] != "failed" {
		t.Errorf("queue list = %v, want one failed row", rows)
	}
}

func TestOutboxNoQueueExitCodes(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	message := outboxMessage("noqueue-codes", 1)

	res := w.gmsync(message, "send", "--no-queue", "-t")
	wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for send")

	noBus := *w
	noBus.env = append(slices.Clone(w.env), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(w.dir, "no-bus"))
	res = noBus.gmsync(message, "send", "--no-queue", "-t")
	wantExit(t, res, 69, "gnome-keyring-daemon")
	res = noBus.gmsync(message, "send", "-t")
	wantExit(t, res, 0, "gnome-keyring-daemon")

	if files := outboxFiles(t, w.outboxDir()); len(files) != 1 {
		t.Errorf("outbox holds %v, want only the message sent without --no-queue", files)
	}
}
