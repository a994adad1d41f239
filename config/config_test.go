package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeConfig writes text to config.toml in a fresh directory, mode 0600.
func writeConfig(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadMinimal(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	path := writeConfig(t, `
[accounts.personal]
address = "alice@example.com"
maildir = "~/Mail/personal"
client_secret_file = "client_secret.json"
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s) = %v, want no error", path, err)
	}
	got := cfg.Accounts["personal"]
	want := &Account{
		Name:             "personal",
		Address:          "alice@example.com",
		Maildir:          filepath.Join(home, "Mail", "personal"),
		ClientSecretFile: filepath.Join(filepath.Dir(path), "client_secret.json"),
		Keyring:          KeyringSystem,
		Layout:           LayoutNested,
		Concurrency:      DefaultConcurrency,

		MaxDeletePercent:   DefaultMaxDeletePercent,
		QuotaRegime:        "2024",
		LabelCheckInterval: Duration{DefaultLabelCheckInterval},
		OutboxMaxAge:       Duration{DefaultOutboxMaxAge},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Load(%s) account mismatch (-want +got):\n%s", path, diff)
	}
}

func TestLoadAllKeys(t *testing.T) {
	t.Setenv("MAILROOT", "/srv/mail")
	path := writeConfig(t, `
[accounts.work]
address = "bob@example.com"
maildir = "$MAILROOT/work"
client_id = "id.apps.googleusercontent.com"
client_secret = "secret"
aliases = ["b@example.com"]
default = true
keyring = "system"
layout = "maildir++"
api_url = "http://127.0.0.1:1/"
auth_url = "http://127.0.0.1:1/auth"
token_url = "http://127.0.0.1:1/token"
revoke_url = "http://127.0.0.1:1/revoke"
folder_names = { INBOX = "Inbox" }
ignore_labels = ["Notes"]
fetch_concurrency = 3
keep_deleted = "Deleted"
max_delete_percent = 40
quota_regime = "2026"
quota_units_per_minute = 5000
label_check_interval = "15m"
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s) = %v, want no error", path, err)
	}
	want := &Account{
		Name: "work", Address: "bob@example.com", Maildir: "/srv/mail/work",
		ClientID: "id.apps.googleusercontent.com", ClientSecret: "secret",
		Aliases: []string{"b@example.com"}, Default: true, Keyring: "system", Layout: "maildir++",
		APIURL: "http://127.0.0.1:1/", AuthURL: "http://127.0.0.1:1/auth",
		TokenURL: "http://127.0.0.1:1/token", RevokeURL: "http://127.0.0.1:1/revoke",
		FolderNames: map[string]string{"INBOX": "Inbox"}, IgnoreLabels: []string{"Notes"}, Concurrency: 3,
		KeepDeleted: "Deleted", MaxDeletePercent: 40, QuotaRegime: "2026", QuotaUnitsPerMinute: 5000,
		LabelCheckInterval: Duration{15 * time.Minute},
		OutboxMaxAge:       Duration{DefaultOutboxMaxAge},
	}
	if diff := cmp.Diff(want, cfg.Accounts["work"]); diff != "" {
		t.Errorf("Load(%s) account mismatch (-want +got):\n%s", path, diff)
	}
}

