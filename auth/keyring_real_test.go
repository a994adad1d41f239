package auth

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestSecretServiceStore runs the store against the session's real Secret
// Service. It needs a D-Bus session with an unlocked keyring, for example:
//
//	dbus-run-session -- sh -c 'echo pw | gnome-keyring-daemon --unlock --components=secrets; go test ./auth/'
//
// Other tests install go-keyring's mock, which cannot be undone, so the
// test runs itself again in a child process where only it runs.
func TestSecretServiceStore(t *testing.T) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("skipping: DBUS_SESSION_BUS_ADDRESS is unset; run under dbus-run-session with gnome-keyring unlocked")
	}
	_, errTool := exec.LookPath("secret-tool")
	_, errDaemon := exec.LookPath("gnome-keyring-daemon")
	if errTool != nil && errDaemon != nil {
		t.Skip("skipping: neither secret-tool nor gnome-keyring-daemon is installed")
	}
	if os.Getenv(secretServiceChildEnv) == "" {
		runSecretServiceChild(t)
		return
	}

	s := NewKeyringStore(DefaultKeyringTimeout)
	account := fmt.Sprintf("gmsync-test-%d", os.Getpid())
	t.Cleanup(func() { s.Delete(account, Send) })

	want := &Grant{ClientID: "c", RefreshToken: "r", Scopes: []string{ScopeSend}, Obtained: time.Now().UTC().Truncate(time.Second)}
	if err := s.Save(account, Send, want); err != nil {
		t.Fatalf("Save(%s, send) = %v", account, err)
	}
	got, err := s.Load(account, Send)
	if err != nil {
		t.Fatalf("Load(%s, send) = %v", account, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(%s, send) mismatch (-want +got):\n%s", account, diff)
	}
	if err := s.Delete(account, Send); err != nil {
		t.Errorf("Delete(%s, send) = %v", account, err)
	}
	if _, err := s.Load(account, Send); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(%s, send) after Delete = %v, want ErrNotFound", account, err)
	}
}

// secretServiceChildEnv marks the child process of TestSecretServiceStore.
const secretServiceChildEnv = "GMSYNC_TEST_SECRET_SERVICE_CHILD"

func runSecretServiceChild(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecretServiceStore$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), secretServiceChildEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("TestSecretServiceStore in a child process: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestSecretServiceStore") {
		t.Fatalf("TestSecretServiceStore in a child process did not pass:\n%s", out)
	}
}
