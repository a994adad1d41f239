package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binDir holds the gmsync and gmail-emulator binaries built for this run.
var binDir string

// keyringEnv marks the re-executed test process that runs inside the
// private D-Bus session.
const keyringEnv = "GMSYNC_E2E_IN_KEYRING"

// binDirEnv passes the directory of the built binaries to the re-executed
// test process.
const binDirEnv = "GMSYNC_E2E_BIN"

// TestMain builds the binaries, then re-executes the test binary inside
// dbus-run-session with an unlocked gnome-keyring, so every test talks to a
// real Secret Service that lives in a throwaway HOME and ends with the run.
// The build happens first, under the real HOME, so it uses the Go build
// cache.
func TestMain(m *testing.M) {
	if dir := os.Getenv(binDirEnv); dir != "" && os.Getenv(keyringEnv) != "" {
		binDir = dir
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "gmsync-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := 1
	if err := buildBinaries(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
	} else {
		code = reexecInKeyring(dir)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func reexecInKeyring(binaries string) int {
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(tool); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: %s not found: run scripts/deps.sh (Debian packages dbus and gnome-keyring)\n", tool)
			return 1
		}
	}
	home, err := os.MkdirTemp("", "gmsync-e2e-home-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(home)

	// The keyring password is a throwaway for a keyring that lives in home.
	script := `printf 'e2e-keyring-password' | gnome-keyring-daemon --unlock --components=secrets >/dev/null && exec "$@"`
	args := append([]string{"--", "sh", "-c", script, "sh"}, os.Args...)
	cmd := exec.Command("dbus-run-session", args...)
	cmd.Stdin = os.Stdin
	cmd.Stdout = os.Stdout
	cmd.Stderr = &dbusNoiseFilter{w: os.Stderr}
	cmd.Env = append(os.Environ(),
		keyringEnv+"=1",
		binDirEnv+"="+binaries,
		"HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
		"XDG_RUNTIME_DIR=",
	)
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "e2e: running tests in a private D-Bus session:", err)
		return 1
	}
	return 0
}

// dbusNoiseFilter drops dbus-daemon's lines about service activation.
type dbusNoiseFilter struct {
	w       *os.File
	pending []byte
}

func (f *dbusNoiseFilter) Write(p []byte) (int, error) {
	f.pending = append(f.pending, p...)
	for {
		i := strings.IndexByte(string(f.pending), '\n')
		if i < 0 {
			break
		}
		line := f.pending[:i+1]
		if !strings.HasPrefix(string(line), "dbus-daemon[") {
			if _, err := f.w.Write(line); err != nil {
				return 0, err
			}
		}
		f.pending = f.pending[i+1:]
	}
	return len(p), nil
}

func buildBinaries(dir string) error {
	cmd := exec.Command("go", "build", "-o", dir+string(os.PathSeparator), "../cmd/gmsync", "../cmd/gmail-emulator")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("building binaries: %w\n%s", err, out)
	}
	return nil
}
