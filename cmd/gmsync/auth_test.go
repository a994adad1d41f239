package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/gmsync/gmsync/auth"
	"github.com/gmsync/gmsync/e2e/emulator"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// authEnv is an emulator, a configuration file for its one account
// "personal", and go-keyring's in-memory mock in place of the keyring.
type authEnv struct {
	emu        *emulator.Server
	base       string
	configPath string
}

func newAuthEnv(t *testing.T) *authEnv {
	t.Helper()
	keyring.MockInit()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, k := range []string{"GMSYNC_API_URL", "GMSYNC_AUTH_URL", "GMSYNC_TOKEN_URL", "GMSYNC_REVOKE_URL", "GMSYNC_CONFIG"} {
		t.Setenv(k, "")
	}

	emu := emulator.New(emulator.Options{})
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })

	dir := t.TempDir()
	secret := filepath.Join(dir, "client_secret.json")
	if err := emu.WriteClientSecret(secret); err != nil {
		t.Fatal(err)
	}
	configPath := filepath.Join(dir, "config.toml")
	text := fmt.Sprintf("[accounts.personal]\naddress = %q\nmaildir = %q\nclient_secret_file = %q\n",
		emulator.DefaultUser, filepath.Join(dir, "Mail"), secret)
	if err := os.WriteFile(configPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return &authEnv{emu: emu, base: base, configPath: configPath}
}

// runGmsync runs gmsync in-process with stdin and returns the exit code,
// stdout and stderr.
func (e *authEnv) runGmsync(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	full := append([]string{"gmsync", "--config", e.configPath}, args...)
	code := run(context.Background(), full, newStreams(stdin, &stdout, &stderr))
	return code, stdout.String(), stderr.String()
}

// login runs `auth login --no-browser` and plays the user: it opens the
// printed URL with an HTTP client, which the emulator redirects to the
// loopback listener, as a browser on the same host would.
func (e *authEnv) login(t *testing.T, purpose string) (int, string) {
	t.Helper()
	stderrReader, stderrWriter := io.Pipe()
	var stderr strings.Builder
	done := make(chan struct{})
	go func() {
		defer close(done)
		scanner := bufio.NewScanner(stderrReader)
		for scanner.Scan() {
			line := scanner.Text()
			stderr.WriteString(line + "\n")
			if strings.HasPrefix(line, e.base+"o/oauth2/auth?") {
				go followAuthURL(t, line)
			}
		}
	}()

	stdinReader, stdinWriter := io.Pipe()
	defer stdinWriter.Close()
	args := []string{"gmsync", "--config", e.configPath, "auth", "login", "--for", purpose, "--no-browser"}
	code := run(context.Background(), args, newStreams(stdinReader, io.Discard, stderrWriter))
	stderrWriter.Close()
	<-done
	return code, stderr.String()
}

func followAuthURL(t *testing.T, authURL string) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Errorf("GET %s: %v", authURL, err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "return to the terminal") {
		t.Errorf("callback page = %q, want it to send the user back to the terminal", body)
	}
}

func storedGrant(t *testing.T, user string) *auth.Grant {
	t.Helper()
	raw, err := keyring.Get(auth.KeyringService, user)
	if err != nil {
		t.Fatalf("keyring entry %s: %v", user, err)
	}
	var g auth.Grant
	if err := json.Unmarshal([]byte(raw), &g); err != nil {
		t.Fatalf("keyring entry %s = %q: %v", user, raw, err)
	}
	return &g
}

