package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// authAccount is one [accounts.NAME] table of an auth test's configuration.
type authAccount struct {
	name, address string
	extra         string // more TOML lines for the table
}

// writeAccounts replaces the world's configuration with one table per
// account, all on the world's emulator.
func (w *world) writeAccounts(accounts ...authAccount) {
	w.t.Helper()
	var b strings.Builder
	secretFile := filepath.Join(w.config, "gmsync", "client_secret.json")
	for _, a := range accounts {
		fmt.Fprintf(&b, "[accounts.%s]\naddress = %q\nmaildir = %q\nclient_secret_file = %q\napi_url = %q\nrevoke_url = %q\n%s\n",
			a.name, a.address, filepath.Join(w.dir, "Mail-"+a.name), secretFile, w.url, w.url+"revoke", a.extra)
	}
	w.writeFile(filepath.Join(w.config, "gmsync", "config.toml"), b.String())
}

// loginAs runs `gmsync auth login --no-browser` for account and purposes
// ("send,sync") and plays the browser for every authorization URL printed.
// It returns the result instead of failing, so tests can check refusals.
func (w *world) loginAs(account, purposes string, extraArgs ...string) result {
	w.t.Helper()
	return w.loginWith(account, purposes, func(authURL string) { go w.browse(authURL) }, extraArgs...)
}

// loginWith runs `gmsync auth login --no-browser` and calls onURL with each
// authorization URL it prints.
func (w *world) loginWith(account, purposes string, onURL func(string), extraArgs ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	args := append([]string{"auth", "login", "--account", account, "--for", purposes, "--no-browser"}, extraArgs...)
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "gmsync"), args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	stdin, err := cmd.StdinPipe() // open, so gmsync waits for the callback, not a paste
	if err != nil {
		w.t.Fatal(err)
	}
	defer stdin.Close()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		w.t.Fatal(err)
	}
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	var transcript strings.Builder
	scanner := bufio.NewScanner(stderr)
	for scanner.Scan() {
		line := scanner.Text()
		transcript.WriteString(line + "\n")
		if strings.HasPrefix(line, w.url+"o/oauth2/auth?") {
			onURL(line)
		}
	}
	err = cmd.Wait()
	res := result{stdout: stdout.String(), stderr: transcript.String(), code: cmd.ProcessState.ExitCode()}
	if err != nil && res.code < 0 {
		w.t.Fatalf("gmsync %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustLoginAs is loginAs that fails the test unless the login succeeds.
func (w *world) mustLoginAs(account, purposes string) {
	w.t.Helper()
	if res := w.loginAs(account, purposes); res.code != 0 {
		w.t.Fatalf("gmsync auth login --account %s --for %s: exit %d\n%s", account, purposes, res.code, res.stderr)
	}
}

// accessToken returns the access token `gmsync auth token` prints.
func (w *world) accessToken(account, purpose string) string {
	w.t.Helper()
	res := w.mustGmsync(nil, "auth", "token", "--account", account, "--for", purpose)
	return strings.TrimSpace(res.stdout)
}

// keyringUsers returns the user names of gmsync's entries in the Secret
// Service, as secret-tool search lists them.
func keyringUsers(t *testing.T) []string {
	t.Helper()
	out, _ := exec.Command("secret-tool", "search", "--all", "service", "gmsync").CombinedOutput()
	var users []string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "attribute.username = "); ok {
			users = append(users, v)
		}
	}
	return users
}

// argvWatch records the command line of every process that runs while a
// test does, by sampling /proc. A process shorter than the sampling period
// can be missed, so the command backend's children are also recorded by
// a wrapper script (see passBackend).
type argvWatch struct {
	mu    sync.Mutex
	seen  map[string]bool
	stop  chan struct{}
	ended chan struct{}
}

