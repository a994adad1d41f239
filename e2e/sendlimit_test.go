package e2e

import (
	"strings"
	"testing"
	"time"
)

// TestSendingLimitQueues covers Gmail's daily sending limit: messages.send
// returns 429 "(Mail sending)" with a retry time hours away. The message
// must stay queued until then, with exit 0, and go out once the block ends.
func TestSendingLimitQueues(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	until := time.Now().Add(3 * time.Hour).UTC()
	w.admin("POST", "users/"+w.address+"/sending-limit", map[string]any{"until": until}, nil)

	message := []byte("To: bob@example.org\nSubject: over the daily limit\n\nhello\n")
	res := w.gmsync(message, "send", "-t")
	wantExit(t, res, 0, "Mail sending")
	if lines := strings.Count(strings.TrimSpace(res.stderr), "\n") + 1; lines != 1 {
		t.Errorf("send at the sending limit printed %d lines on stderr, want one notice:\n%s", lines, res.stderr)
	}
	if n := len(w.sent()); n != 0 {
		t.Fatalf("emulator sent %d messages during the block, want 0", n)
	}

	// Mail is sent in order, so a new message waits behind the queued one.
	res = w.gmsync(message, "send", "-t", "--no-queue")
	wantExit(t, res, 75, "earlier messages wait")

	list := w.mustGmsync(nil, "queue", "list")
	if !strings.Contains(list.stdout, "over the daily limit") {
		t.Errorf("queue list does not show the queued message:\n%s", list.stdout)
	}
	// A flush before Gmail's retry time leaves the message alone.
	w.mustGmsync(nil, "queue", "flush")
	if n := len(w.sent()); n != 0 {
		t.Errorf("a flush before the retry time sent %d messages, want 0", n)
	}

	w.admin("POST", "users/"+w.address+"/sending-limit", map[string]any{"until": time.Time{}}, nil)
	w.mustGmsync(nil, "queue", "flush", "--now")
	if n := len(w.sent()); n != 1 {
		t.Errorf("after the block ended, flush --now sent %d messages, want 1", n)
	}
}