func TestAuthLoginStoresGrant(t *testing.T) {
	e := newAuthEnv(t)
	code, stderr := e.login(t, "send")
	if code != 0 {
		t.Fatalf("gmsync auth login --for send = exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "Open this URL in a browser on any machine:\n"+e.base) {
		t.Errorf("auth login stderr = %q, want the URL on a line of its own", stderr)
	}
	if !strings.HasSuffix(stderr, "stored the send grant for account personal in the system keyring\n") {
		t.Errorf("auth login stderr = %q, want it to end with the stored line", stderr)
	}

	g := storedGrant(t, "personal:send")
	if g.RefreshToken == "" || g.AccessToken == "" || len(g.Scopes) != 1 || g.Scopes[0] != auth.ScopeSend {
		t.Errorf("stored grant = scopes %v, refresh token set %t, access token set %t; want gmail.send and both tokens",
			g.Scopes, g.RefreshToken != "", g.AccessToken != "")
	}
	if g.ClientID != emulator.DefaultClientID {
		t.Errorf("stored grant client = %q, want %q", g.ClientID, emulator.DefaultClientID)
	}
}

func TestAuthStatus(t *testing.T) {
	e := newAuthEnv(t)
	if code, stderr := e.login(t, "sync"); code != 0 {
		t.Fatalf("gmsync auth login --for sync = exit %d; stderr:\n%s", code, stderr)
	}
	g := storedGrant(t, "personal:sync")

	code, stdout, stderr := e.runGmsync(t, nil, "auth", "status")
	if code != 0 {
		t.Fatalf("gmsync auth status = exit %d; stderr:\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("auth status stdout = %q, want a header and two rows", stdout)
	}
	if f := strings.Fields(lines[1]); f[0] != "personal" || f[1] != "send" || f[2] != "system" || f[3] != "none" {
		t.Errorf("auth status send row = %q, want personal send system none", lines[1])
	}
	if f := strings.Fields(lines[2]); f[0] != "personal" || f[1] != "sync" || f[2] != "system" || f[3] != "stored" || f[4] != "gmail.readonly" || !strings.Contains(lines[2], "valid until") {
		t.Errorf("auth status sync row = %q, want personal sync system stored gmail.readonly ... valid until", lines[2])
	}
	if !strings.Contains(stderr, "gmsync auth login --account personal --for send") {
		t.Errorf("auth status stderr = %q, want the command for the missing grant", stderr)
	}
	for _, secret := range []string{g.RefreshToken, g.AccessToken} {
		if strings.Contains(stdout+stderr, secret) {
			t.Errorf("auth status printed a token")
		}
	}
}

func TestAuthImport(t *testing.T) {
	e := newAuthEnv(t)
	if code, stderr := e.login(t, "send"); code != 0 {
		t.Fatalf("gmsync auth login --for send = exit %d; stderr:\n%s", code, stderr)
	}
	refresh := storedGrant(t, "personal:send").RefreshToken
	if err := keyring.Delete(auth.KeyringService, "personal:send"); err != nil {
		t.Fatal(err)
	}

	code, _, stderr := e.runGmsync(t, strings.NewReader(refresh+"\n"), "auth", "import", "--for", "send")
	if code != 0 {
		t.Fatalf("gmsync auth import --for send = exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr, "stored the send grant for account personal") || !strings.Contains(stderr, "delete the plaintext copy") {
		t.Errorf("auth import stderr = %q, want the stored line and the reminder", stderr)
	}
	if got := storedGrant(t, "personal:send").RefreshToken; got != refresh {
		t.Errorf("imported refresh token differs from the one piped in")
	}

	// A send token cannot become the sync grant: its scope is wrong.
	code, _, stderr = e.runGmsync(t, strings.NewReader(`{"refresh_token": "`+refresh+`"}`), "auth", "import", "--for", "sync")
	if code != sysexits.NoPerm || !strings.Contains(stderr, "gmail.send instead of") {
		t.Errorf("gmsync auth import --for sync of a send token = exit %d, stderr %q; want 77 naming the wrong scope", code, stderr)
	}
}

func TestAuthUsageErrors(t *testing.T) {
	e := newAuthEnv(t)
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"login without --for", "", []string{"auth", "login"}, sysexits.Usage, "missing --for"},
		{"login with bad --for", "", []string{"auth", "login", "--for", "read"}, sysexits.Usage, `invalid purpose "read"`},
		{"unknown account", "", []string{"auth", "login", "--for", "send", "--account", "work"}, sysexits.Config, `no account "work"`},
		{"unknown flag", "", []string{"auth", "login", "--colour"}, sysexits.Usage, "unknown flag"},
		{"extra argument", "", []string{"auth", "status", "now"}, sysexits.Usage, `unexpected argument "now"`},
		{"import empty stdin", "", []string{"auth", "import", "--for", "send"}, sysexits.Usage, "no refresh token on standard input"},
		{"import two words", "a b", []string{"auth", "import", "--for", "send"}, sysexits.DataErr, "more than one word"},
		{"import revoked token", "1//revoked", []string{"auth", "import", "--for", "send"}, sysexits.NoPerm, "no longer valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := e.runGmsync(t, strings.NewReader(tt.stdin), tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("gmsync %s = exit %d, stderr %q; want exit %d containing %q", strings.Join(tt.args, " "), code, stderr, tt.code, tt.want)
			}
		})
	}
}