func TestLoadErrors(t *testing.T) {
	const valid = `address = "a@example.com"
maildir = "/m"
client_secret_file = "/c.json"
`
	tests := []struct {
		name string
		text string
		want []string // substrings of the error
	}{
		{"unknown key", "[accounts.a]\n" + valid + "colour = 1\n", []string{"unknown key accounts.a.colour", "config.toml"}},
		{"unknown table", "[mail]\nx = 1\n[accounts.a]\n" + valid, []string{"unknown key mail.x"}},
		{"no accounts", "", []string{"defines no account", "[accounts.personal]"}},
		{"syntax", "[accounts.a\n", []string{"parsing configuration file"}},
		{"missing address", "[accounts.a]\nmaildir = \"/m\"\nclient_secret_file = \"/c\"\n", []string{`account "a"`, "missing address"}},
		{"bad address", "[accounts.a]\naddress = \"Alice <a@example.com>\"\nmaildir = \"/m\"\nclient_secret_file = \"/c\"\n", []string{"invalid address", "bare address"}},
		{"bad alias", "[accounts.a]\n" + valid + "aliases = [\"nope\"]\n", []string{`invalid address "nope" in aliases`}},
		{"missing maildir", "[accounts.a]\naddress = \"a@example.com\"\nclient_secret_file = \"/c\"\n", []string{`account "a"`, "missing maildir"}},
		{"unset variable", "[accounts.a]\naddress = \"a@example.com\"\nmaildir = \"$GMSYNC_TEST_UNSET/m\"\nclient_secret_file = \"/c\"\n", []string{"maildir", "$GMSYNC_TEST_UNSET, which is not set"}},
		{"no client", "[accounts.a]\naddress = \"a@example.com\"\nmaildir = \"/m\"\n", []string{`account "a"`, "missing OAuth client", "Desktop app"}},
		{"id without secret", "[accounts.a]\naddress = \"a@example.com\"\nmaildir = \"/m\"\nclient_id = \"x\"\n", []string{"missing client_secret"}},
		{"both clients", "[accounts.a]\n" + valid + "client_id = \"x\"\n", []string{"both client_secret_file and client_id"}},
		{"bad layout", "[accounts.a]\n" + valid + "layout = \"flat\"\n", []string{`account "a"`, `invalid layout "flat"`}},
		{"bad keyring", "[accounts.a]\n" + valid + "keyring = \"file\"\n", []string{`invalid keyring "file"`}},
		{"bad url", "[accounts.a]\n" + valid + "token_url = \"/token\"\n", []string{"invalid token_url"}},
		{"zero concurrency", "[accounts.a]\n" + valid + "fetch_concurrency = 0\n", []string{"invalid fetch_concurrency 0"}},
		{"bad name", "[accounts.\"a:b\"]\n" + valid, []string{"invalid account name"}},
		{"two defaults", "[accounts.a]\n" + valid + "default = true\n[accounts.b]\n" + valid + "default = true\n", []string{"accounts a and b", "default = true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.text)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load(%q) = nil error, want one containing %q", tt.text, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Load(%q) = %q, want it to contain %q", tt.text, err, w)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "[accounts.personal]") {
		t.Errorf("Load(%s) = %v, want an error naming the path with an example table", path, err)
	}
}

func TestLoadSecretPermissions(t *testing.T) {
	path := writeConfig(t, "[accounts.a]\naddress = \"a@example.com\"\nmaildir = \"/m\"\nclient_id = \"x\"\nclient_secret = \"s\"\n")
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
		t.Errorf("Load(%s) with mode 0644 = %v, want an error suggesting chmod 600", path, err)
	}

	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Errorf("Load(%s) with mode 0600 = %v, want no error", path, err)
	}
}

