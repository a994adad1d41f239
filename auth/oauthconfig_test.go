package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

func clearEndpointEnv(t *testing.T) {
	for _, k := range []string{"GMSYNC_API_URL", "GMSYNC_AUTH_URL", "GMSYNC_TOKEN_URL", "GMSYNC_REVOKE_URL"} {
		t.Setenv(k, "")
	}
}

func TestOAuthConfig(t *testing.T) {
	clearEndpointEnv(t)
	secretFile := filepath.Join(t.TempDir(), "client_secret.json")
	data := `{"installed":{"client_id":"file-id","client_secret":"file-secret","auth_uri":"http://127.0.0.1:9/auth","token_uri":"http://127.0.0.1:9/token","redirect_uris":["http://localhost"]}}`
	if err := os.WriteFile(secretFile, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		acct config.Account
		p    Purpose
		want oauth2.Config
	}{
		{"client file", config.Account{Name: "a", ClientSecretFile: secretFile}, Send, oauth2.Config{
			ClientID: "file-id", ClientSecret: "file-secret", Scopes: []string{ScopeSend},
			Endpoint: oauth2.Endpoint{AuthURL: "http://127.0.0.1:9/auth", TokenURL: "http://127.0.0.1:9/token", AuthStyle: oauth2.AuthStyleInParams},
		}},
		{"client pair", config.Account{Name: "a", ClientID: "id", ClientSecret: "s"}, Sync, oauth2.Config{
			ClientID: "id", ClientSecret: "s", Scopes: []string{ScopeReadonly},
			Endpoint: oauth2.Endpoint{AuthURL: config.GoogleAuthURL, TokenURL: config.GoogleTokenURL, AuthStyle: oauth2.AuthStyleInParams},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := OAuthConfig(&tt.acct, tt.p)
			if err != nil {
				t.Fatalf("OAuthConfig(%s) = %v", tt.p, err)
			}
			if diff := cmp.Diff(tt.want, *got, cmpopts.IgnoreUnexported(oauth2.Config{}, oauth2.Endpoint{})); diff != "" {
				t.Errorf("OAuthConfig(%s) mismatch (-want +got):\n%s", tt.p, diff)
			}
		})
	}
}

func TestOAuthConfigBadClientFile(t *testing.T) {
	clearEndpointEnv(t)
	dir := t.TempDir()
	malformed := filepath.Join(dir, "malformed.json")
	if err := os.WriteFile(malformed, []byte(`{"other":{}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{malformed, filepath.Join(dir, "missing.json")} {
		_, err := OAuthConfig(&config.Account{Name: "a", ClientSecretFile: path}, Send)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "Desktop app") {
			t.Errorf("OAuthConfig() with client file %s = %v, want an error naming it and the Desktop app download", path, err)
		}
		if code := sysexits.Code(err); code != sysexits.Config {
			t.Errorf("OAuthConfig() with client file %s exit code = %d, want %d", path, code, sysexits.Config)
		}
	}
}

func TestParsePurpose(t *testing.T) {
	for _, s := range []string{"send", "sync"} {
		if p, err := ParsePurpose(s); err != nil || string(p) != s {
			t.Errorf("ParsePurpose(%q) = %q, %v, want %q", s, p, err, s)
		}
	}
	if _, err := ParsePurpose("read"); err == nil {
		t.Errorf("ParsePurpose(read) = nil error, want invalid purpose")
	}
	for _, p := range Purposes {
		for _, s := range p.Scopes() {
			if strings.Contains(s, "metadata") {
				t.Errorf("%s.Scopes() contains %s, which breaks format=raw", p, s)
			}
		}
	}
}
