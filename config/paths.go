package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultPath returns the configuration file to read when --config is not
// given: $GMSYNC_CONFIG, else $XDG_CONFIG_HOME/gmsync/config.toml, else
// ~/.config/gmsync/config.toml. A relative XDG_CONFIG_HOME is ignored, as the
// XDG Base Directory specification requires.
func DefaultPath() string {
	if p := os.Getenv("GMSYNC_CONFIG"); p != "" {
		return p
	}
	if dir := os.Getenv("XDG_CONFIG_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "gmsync", "config.toml")
	}
	home, _ := os.UserHomeDir() // an unknown home gives a relative path that Load reports
	return filepath.Join(home, ".config", "gmsync", "config.toml")
}

// StateDir returns the directory for an account's sync state, outbox and
// logs, $XDG_STATE_HOME/gmsync/ACCOUNT (default ~/.local/state/gmsync/ACCOUNT),
// creating it and its parents with mode 0700 where missing.
func StateDir(account string) (string, error) {
	if !accountName.MatchString(account) {
		return "", fmt.Errorf("creating state directory: invalid account name %q", account)
	}
	base := os.Getenv("XDG_STATE_HOME")
	if !filepath.IsAbs(base) {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("finding state directory for account %s: %w", account, err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	dir := filepath.Join(base, "gmsync", account)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("creating state directory %s: %w", dir, err)
	}
	return dir, nil
}

// expandPath expands a leading ~ and $VAR or ${VAR} references in p, and
// resolves a relative result against dir. A reference to an unset variable
// is an error, because an empty expansion would silently move the path.
func expandPath(p, dir string) (string, error) {
	var missing []string
	p = os.Expand(p, func(name string) string {
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, "$"+name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("path uses %s, which is not set", strings.Join(missing, ", "))
	}

	if p == "~" || strings.HasPrefix(p, "~/") {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("expanding ~ in %s: %w", p, err)
		}
		p = filepath.Join(home, p[1:])
	} else if strings.HasPrefix(p, "~") {
		return "", errors.New("~user paths are not supported: write the full path")
	}

	if !filepath.IsAbs(p) {
		p = filepath.Join(dir, p)
	}
	return filepath.Clean(p), nil
}
