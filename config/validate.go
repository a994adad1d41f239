package config

import (
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"github.com/BurntSushi/toml"
)

// accountName limits table names to what is safe in a directory name and in
// the keyring entry "ACCOUNT:PURPOSE".
var accountName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// finish fills in defaults, expands paths and validates every account.
func (c *Config) finish(meta toml.MetaData) error {
	var errs []error
	var defaults []string
	for _, name := range c.names() {
		a := c.Accounts[name]
		if a == nil {
			a = &Account{}
			c.Accounts[name] = a
		}
		a.Name = name
		if a.Default {
			defaults = append(defaults, name)
		}
		concurrencySet := meta.IsDefined("accounts", name, "fetch_concurrency")
		for _, err := range a.finish(filepath.Dir(c.Path), concurrencySet) {
			errs = append(errs, fmt.Errorf("account %q in %s: %w", name, c.Path, err))
		}
	}
	if len(defaults) > 1 {
		errs = append(errs, fmt.Errorf("accounts %s in %s all set default = true: keep it on one", strings.Join(defaults, " and "), c.Path))
	}
	return errors.Join(errs...)
}

// finish validates one account and fills in its defaults. Relative paths
// are resolved against dir, the configuration file's directory.
func (a *Account) finish(dir string, concurrencySet bool) []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if !accountName.MatchString(a.Name) {
		add("invalid account name: use letters, digits, '.', '_' and '-', not starting with '.' or '-'")
	}

	if a.Address == "" {
		add("missing address: set the Gmail address, e.g. address = \"alice@example.com\"")
	} else if err := checkAddress(a.Address); err != nil {
		add("invalid address %q: %w", a.Address, err)
	}
	for _, alias := range a.Aliases {
		if err := checkAddress(alias); err != nil {
			add("invalid address %q in aliases: %w", alias, err)
		}
	}

	if a.Maildir == "" {
		add("missing maildir: set the Maildir root, e.g. maildir = \"~/Mail/%s\"", a.Name)
	} else if p, err := expandPath(a.Maildir, dir); err != nil {
		add("maildir: %w", err)
	} else {
		a.Maildir = p
	}

	errs = append(errs, a.finishClient(dir)...)

	errs = append(errs, a.finishKeyring()...)

	errs = append(errs, a.finishSync()...)

	errs = append(errs, a.finishOutbox()...)

	switch a.Layout {
	case "":
		a.Layout = LayoutNested
	case LayoutNested, LayoutMaildirPP:
	default:
		add("invalid layout %q: use %q or %q", a.Layout, LayoutNested, LayoutMaildirPP)
	}

	urls := []struct{ key, value string }{
		{"api_url", a.APIURL}, {"auth_url", a.AuthURL}, {"token_url", a.TokenURL}, {"revoke_url", a.RevokeURL},
	}
	for _, u := range urls {
		if u.value == "" {
			continue
		}
		if err := checkURL(u.value); err != nil {
			add("invalid %s %q: %w", u.key, u.value, err)
		}
	}

	if !concurrencySet {
		a.Concurrency = DefaultConcurrency
	} else if a.Concurrency < 1 {
		add("invalid fetch_concurrency %d: it must be at least 1", a.Concurrency)
	}

	return errs
}

// finishClient checks that exactly one way of naming the OAuth client is set.
func (a *Account) finishClient(dir string) []error {
	var errs []error
	hasPair := a.ClientID != "" || a.ClientSecret != ""
	switch {
	case a.ClientSecretFile != "" && hasPair:
		errs = append(errs, errors.New("both client_secret_file and client_id/client_secret are set: keep one"))
	case a.ClientSecretFile != "":
		p, err := expandPath(a.ClientSecretFile, dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("client_secret_file: %w", err))
		}
		a.ClientSecretFile = p
	case a.ClientID == "" && a.ClientSecret == "":
		errs = append(errs, errors.New("missing OAuth client: set client_secret_file to the JSON of a Google Cloud \"Desktop app\" client, or client_id and client_secret"))
	case a.ClientID == "":
		errs = append(errs, errors.New("missing client_id: client_secret needs client_id"))
	case a.ClientSecret == "":
		errs = append(errs, errors.New("missing client_secret: client_id needs client_secret"))
	}
	return errs
}

// checkAddress accepts a bare address such as alice@example.com, without a
// display name or angle brackets.
func checkAddress(s string) error {
	parsed, err := mail.ParseAddress(s)
	if err != nil {
		return err
	}
	if parsed.Address != s {
		return errors.New("write the bare address, without a name or angle brackets")
	}
	return nil
}

// checkURL accepts absolute http and https URLs.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("expected an absolute http or https URL")
	}
	return nil
}

// checkSecretPermissions refuses a file that holds a client_secret while its
// group or others can read it. Windows has no such mode bits, so it skips
// the check there.
func checkSecretPermissions(c *Config) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	holdsSecret := false
	for _, a := range c.Accounts {
		holdsSecret = holdsSecret || a.ClientSecret != ""
	}
	if !holdsSecret {
		return nil
	}
	info, err := os.Stat(c.Path)
	if err != nil {
		return fmt.Errorf("checking permissions of configuration file %s: %w", c.Path, err)
	}
	if info.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("configuration file %s holds client_secret but its mode %04o lets others read it: run chmod 600 %s", c.Path, info.Mode().Perm(), c.Path)
	}
	return nil
}