func watchArgv() *argvWatch {
	aw := &argvWatch{seen: map[string]bool{}, stop: make(chan struct{}), ended: make(chan struct{})}
	go func() {
		defer close(aw.ended)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			aw.sample()
			select {
			case <-aw.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return aw
}

func (aw *argvWatch) sample() {
	paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil || len(data) == 0 {
			continue
		}
		aw.mu.Lock()
		aw.seen[string(data)] = true
		aw.mu.Unlock()
	}
}

// finish stops sampling and returns every command line seen, arguments
// separated by NUL bytes.
func (aw *argvWatch) finish() []string {
	close(aw.stop)
	<-aw.ended
	aw.mu.Lock()
	defer aw.mu.Unlock()
	out := make([]string, 0, len(aw.seen))
	for c := range aw.seen {
		out = append(out, c)
	}
	return out
}

// scanSecretsAtEnd registers a check that runs when the test ends, before
// the emulator stops. It fails the test when a token the emulator issued
// appears in a file under the test's directory or HOME, in the argv of a
// process seen meanwhile, or in a wrapper script's argv log. Call it right
// after newWorld.
func (w *world) scanSecretsAtEnd(argvLogs ...string) {
	aw := watchArgv()
	w.t.Cleanup(func() {
		commandLines := aw.finish()
		var issued struct {
			Tokens []string `json:"tokens"`
		}
		w.admin("GET", "tokens", nil, &issued)
		if len(issued.Tokens) == 0 {
			return
		}
		files := 0
		for _, root := range []string{w.dir, os.Getenv("HOME")} {
			filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
				if err != nil || !entry.Type().IsRegular() {
					return nil
				}
				data, err := os.ReadFile(path)
				if err != nil {
					return nil
				}
				files++
				if tok := findToken(data, issued.Tokens); tok != "" {
					w.t.Errorf("token %s found in plaintext in %s", redact(tok), path)
				}
				return nil
			})
		}
		for _, line := range commandLines {
			if tok := findToken([]byte(line), issued.Tokens); tok != "" {
				w.t.Errorf("token %s found in the argv of a process: %s", redact(tok), redact(strings.ReplaceAll(line, "\x00", " ")))
			}
		}
		for _, log := range argvLogs {
			data, _ := os.ReadFile(log)
			if tok := findToken(data, issued.Tokens); tok != "" {
				w.t.Errorf("token %s found in the argv recorded in %s", redact(tok), log)
			}
		}
		w.t.Logf("secrets scan: %d tokens, %d files, %d command lines", len(issued.Tokens), files, len(commandLines))
	})
}

func findToken(data []byte, tokens []string) string {
	for _, tok := range tokens {
		if bytes.Contains(data, []byte(tok)) {
			return tok
		}
	}
	return ""
}

// redact shortens s so a failure message does not print a whole token.
func redact(s string) string {
	if len(s) <= 12 {
		return s
	}
	return s[:8] + "..." + s[len(s)-4:]
}

// mintGrants makes n grants for user directly at the emulator, with PKCE,
// as other installations of the same OAuth client would.
func (w *world) mintGrants(user string, n int) {
	w.t.Helper()
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cfg := &oauth2.Config{
		ClientID: emulator.DefaultClientID, ClientSecret: emulator.DefaultClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: w.url + "o/oauth2/auth", TokenURL: w.url + "token", AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: "http://127.0.0.1:1/",
		Scopes:      []string{"https://www.googleapis.com/auth/gmail.send"},
	}
	for range n {
		verifier := oauth2.GenerateVerifier()
		resp, err := noRedirect.Get(cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", user)))
		if err != nil {
			w.t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			w.t.Fatal(err)
		}
		if _, err := cfg.Exchange(context.Background(), loc.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
			w.t.Fatalf("minting a grant: %v", err)
		}
	}
}

// passBackend sets up pass with a throwaway GPG key and returns the TOML
// lines of a command backend that runs pass through a wrapper script, and
// the file where the wrapper records each argv.
func (w *world) passBackend() (toml, argvLog string) {
	w.t.Helper()
	for _, tool := range []string{"pass", "gpg", "gpgconf"} {
		if _, err := exec.LookPath(tool); err != nil {
			w.t.Fatalf("%s not found: run scripts/deps.sh (Debian packages pass and gnupg)", tool)
		}
	}
	// gpg-agent's socket path must stay short, so GNUPGHOME is not under
	// the test's long temporary directory.
	gnupgHome, err := os.MkdirTemp("", "gmsync-gpg-")
	if err != nil {
		w.t.Fatal(err)
	}
	storeDir := filepath.Join(w.dir, "password-store")
	w.env = append(w.env, "GNUPGHOME="+gnupgHome, "PASSWORD_STORE_DIR="+storeDir)
	w.t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = w.env
		kill.Run()
		os.RemoveAll(gnupgHome)
	})

	run := func(name string, args ...string) string {
		cmd := exec.Command(name, args...)
		cmd.Env = w.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run("gpg", "--batch", "--passphrase", "", "--quick-gen-key", "gmsync test <gmsync-test@example.invalid>", "default", "default", "never")
	run("pass", "init", "gmsync-test@example.invalid")

	argvLog = filepath.Join(w.dir, "pass-argv.log")
	wrapper := filepath.Join(w.dir, "pass-wrapper")
	w.writeFile(wrapper, "#!/bin/sh\nprintf '%s\\n' \"$*\" >> "+argvLog+"\nexec pass \"$@\"\n")
	if err := os.Chmod(wrapper, 0o700); err != nil {
		w.t.Fatal(err)
	}
	toml = fmt.Sprintf(`keyring = "command"
keyring_get = [%q, "show", "gmsync/{account}/{purpose}"]
keyring_set = [%q, "insert", "-m", "-f", "gmsync/{account}/{purpose}"]
keyring_delete = [%q, "rm", "-f", "gmsync/{account}/{purpose}"]
`, wrapper, wrapper, wrapper)
	return toml, argvLog
}
