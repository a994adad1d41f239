package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Placeholders that the command backend replaces in each argument of
// keyring_get, keyring_set and keyring_delete.
const (
	PlaceholderAccount = "{account}"
	PlaceholderPurpose = "{purpose}"
)

// finishKeyring fills in the default backend and checks the command
// backend's argv: each command is set, names a program, and contains both
// placeholders, so that every account and purpose gets an entry of its own.
func (a *Account) finishKeyring() []error {
	var errs []error
	commands := []struct {
		key  string
		argv []string
	}{{"keyring_get", a.KeyringGet}, {"keyring_set", a.KeyringSet}, {"keyring_delete", a.KeyringDelete}}

	switch a.Keyring {
	case "", KeyringSystem:
		a.Keyring = KeyringSystem
		for _, c := range commands {
			if len(c.argv) > 0 {
				errs = append(errs, fmt.Errorf("%s is set but keyring is %q: set keyring = %q to use it, or remove it", c.key, KeyringSystem, KeyringCommand))
			}
		}
	case KeyringCommand:
		for _, c := range commands {
			if err := checkKeyringArgv(c.argv); err != nil {
				errs = append(errs, fmt.Errorf("invalid %s: %w", c.key, err))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("invalid keyring %q: use %q (the system keyring) or %q (keyring_get, keyring_set and keyring_delete commands)", a.Keyring, KeyringSystem, KeyringCommand))
	}
	return errs
}

func checkKeyringArgv(argv []string) error {
	if len(argv) == 0 {
		return errors.New(`missing: keyring = "command" needs keyring_get, keyring_set and keyring_delete, e.g. keyring_get = ["pass", "show", "gmsync/{account}/{purpose}"]`)
	}
	if argv[0] == "" || strings.Contains(argv[0], PlaceholderAccount) || strings.Contains(argv[0], PlaceholderPurpose) {
		return fmt.Errorf("the first element %q must name the program", argv[0])
	}
	if !filepath.IsAbs(argv[0]) && strings.ContainsRune(argv[0], filepath.Separator) {
		return fmt.Errorf("program %q is a relative path: use a bare name found in PATH or an absolute path", argv[0])
	}
	joined := strings.Join(argv[1:], " ")
	for _, p := range []string{PlaceholderAccount, PlaceholderPurpose} {
		if !strings.Contains(joined, p) {
			return fmt.Errorf("no argument contains %s, so accounts or purposes would share one entry", p)
		}
	}
	return nil
}
