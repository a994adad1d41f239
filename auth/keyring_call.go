package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// keyringHint is the advice for starting a keyring when none responded.
const keyringHint = "start a keyring: log in to a desktop session (GNOME, KDE and most others start one), " +
	"or on a headless host run gmsync inside a D-Bus session (the systemd user bus, or dbus-run-session) " +
	"after unlocking gnome-keyring there with: echo PASSWORD | gnome-keyring-daemon --unlock --components=secrets; " +
	"or keep grants in pass, gopass, KeePassXC or secret-tool with keyring = \"command\" and " +
	"keyring_get, keyring_set and keyring_delete in the account's table (see docs/keyring.md)"

// keyringError explains why the keyring could not be used. It wraps
// ErrNoKeyring and the underlying error.
type keyringError struct {
	reason string // the cause, e.g. "no D-Bus session bus"
	err    error  // the underlying error, or nil
}

func (e *keyringError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%v: %s (%v): %s", ErrNoKeyring, e.reason, e.err, keyringHint)
	}
	return fmt.Sprintf("%v: %s: %s", ErrNoKeyring, e.reason, keyringHint)
}

func (e *keyringError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrNoKeyring}
	}
	return []error{ErrNoKeyring, e.err}
}

// noKeyring returns a keyringError with exit code 69 (EX_UNAVAILABLE).
func noKeyring(reason string, err error) error {
	return sysexits.Wrap(sysexits.Unavailable, &keyringError{reason: reason, err: err})
}

// deniedError explains why a keyring that responded denied access. It
// wraps ErrKeyringDenied and the underlying error.
type deniedError struct {
	reason string // the denial, e.g. "the collection is locked"
	advice string // the step that fixes it
	err    error  // the underlying error, or nil
}

func (e *deniedError) Error() string {
	if e.err != nil {
		return fmt.Sprintf("%v: %s (%v): %s", ErrKeyringDenied, e.reason, e.err, e.advice)
	}
	return fmt.Sprintf("%v: %s: %s", ErrKeyringDenied, e.reason, e.advice)
}

func (e *deniedError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrKeyringDenied}
	}
	return []error{ErrKeyringDenied, e.err}
}

// keyringDenied returns a deniedError with exit code 77 (EX_NOPERM).
func keyringDenied(reason, advice string, err error) error {
	return sysexits.Wrap(sysexits.NoPerm, &deniedError{reason: reason, advice: advice, err: err})
}

// call runs op, a sequence of go-keyring calls, and gives up after the
// store's timeout. A failure other than a missing entry is explained by
// explainKeyringError, which may repair the keyring and run op again.
//
// NOTE: on a timeout the goroutine running op stays blocked in D-Bus until
// the process exits. gmsync's commands are short-lived, so none piles up.
func (s *KeyringStore) call(op func() error) error {
	done := make(chan error, 1)
	go func() {
		err := op()
		if err != nil && !errors.Is(err, keyring.ErrNotFound) && s.explain != nil {
			err = s.explain(err, op)
		}
		done <- err
	}()

	timer := time.NewTimer(s.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		reason := fmt.Sprintf("the keyring did not answer within %v, perhaps because an unlock prompt waits on the desktop", s.timeout)
		return sysexits.Wrap(sysexits.TempFail, &keyringError{reason: reason})
	}
}
