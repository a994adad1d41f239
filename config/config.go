// Package config reads gmsync's TOML configuration: one [accounts.NAME] table
// per Gmail account, with the Maildir, the OAuth client and the endpoints that
// account uses.
//
// Load returns a validated snapshot. Nothing in the package writes the file
// or changes a Config afterwards, so callers may share one between goroutines.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Layouts of the local Maildir mirror.
const (
	LayoutNested    = "nested"    // one directory per label, nested at each "/"
	LayoutMaildirPP = "maildir++" // Maildir++ folders: ".Label.Sublabel" under the root
)

// Keyring backends, the values of an account's keyring key.
const (
	// KeyringSystem is the operating system's keyring (Secret Service,
	// Keychain or Credential Manager) through go-keyring.
	KeyringSystem = "system"
	// KeyringCommand runs the account's keyring_get, keyring_set and
	// keyring_delete commands, for pass, gopass, KeePassXC or secret-tool.
	KeyringCommand = "command"
)

// DefaultConcurrency is the number of messages fetched at once when an
// account does not set fetch_concurrency.
const DefaultConcurrency = 8

// Config is the parsed configuration file.
type Config struct {
	Path     string              // the file it was read from
	Accounts map[string]*Account // by table name
}

// Account is one [accounts.NAME] table, with defaults filled in and paths
// expanded. Relative paths are resolved against the configuration file's
// directory.
type Account struct {
	Name string `toml:"-"` // the table name, also the keyring and state directory key

	Address string `toml:"address"`
	// Maildir is the root of the local mirror, with ~ and $VARS expanded.
	Maildir string `toml:"maildir"`
	// ClientSecretFile is the JSON a Google Cloud "Desktop app" OAuth client
	// downloads. An account sets it or ClientID and ClientSecret, not both.
	ClientSecretFile string `toml:"client_secret_file"`
	ClientID         string `toml:"client_id"`
	ClientSecret     string `toml:"client_secret"`

	Aliases []string `toml:"aliases"` // Gmail send-as addresses
	Default bool     `toml:"default"` // the account used when nothing else picks one
	Keyring string   `toml:"keyring"` // KeyringSystem when unset
	Layout  string   `toml:"layout"`  // LayoutNested when unset

	// Endpoint overrides for the emulator and tests, resolved by Endpoints.
	APIURL    string `toml:"api_url"`
	AuthURL   string `toml:"auth_url"`
	TokenURL  string `toml:"token_url"`
	RevokeURL string `toml:"revoke_url"`

	FolderNames  map[string]string `toml:"folder_names"`      // Gmail label or system label ID to folder name
	IgnoreLabels []string          `toml:"ignore_labels"`     // labels that get no folder
	Concurrency  int               `toml:"fetch_concurrency"` // messages fetched at once, DefaultConcurrency when unset

	// Grants and keyring, checked by finishKeyring.

	// Push turns on pushing local changes back to Gmail, so the sync grant
	// requests gmail.modify instead of gmail.readonly.
	Push bool `toml:"push"`
	// KeyringGet, KeyringSet and KeyringDelete are the argv of the command
	// backend's programs, with {account} and {purpose} replaced. The secret
	// travels on standard output of get and standard input of set.
	KeyringGet    []string `toml:"keyring_get"`
	KeyringSet    []string `toml:"keyring_set"`
	KeyringDelete []string `toml:"keyring_delete"`

	// Sync behaviour, checked by finishSync.

	// KeepDeleted names a folder that keeps a copy of each message deleted
	// in Gmail; empty mirrors deletions.
	KeepDeleted string `toml:"keep_deleted"`
	// MaxDeletePercent stops a sync that would delete a larger share of the
	// mirror until it is run with --force; DefaultMaxDeletePercent when unset.
	MaxDeletePercent int `toml:"max_delete_percent"`
	// QuotaRegime is "2024" (15,000 units per minute, 5 per get) or "2026"
	// (6,000 units per minute, 20 per get, Cloud projects from May 2026).
	QuotaRegime string `toml:"quota_regime"`
	// QuotaUnitsPerMinute overrides the regime's per-user ceiling.
	QuotaUnitsPerMinute int `toml:"quota_units_per_minute"`
	// LabelCheckInterval is how often a sync without changes reads the label
	// list anyway, to notice renames; DefaultLabelCheckInterval when unset.
	LabelCheckInterval Duration `toml:"label_check_interval"`

	// ReencodeLongLines, when set to false, makes send keep plain-text lines
	// over 76 characters as they are; unset means true.
	ReencodeLongLines *bool `toml:"reencode_long_lines"`

	// Outbox behaviour, checked by finishOutbox.

	// OutboxMaxAge is how long a message may wait in the outbox before it
	// moves to failed/ unsent; DefaultOutboxMaxAge when unset.
	OutboxMaxAge Duration `toml:"outbox_max_age"`
}

