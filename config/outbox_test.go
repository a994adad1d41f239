package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func loadOutboxConfig(t *testing.T, extra string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	content := "[accounts.personal]\naddress = \"alice@example.com\"\nmaildir = \"Mail\"\nclient_id = \"id\"\nclient_secret = \"secret\"\n" + extra
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return Load(path)
}

func TestOutboxMaxAge(t *testing.T) {
	cfg, err := loadOutboxConfig(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts["personal"].OutboxMaxAge.Duration; got != DefaultOutboxMaxAge {
		t.Errorf("OutboxMaxAge without the key = %v, want %v", got, DefaultOutboxMaxAge)
	}

	cfg, err = loadOutboxConfig(t, "outbox_max_age = \"48h\"\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Accounts["personal"].OutboxMaxAge.Duration; got != 48*time.Hour {
		t.Errorf("OutboxMaxAge(\"48h\") = %v, want 48h", got)
	}

	for _, bad := range []string{"\"5m\"", "\"-2h\"", "\"two days\""} {
		_, err := loadOutboxConfig(t, "outbox_max_age = "+bad+"\n")
		if err == nil || !strings.Contains(err.Error(), "outbox_max_age") && !strings.Contains(err.Error(), "duration") {
			t.Errorf("Load with outbox_max_age = %s: error %v, want one naming the key", bad, err)
		}
	}
}
