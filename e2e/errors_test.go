package e2e

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestErrorExits checks the exit code and the advice of each failure a
// user meets first: the code is what mail clients act on, the message is
// what the user reads.
func TestErrorExits(t *testing.T) {
	w := newWorld(t, "alice@example.com", "--demo")
	message := []byte("To: bob@example.org\nSubject: hi\n\nhello\n")

	t.Run("sync without a login", func(t *testing.T) {
		res := w.gmsync(nil, "sync")
		wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for sync")
	})
	t.Run("send without a login", func(t *testing.T) {
		res := w.gmsync(message, "send", "-t", "--no-queue")
		wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for send")
		// Without --no-queue the message is safe in the outbox: exit 0.
		res = w.gmsync(message, "send", "-t")
		wantExit(t, res, 0, "gmsync auth login --account "+w.account+" --for send")
	})
	t.Run("unknown send option", func(t *testing.T) {
		res := w.gmsync(message, "send", "-Z", "bob@example.org")
		wantExit(t, res, 64, "-Z")
	})
	t.Run("empty message", func(t *testing.T) {
		res := w.gmsync(nil, "send", "bob@example.org")
		wantExit(t, res, 65, "empty")
	})
	t.Run("no recipients", func(t *testing.T) {
		res := w.gmsync([]byte("Subject: nobody\n\nhello\n"), "send", "-t")
		wantExit(t, res, 64, "recipient")
	})
	t.Run("missing config", func(t *testing.T) {
		missing := filepath.Join(w.dir, "nowhere.toml")
		res := w.gmsync(nil, "--config", missing, "sync")
		wantExit(t, res, 78, missing)
	})
	t.Run("unknown config key", func(t *testing.T) {
		path := filepath.Join(w.dir, "bad.toml")
		w.writeFile(path, "[accounts.x]\naddress = \"a@example.com\"\nmaildir = \"/tmp/m\"\nclient_id = \"id\"\nclient_secret = \"s\"\nmaildri = \"typo\"\n")
		res := w.gmsync(nil, "--config", path, "sync")
		wantExit(t, res, 78, "maildri")
	})

	w.login("sync")
	w.login("send")
	w.mustGmsync(nil, "sync")

	t.Run("revoked grant", func(t *testing.T) {
		w.admin("POST", "grants/revoke-all", nil, nil)
		w.admin("POST", "oauth/expire-access-tokens", nil, nil)
		res := w.gmsync(nil, "sync")
		wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for sync")
		res = w.gmsync(message, "send", "-t", "--no-queue")
		wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for send")
	})
}

func TestNoKeyringReachable(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.env = append(w.env, "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(w.dir, "no-bus"))
	res := w.gmsync(nil, "auth", "login", "--account", w.account, "--for", "sync", "--no-browser")
	wantExit(t, res, 69, "gnome-keyring-daemon")
	res = w.gmsync([]byte("To: bob@example.org\n\nhi\n"), "send", "-t", "--no-queue")
	wantExit(t, res, 69, "gnome-keyring-daemon")
}

func TestSendWhileOffline(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.login("send")
	w.url = "http://127.0.0.1:9/" // the discard port: nothing listens there
	w.env = append(w.env, "GMSYNC_API_URL="+w.url)
	res := w.gmsync([]byte("To: bob@example.org\nSubject: offline\n\nhi\n"), "send", "-t", "--no-queue")
	wantExit(t, res, 75, "127.0.0.1:9")
}

func wantExit(t *testing.T, res result, code int, mention string) {
	t.Helper()
	if res.code != code {
		t.Errorf("exit code %d, want %d\nstdout: %s\nstderr: %s", res.code, code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, mention) {
		t.Errorf("stderr does not mention %q:\n%s", mention, res.stderr)
	}
}
