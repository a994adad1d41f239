package auth

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/e2e/emulator"
)

// TestEmulatorLoginAndRefresh runs the flow against the project's Gmail
// emulator, reading its endpoints from the client secret file it writes, as
// gmsync reads Google's.
func TestEmulatorLoginAndRefresh(t *testing.T) {
	clearEndpointEnv(t)
	emu := emulator.New(emulator.Options{})
	base, err := emu.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	secret := filepath.Join(t.TempDir(), "client_secret.json")
	if err := emu.WriteClientSecret(secret); err != nil {
		t.Fatal(err)
	}

	acct := &config.Account{Name: "personal", ClientSecretFile: secret}
	cfg, err := OAuthConfig(acct, Sync)
	if err != nil {
		t.Fatalf("OAuthConfig() = %v", err)
	}
	if cfg.Endpoint.TokenURL != base+"token" {
		t.Errorf("OAuthConfig() token URL = %s, want %stoken from the client file", cfg.Endpoint.TokenURL, base)
	}

	follow := func(u string) error {
		go func() {
			resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
			if err != nil {
				t.Errorf("GET %s: %v", u, err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
	tok, err := Login(context.Background(), cfg, LoginOptions{OpenBrowser: follow, LoginHint: emulator.DefaultUser, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Login() against the emulator = %v", err)
	}

	s := mockStore(t)
	g := NewGrant(cfg, tok)
	g.AccessToken = "" // force a refresh
	if err := s.Save(acct.Name, Sync, g); err != nil {
		t.Fatal(err)
	}
	refreshed, err := TokenSource(context.Background(), s, acct.Name, Sync, cfg).Token()
	if err != nil {
		t.Fatalf("Token() against the emulator = %v", err)
	}
	if refreshed.AccessToken == "" || refreshed.AccessToken == tok.AccessToken {
		t.Errorf("Token() = %q, want a fresh access token", refreshed.AccessToken)
	}
	if stored, err := s.Load(acct.Name, Sync); err != nil || stored.RefreshToken != tok.RefreshToken {
		t.Errorf("Load() after refresh = %v, want the refresh token kept", err)
	}
}
