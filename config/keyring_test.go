package config

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const keyringAccount = `[accounts.a]
address = "a@example.com"
maildir = "/m"
client_secret_file = "/c.json"
`

func TestLoadCommandKeyring(t *testing.T) {
	path := writeConfig(t, keyringAccount+`push = true
keyring = "command"
keyring_get = ["pass", "show", "gmsync/{account}/{purpose}"]
keyring_set = ["pass", "insert", "-m", "-f", "gmsync/{account}/{purpose}"]
keyring_delete = ["/usr/bin/pass", "rm", "-f", "gmsync/{account}/{purpose}"]
`)
	cfg, err := Load(path)
	if err != nil {
		t.Fatalf("Load(%s) = %v, want no error", path, err)
	}
	a := cfg.Accounts["a"]
	if a.Keyring != KeyringCommand || !a.Push {
		t.Errorf("Load(%s) keyring = %q push = %t, want %q and true", path, a.Keyring, a.Push, KeyringCommand)
	}
	want := []string{"pass", "insert", "-m", "-f", "gmsync/{account}/{purpose}"}
	if diff := cmp.Diff(want, a.KeyringSet); diff != "" {
		t.Errorf("Load(%s) keyring_set mismatch (-want +got):\n%s", path, diff)
	}
}

func TestLoadKeyringErrors(t *testing.T) {
	const get = `keyring_get = ["pass", "show", "gmsync/{account}/{purpose}"]` + "\n"
	const set = `keyring_set = ["pass", "insert", "-m", "gmsync/{account}/{purpose}"]` + "\n"
	const del = `keyring_delete = ["pass", "rm", "-f", "gmsync/{account}/{purpose}"]` + "\n"
	tests := []struct {
		name string
		text string
		want string
	}{
		{"unknown backend", `keyring = "file"` + "\n", `invalid keyring "file"`},
		{"command without argv", `keyring = "command"` + "\n", "invalid keyring_get: missing"},
		{"command without delete", "keyring = \"command\"\n" + get + set, "invalid keyring_delete: missing"},
		{"argv on system backend", get, `keyring_get is set but keyring is "system"`},
		{"no purpose placeholder", "keyring = \"command\"\n" + `keyring_get = ["pass", "show", "gmsync/{account}"]` + "\n" + set + del, "no argument contains {purpose}"},
		{"placeholder as program", "keyring = \"command\"\n" + `keyring_get = ["{account}", "{purpose}"]` + "\n" + set + del, "must name the program"},
		{"relative program", "keyring = \"command\"\n" + `keyring_get = ["bin/pass", "show", "{account}/{purpose}"]` + "\n" + set + del, "relative path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, keyringAccount+tt.text)
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load(%q) = %v, want an error containing %q", tt.text, err, tt.want)
			}
		})
	}
}
