package auth

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// fakeManager writes a tiny password manager as three shell scripts that
// keep entries as files under dir/store and append their argv to
// dir/argv.log. get exits 1 for a missing entry and 2 when dir/locked
// exists, as pass does when gpg cannot decrypt.
func fakeManager(t *testing.T) (dir string, store *CommandStore) {
	t.Helper()
	dir = t.TempDir()
	scripts := map[string]string{
		"get": `[ -e "$D/locked" ] && { echo "gpg: decryption failed: No secret key" >&2; exit 2; }
[ -f "$D/store/$1" ] || { echo "Error: $1 is not in the password store." >&2; exit 1; }
cat "$D/store/$1"`,
		"set": `mkdir -p "$D/store" && cat > "$D/store/$1"`,
		"del": `[ -f "$D/store/$1" ] || exit 1
rm "$D/store/$1"`,
	}
	for name, body := range scripts {
		text := "#!/bin/sh\nD=" + dir + "\necho \"$0 $*\" >> \"$D/argv.log\"\n" + body + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	argv := func(name string) []string { return []string{filepath.Join(dir, name), "{account}-{purpose}"} }
	return dir, NewCommandStore(argv("get"), argv("set"), argv("del"), 10*time.Second)
}

func TestCommandStoreRoundTrip(t *testing.T) {
	dir, s := fakeManager(t)
	if _, err := s.Load("a", Send); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(a, send) on an empty store = %v, want ErrNotFound", err)
	}

	want := &Grant{ClientID: "c", ClientSecret: "cs", RefreshToken: "1//refresh-secret", Scopes: []string{ScopeSend},
		Obtained: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), AccessToken: "ya29.access-secret", Expiry: time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC)}
	if err := s.Save("a", Send, want); err != nil {
		t.Fatalf("Save(a, send) = %v", err)
	}
	got, err := s.Load("a", Send)
	if err != nil {
		t.Fatalf("Load(a, send) = %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(a, send) mismatch (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(dir, "store", "a-send")); err != nil {
		t.Errorf("entry a-send: %v, want {account}-{purpose} replaced in the argv", err)
	}
	if _, err := s.Load("a", Sync); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(a, sync) = %v, want ErrNotFound: purposes have separate entries", err)
	}

	if err := s.Delete("a", Send); err != nil {
		t.Fatalf("Delete(a, send) = %v", err)
	}
	if err := s.Delete("a", Send); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete(a, send) = %v, want ErrNotFound", err)
	}

	argv, err := os.ReadFile(filepath.Join(dir, "argv.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{want.RefreshToken, want.AccessToken, want.ClientSecret} {
		if strings.Contains(string(argv), secret) {
			t.Errorf("a command's argv contained a secret:\n%s", argv)
		}
	}
}

func TestCommandStoreDeniedIsNotNotFound(t *testing.T) {
	dir, s := fakeManager(t)
	if err := s.Save("a", Sync, &Grant{RefreshToken: "1//r"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "locked"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load("a", Sync)
	if !errors.Is(err, ErrKeyringDenied) || errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(a, sync) from a locked store = %v, want ErrKeyringDenied and not ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), "exited with status 2") || !strings.Contains(err.Error(), "decryption failed") {
		t.Errorf("Load(a, sync) from a locked store = %q, want the status and the command's message", err)
	}
	if code := sysexits.Code(err); code != sysexits.NoPerm {
		t.Errorf("Load(a, sync) from a locked store exit code = %d, want %d", code, sysexits.NoPerm)
	}
}

func TestCommandStoreFailures(t *testing.T) {
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		return path
	}
	leaky := script("leaky", `echo '{"refresh_token":"1//leaked"}' >&2; exit 3`)
	slow := script("slow", "sleep 5")
	forgetful := script("forgetful", "cat > /dev/null")
	empty := script("empty", "exit 1")

	tests := []struct {
		name    string
		store   *CommandStore
		op      func(*CommandStore) error
		is      error
		code    int
		absent  string
		message string
	}{
		{"stderr with a token is not quoted", NewCommandStore([]string{leaky, "{account}"}, nil, nil, 5*time.Second),
			func(s *CommandStore) error { _, err := s.Load("a", Send); return err }, ErrKeyringDenied, sysexits.NoPerm, "1//leaked", "status 3"},
		{"timeout", NewCommandStore([]string{slow, "{account}"}, nil, nil, 100*time.Millisecond),
			func(s *CommandStore) error { _, err := s.Load("a", Send); return err }, ErrNoKeyring, sysexits.TempFail, "", "did not finish within 100ms"},
		{"missing program", NewCommandStore([]string{filepath.Join(dir, "nope"), "{account}"}, nil, nil, time.Second),
			func(s *CommandStore) error { _, err := s.Load("a", Send); return err }, ErrNoKeyring, sysexits.Unavailable, "", "docs/keyring.md"},
		{"set that keeps nothing", NewCommandStore([]string{empty, "{account}"}, []string{forgetful, "{account}"}, nil, time.Second),
			func(s *CommandStore) error { return s.Save("a", Send, &Grant{RefreshToken: "1//kept"}) }, nil, sysexits.Unavailable, "1//kept", "did not return what keyring_set stored"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op(tt.store)
			if err == nil {
				t.Fatalf("%s = nil error", tt.name)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error = %v, want it to wrap %v", err, tt.is)
			}
			if code := sysexits.Code(err); code != tt.code {
				t.Errorf("exit code = %d, want %d (error %v)", code, tt.code, err)
			}
			if tt.absent != "" && strings.Contains(err.Error(), tt.absent) {
				t.Errorf("error = %q, want no %q in it", err, tt.absent)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error = %q, want it to contain %q", err, tt.message)
			}
		})
	}
}
