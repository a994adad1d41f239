package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/zalando/go-keyring"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// mockStore returns a KeyringStore over a fresh go-keyring mock.
// It also points XDG_STATE_HOME, where refresh locks live, at a temporary
// directory.
func mockStore(t *testing.T) *KeyringStore {
	t.Helper()
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	keyring.MockInit()
	return &KeyringStore{timeout: 5 * time.Second}
}

func TestKeyringStoreRoundTrip(t *testing.T) {
	s := mockStore(t)
	if _, err := s.Load("a", Send); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load(a, send) on an empty keyring = %v, want ErrNotFound", err)
	}

	want := &Grant{
		ClientID: "c", RefreshToken: "r", Scopes: []string{ScopeSend},
		Obtained: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), AccessToken: "at", Expiry: time.Date(2026, 1, 2, 4, 4, 5, 0, time.UTC),
	}
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
	if _, err := s.Load("a", Sync); !errors.Is(err, ErrNotFound) {
		t.Errorf("Load(a, sync) = %v, want ErrNotFound: purposes have separate entries", err)
	}

	raw, err := keyring.Get(KeyringService, "a:send")
	if err != nil || !strings.Contains(raw, `"refresh_token":"r"`) {
		t.Errorf("keyring entry gmsync a:send = %q, %v, want the grant as JSON", raw, err)
	}

	if err := s.Delete("a", Send); err != nil {
		t.Fatalf("Delete(a, send) = %v", err)
	}
	if err := s.Delete("a", Send); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete(a, send) = %v, want ErrNotFound", err)
	}
}

func TestKeyringStoreCorruptEntry(t *testing.T) {
	s := mockStore(t)
	if err := keyring.Set(KeyringService, "a:sync", "not json"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Load("a", Sync)
	if err == nil || !strings.Contains(err.Error(), "gmsync auth login --account a --for sync") {
		t.Errorf("Load(a, sync) of a corrupt entry = %v, want advice to log in again", err)
	}
}

func TestKeyringStoreTimeout(t *testing.T) {
	s := &KeyringStore{timeout: 50 * time.Millisecond}
	release := make(chan struct{})
	defer close(release)
	err := s.call(func() error { <-release; return nil })
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "did not answer within 50ms") {
		t.Errorf("call(hung op) = %v, want a timeout wrapping ErrNoKeyring", err)
	}
	if code := sysexits.Code(err); code != sysexits.TempFail {
		t.Errorf("call(hung op) exit code = %d, want %d", code, sysexits.TempFail)
	}
}

func TestKeyringStoreExplainsFailures(t *testing.T) {
	keyring.MockInitWithError(errors.New("org.freedesktop.DBus.Error.ServiceUnknown"))
	var explained error
	s := &KeyringStore{timeout: time.Second, explain: func(err error, _ func() error) error {
		explained = err
		return noKeyring("no Secret Service", err)
	}}
	_, err := s.Load("a", Send)
	if explained == nil {
		t.Fatalf("Load with a failing keyring did not call explain")
	}
	if !errors.Is(err, ErrNoKeyring) || !strings.Contains(err.Error(), "gnome-keyring-daemon --unlock") {
		t.Errorf("Load with a failing keyring = %v, want ErrNoKeyring with advice", err)
	}
	if code := sysexits.Code(err); code != sysexits.Unavailable {
		t.Errorf("Load with a failing keyring exit code = %d, want %d", code, sysexits.Unavailable)
	}
}