// file is the shape of the whole TOML document.
type file struct {
	Accounts map[string]*Account `toml:"accounts"`
}

const exampleTable = `[accounts.personal]
address = "alice@example.com"
maildir = "~/Mail/personal"
client_secret_file = "~/.config/gmsync/client_secret.json"`

// Load reads and validates the configuration file at path. Unknown keys stop
// it at once. Otherwise all validation errors are joined, each naming the
// file, the account and the key.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("configuration file %s not found: create it with one table per account, for example:\n\n%s", path, exampleTable)
	}
	if err != nil {
		return nil, fmt.Errorf("reading configuration file %s: %w", path, err)
	}

	var f file
	meta, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("parsing configuration file %s: %w", path, err)
	}
	if keys := unknownKeys(meta); len(keys) > 0 {
		return nil, fmt.Errorf("unknown key %s in configuration file %s", strings.Join(keys, ", "), path)
	}
	if len(f.Accounts) == 0 {
		return nil, fmt.Errorf("configuration file %s defines no account: add a table such as\n\n%s", path, exampleTable)
	}

	cfg := &Config{Path: path, Accounts: f.Accounts}
	if err := cfg.finish(meta); err != nil {
		return nil, err
	}
	if err := checkSecretPermissions(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Account returns the account called name. An empty name picks the account
// with default = true, or else the only account.
func (c *Config) Account(name string) (*Account, error) {
	if name != "" {
		if a, ok := c.Accounts[name]; ok {
			return a, nil
		}
		return nil, fmt.Errorf("no account %q in %s: choose one of %s", name, c.Path, strings.Join(c.names(), ", "))
	}

	for _, a := range c.Accounts {
		if a.Default {
			return a, nil
		}
	}
	if len(c.Accounts) == 1 {
		for _, a := range c.Accounts {
			return a, nil
		}
	}
	return nil, fmt.Errorf("%s defines several accounts and none has default = true: pass --account with one of %s, or set default = true in one", c.Path, strings.Join(c.names(), ", "))
}

// names returns the account names in sorted order.
func (c *Config) names() []string {
	names := make([]string, 0, len(c.Accounts))
	for n := range c.Accounts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// SortedAccounts returns the accounts ordered by name.
func (c *Config) SortedAccounts() []*Account {
	names := c.names()
	accounts := make([]*Account, len(names))
	for i, n := range names {
		accounts[i] = c.Accounts[n]
	}
	return accounts
}

// unknownKeys returns the dotted names of the keys that no field took. An
// unknown table is reported through its keys, not as a key of its own.
func unknownKeys(meta toml.MetaData) []string {
	undecoded := meta.Undecoded()
	all := make([]string, len(undecoded))
	for i, k := range undecoded {
		all[i] = k.String()
	}
	var keys []string
	for _, k := range all {
		hasChild := false
		for _, other := range all {
			hasChild = hasChild || strings.HasPrefix(other, k+".")
		}
		if !hasChild {
			keys = append(keys, k)
		}
	}
	return keys
}