func TestAccount(t *testing.T) {
	one := &Config{Path: "c.toml", Accounts: map[string]*Account{"a": {Name: "a"}}}
	two := &Config{Path: "c.toml", Accounts: map[string]*Account{"a": {Name: "a"}, "b": {Name: "b"}}}
	withDefault := &Config{Path: "c.toml", Accounts: map[string]*Account{"a": {Name: "a"}, "b": {Name: "b", Default: true}}}
	tests := []struct {
		name    string
		cfg     *Config
		arg     string
		want    string
		wantErr string
	}{
		{"only account", one, "", "a", ""},
		{"named", two, "b", "b", ""},
		{"default", withDefault, "", "b", ""},
		{"named over default", withDefault, "a", "a", ""},
		{"ambiguous", two, "", "", "pass --account with one of a, b"},
		{"unknown", two, "c", "", `no account "c" in c.toml: choose one of a, b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.cfg.Account(tt.arg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("Account(%q) = %v, want error containing %q", tt.arg, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.Name != tt.want {
				t.Errorf("Account(%q) = %v, %v, want %s", tt.arg, got, err, tt.want)
			}
		})
	}
}

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name, gmsyncConfig, xdg, home, want string
	}{
		{"explicit", "/etc/g.toml", "/x", "/h", "/etc/g.toml"},
		{"xdg", "", "/x", "/h", "/x/gmsync/config.toml"},
		{"relative xdg ignored", "", "x", "/h", "/h/.config/gmsync/config.toml"},
		{"home", "", "", "/h", "/h/.config/gmsync/config.toml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("GMSYNC_CONFIG", tt.gmsyncConfig)
			t.Setenv("XDG_CONFIG_HOME", tt.xdg)
			t.Setenv("HOME", tt.home)
			if got := DefaultPath(); got != tt.want {
				t.Errorf("DefaultPath() = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestStateDir(t *testing.T) {
	state := t.TempDir()
	t.Setenv("XDG_STATE_HOME", state)
	dir, err := StateDir("personal")
	if err != nil {
		t.Fatalf("StateDir(personal) = %v", err)
	}
	if want := filepath.Join(state, "gmsync", "personal"); dir != want {
		t.Errorf("StateDir(personal) = %s, want %s", dir, want)
	}
	info, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o700 {
		t.Errorf("StateDir(personal) mode = %04o, want 0700", perm)
	}
	if _, err := StateDir("../x"); err == nil {
		t.Errorf("StateDir(../x) = nil error, want invalid account name")
	}
}

func TestEndpoints(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "client_secret.json")
	data := `{"installed":{"client_id":"i","client_secret":"s","auth_uri":"http://127.0.0.1:9/a","token_uri":"http://127.0.0.1:9/t","redirect_uris":["http://localhost"]}}`
	if err := os.WriteFile(secret, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	google := Endpoints{API: GoogleAPIURL, Auth: GoogleAuthURL, Token: GoogleTokenURL, Revoke: GoogleRevokeURL}
	tests := []struct {
		name string
		acct Account
		env  map[string]string
		want Endpoints
	}{
		{"google", Account{ClientID: "i"}, nil, google},
		{"client file", Account{ClientSecretFile: secret}, nil,
			Endpoints{API: GoogleAPIURL, Auth: "http://127.0.0.1:9/a", Token: "http://127.0.0.1:9/t", Revoke: GoogleRevokeURL}},
		{"config over file", Account{ClientSecretFile: secret, AuthURL: "http://c/a", TokenURL: "http://c/t", APIURL: "http://c/", RevokeURL: "http://c/r"}, nil,
			Endpoints{API: "http://c/", Auth: "http://c/a", Token: "http://c/t", Revoke: "http://c/r"}},
		{"environment over config", Account{ClientSecretFile: secret, AuthURL: "http://c/a"},
			map[string]string{"GMSYNC_API_URL": "http://e/", "GMSYNC_AUTH_URL": "http://e/a", "GMSYNC_TOKEN_URL": "http://e/t", "GMSYNC_REVOKE_URL": "http://e/r"},
			Endpoints{API: "http://e/", Auth: "http://e/a", Token: "http://e/t", Revoke: "http://e/r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"GMSYNC_API_URL", "GMSYNC_AUTH_URL", "GMSYNC_TOKEN_URL", "GMSYNC_REVOKE_URL"} {
				t.Setenv(k, tt.env[k])
			}
			got, err := tt.acct.Endpoints()
			if err != nil {
				t.Fatalf("Endpoints() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Endpoints() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	bad := Account{ClientSecretFile: filepath.Join(t.TempDir(), "missing.json")}
	if _, err := bad.Endpoints(); err == nil || !strings.Contains(err.Error(), bad.ClientSecretFile) {
		t.Errorf("Endpoints() with a missing client file = %v, want an error naming it", err)
	}
}