func TestAuthLoginBothPurposes(t *testing.T) {
	e := newAuthEnv(t)
	code, stderr := e.login(t, "send,sync")
	if code != 0 {
		t.Fatalf("gmsync auth login --for send,sync = exit %d, want 0; stderr:\n%s", code, stderr)
	}
	send, sync := storedGrant(t, "personal:send"), storedGrant(t, "personal:sync")
	if send.RefreshToken == sync.RefreshToken {
		t.Errorf("send and sync grants share a refresh token, want one grant each")
	}
	if len(send.Scopes) != 1 || send.Scopes[0] != auth.ScopeSend || len(sync.Scopes) != 1 || sync.Scopes[0] != auth.ScopeReadonly {
		t.Errorf("stored scopes = send %v, sync %v; want gmail.send and gmail.readonly", send.Scopes, sync.Scopes)
	}
}

func TestAuthToken(t *testing.T) {
	e := newAuthEnv(t)
	if code, stderr := e.login(t, "send"); code != 0 {
		t.Fatalf("gmsync auth login --for send = exit %d; stderr:\n%s", code, stderr)
	}
	code, stdout, stderr := e.runGmsync(t, nil, "auth", "token", "--for", "send")
	if code != 0 {
		t.Fatalf("gmsync auth token --for send = exit %d; stderr:\n%s", code, stderr)
	}
	if want := storedGrant(t, "personal:send").AccessToken + "\n"; stdout != want {
		t.Errorf("gmsync auth token stdout = %q, want the cached access token and a newline", stdout)
	}
	code, _, stderr = e.runGmsync(t, nil, "auth", "token", "--for", "sync")
	if code != sysexits.NoPerm || !strings.Contains(stderr, "gmsync auth login --account personal --for sync") {
		t.Errorf("gmsync auth token --for sync without a grant = exit %d, stderr %q; want 77 with the login command", code, stderr)
	}
}

func TestAuthLogout(t *testing.T) {
	e := newAuthEnv(t)
	if code, stderr := e.login(t, "send,sync"); code != 0 {
		t.Fatalf("gmsync auth login --for send,sync = exit %d; stderr:\n%s", code, stderr)
	}
	refresh := storedGrant(t, "personal:send").RefreshToken
	t.Setenv("GMSYNC_REVOKE_URL", e.base+"revoke")

	code, _, stderr := e.runGmsync(t, nil, "auth", "logout")
	if code != 0 {
		t.Fatalf("gmsync auth logout = exit %d; stderr:\n%s", code, stderr)
	}
	for _, want := range []string{"revoked the send grant of account personal", "deleted the sync grant of account personal"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("auth logout stderr = %q, want it to contain %q", stderr, want)
		}
	}
	for _, user := range []string{"personal:send", "personal:sync"} {
		if _, err := keyring.Get(auth.KeyringService, user); err == nil {
			t.Errorf("keyring entry %s still exists after logout", user)
		}
	}
	code, _, stderr = e.runGmsync(t, strings.NewReader(refresh), "auth", "import", "--for", "send")
	if code != sysexits.NoPerm || !strings.Contains(stderr, "no longer valid") {
		t.Errorf("import of the logged-out refresh token = exit %d, stderr %q; want 77: revoked at the emulator", code, stderr)
	}
}

func TestAuthLogoutRevokeFails(t *testing.T) {
	e := newAuthEnv(t)
	if code, stderr := e.login(t, "send"); code != 0 {
		t.Fatalf("gmsync auth login --for send = exit %d; stderr:\n%s", code, stderr)
	}
	t.Setenv("GMSYNC_REVOKE_URL", "http://127.0.0.1:9/revoke") // the discard port: nothing listens

	code, _, stderr := e.runGmsync(t, nil, "auth", "logout", "--for", "send")
	if code != sysexits.Unavailable || !strings.Contains(stderr, auth.PermissionsURL) || !strings.Contains(stderr, "may still be live") {
		t.Errorf("gmsync auth logout with the revoke endpoint down = exit %d, stderr %q; want 69 naming %s", code, stderr, auth.PermissionsURL)
	}
	if _, err := keyring.Get(auth.KeyringService, "personal:send"); err == nil {
		t.Errorf("keyring entry personal:send still exists after a logout whose revocation failed, want it deleted")
	}
}
