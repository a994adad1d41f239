package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gmsync/gmsync/e2e/emulator"
)

// world is one test's universe: an emulator process, a configuration with
// one account, and private config, state and Maildir directories.
type world struct {
	t        testing.TB
	dir      string
	account  string
	address  string
	maildir  string
	stateDir string
	config   string
	url      string
	env      []string
}

// newWorld starts gmail-emulator with extra arguments and writes a
// configuration whose only account is address. The account name is derived
// from the test name, because all tests share one keyring.
func newWorld(t testing.TB, address string, emulatorArgs ...string) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{
		t:        t,
		dir:      dir,
		account:  accountName(t.Name()),
		address:  address,
		maildir:  filepath.Join(dir, "Mail"),
		stateDir: filepath.Join(dir, "state"),
		config:   filepath.Join(dir, "config"),
	}
	if err := os.MkdirAll(filepath.Join(w.config, "gmsync"), 0o700); err != nil {
		t.Fatal(err)
	}
	secretFile := filepath.Join(w.config, "gmsync", "client_secret.json")
	w.url = startEmulator(t, dir, append([]string{"--user", address, "--write-client-secret", secretFile}, emulatorArgs...))

	w.writeConfig("")

	w.env = append(os.Environ(),
		"XDG_CONFIG_HOME="+w.config,
		"XDG_STATE_HOME="+w.stateDir,
		"GMSYNC_CONFIG=",
		"GMSYNC_API_URL=", "GMSYNC_AUTH_URL=", "GMSYNC_TOKEN_URL=", "GMSYNC_REVOKE_URL=",
	)
	return w
}

// writeConfig writes the configuration of the world's account, with extra
// TOML keys for that account appended.
func (w *world) writeConfig(extra string) {
	w.t.Helper()
	secretFile := filepath.Join(w.config, "gmsync", "client_secret.json")
	cfg := fmt.Sprintf(`[accounts.%s]
address = %q
maildir = %q
client_secret_file = %q
api_url = %q
revoke_url = %q
`, w.account, w.address, w.maildir, secretFile, w.url, w.url+"revoke")
	w.writeFile(filepath.Join(w.config, "gmsync", "config.toml"), cfg+extra)
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

func accountName(testName string) string {
	return strings.Trim(nonWord.ReplaceAllString(strings.ToLower(testName), "-"), "-")
}

func (w *world) writeFile(path, content string) {
	w.t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// startEmulator runs the gmail-emulator binary and returns its base URL.
// The process is killed when the test ends.
func startEmulator(t testing.TB, dir string, args []string) string {
	t.Helper()
	urlFile := filepath.Join(dir, "emulator.url")
	logFile, err := os.Create(filepath.Join(dir, "emulator.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(binDir, "gmail-emulator"), append([]string{"--addr", "127.0.0.1:0", "--url-file", urlFile}, args...)...)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting gmail-emulator: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		logFile.Close()
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(urlFile); err == nil && len(b) > 0 {
			return strings.TrimSpace(string(b))
		}
		time.Sleep(50 * time.Millisecond)
	}
	logText, _ := os.ReadFile(logFile.Name())
	t.Fatalf("gmail-emulator did not write %s within 20s; log:\n%s", urlFile, logText)
	return ""
}

// result is one gmsync run.
type result struct {
	stdout, stderr string
	code           int
}

// gmsync runs the gmsync binary with stdin and args under a two-minute
// deadline.
func (w *world) gmsync(stdin []byte, args ...string) result {
	w.t.Helper()
	return w.run(stdin, filepath.Join(binDir, "gmsync"), args...)
}

func (w *world) run(stdin []byte, program string, args ...string) result {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = w.env
	cmd.Dir = w.dir
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		w.t.Fatalf("running %s %v: %v", program, args, err)
	}
	return res
}

// mustGmsync runs gmsync and fails the test unless it exits 0.
func (w *world) mustGmsync(stdin []byte, args ...string) result {
	w.t.Helper()
	res := w.gmsync(stdin, args...)
	if res.code != 0 {
		w.t.Fatalf("gmsync %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// login runs `gmsync auth login --no-browser` and plays the browser: it
// opens the URL printed on stderr, and the emulator's redirect reaches
// gmsync's loopback listener.
func (w *world) login(purpose string) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "gmsync"), "auth", "login", "--account", w.account, "--for", purpose, "--no-browser")
	cmd.Env = w.env
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
	opened := false
	for scanner.Scan() {
		line := scanner.Text()
		transcript.WriteString(line + "\n")
		if !opened && strings.HasPrefix(line, "http") {
			opened = true
			go w.browse(line)
		}
	}
	if err := cmd.Wait(); err != nil {
		w.t.Fatalf("gmsync auth login --for %s: %v\n%s%s", purpose, err, stdout.String(), transcript.String())
	}
	if !opened {
		w.t.Fatalf("gmsync auth login --no-browser printed no URL:\n%s", transcript.String())
	}
}

func (w *world) browse(url string) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		w.t.Errorf("following the authorization URL: %v", err)
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// admin calls the emulator's admin API and decodes the JSON response into out
// when out is not nil.
func (w *world) admin(method, path string, body, out any) {
	w.t.Helper()
	var reader io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			w.t.Fatal(err)
		}
		reader = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+"admin/"+path, reader)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatalf("admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		w.t.Fatalf("admin %s %s: %s\n%s", method, path, resp.Status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			w.t.Fatalf("admin %s %s: decoding %q: %v", method, path, data, err)
		}
	}
}

func (w *world) dump() emulator.Dump {
	w.t.Helper()
	var d emulator.Dump
	w.admin("GET", "users/"+w.address+"/dump", nil, &d)
	return d
}

func (w *world) sent() []emulator.SentMessage {
	w.t.Helper()
	var s []emulator.SentMessage
	w.admin("GET", "users/"+w.address+"/sent", nil, &s)
	return s
}

// findCorpus returns the directory of the corpus of real-world messages:
// GMSYNC_CORPUS, or the shared corpus beside the repository by default.
func findCorpus() (string, bool) {
	dir := os.Getenv("GMSYNC_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	info, err := os.Stat(dir)
	return dir, err == nil && info.IsDir()
}
