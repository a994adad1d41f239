package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gmsync/gmsync/internal/sysexits"
)

func TestTokenSourceCacheHit(t *testing.T) {
	p := newFakeProvider(t)
	s := mockStore(t)
	expiry := time.Now().Add(30 * time.Minute).Round(time.Second)
	if err := s.Save("a", Send, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken, AccessToken: "cached", Expiry: expiry}); err != nil {
		t.Fatal(err)
	}

	tok, err := TokenSource(context.Background(), s, "a", Send, p.config(ScopeSend)).Token()
	if err != nil {
		t.Fatalf("Token() = %v", err)
	}
	if tok.AccessToken != "cached" || !tok.Expiry.Equal(expiry) {
		t.Errorf("Token() = %q expiring %v, want the cached token expiring %v", tok.AccessToken, tok.Expiry, expiry)
	}
	if p.refreshes != 0 {
		t.Errorf("Token() with a valid cached token made %d refreshes, want 0", p.refreshes)
	}
}

func TestTokenSourceRefreshWritesBack(t *testing.T) {
	tests := []struct {
		name   string
		access string
		expiry time.Time
	}{
		{"expired", "old", time.Now().Add(-time.Hour)},
		{"expiring within a minute", "old", time.Now().Add(30 * time.Second)},
		{"never cached", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProvider(t)
			s := mockStore(t)
			obtained := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := s.Save("a", Sync, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken, Obtained: obtained, AccessToken: tt.access, Expiry: tt.expiry}); err != nil {
				t.Fatal(err)
			}

			src := TokenSource(context.Background(), s, "a", Sync, p.config(ScopeReadonly))
			tok, err := src.Token()
			if err != nil {
				t.Fatalf("Token() = %v", err)
			}
			if tok.AccessToken == "old" || tok.AccessToken == "" || p.refreshes != 1 {
				t.Errorf("Token() = %q after %d refreshes, want a new token after 1", tok.AccessToken, p.refreshes)
			}

			g, err := s.Load("a", Sync)
			if err != nil {
				t.Fatal(err)
			}
			if g.AccessToken != tok.AccessToken || !g.Expiry.Equal(tok.Expiry) {
				t.Errorf("stored grant = %q expiring %v, want %q expiring %v", g.AccessToken, g.Expiry, tok.AccessToken, tok.Expiry)
			}
			if g.RefreshToken != p.refreshToken || !g.Obtained.Equal(obtained) {
				t.Errorf("stored grant refresh token %q obtained %v, want %q obtained %v kept", g.RefreshToken, g.Obtained, p.refreshToken, obtained)
			}

			if _, err := src.Token(); err != nil || p.refreshes != 1 {
				t.Errorf("second Token() = %v after %d refreshes, want the in-memory token and 1 refresh", err, p.refreshes)
			}
		})
	}
}

func TestTokenSourceInvalidGrant(t *testing.T) {
	p := newFakeProvider(t)
	p.invalidGrant = true
	s := mockStore(t)
	if err := s.Save("work", Send, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err := TokenSource(context.Background(), s, "work", Send, p.config(ScopeSend)).Token()
	if err == nil {
		t.Fatal("Token() with a revoked grant = nil error")
	}
	for _, want := range []string{"gmsync auth login --account work --for send", "revoked", "six months", "password change", "Testing"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Token() = %q, want it to contain %q", err, want)
		}
	}
	if code := sysexits.Code(err); code != sysexits.NoPerm {
		t.Errorf("Token() with a revoked grant exit code = %d, want %d", code, sysexits.NoPerm)
	}
}

func TestTokenSourceMissingGrant(t *testing.T) {
	p := newFakeProvider(t)
	s := mockStore(t)
	_, err := TokenSource(context.Background(), s, "work", Sync, p.config(ScopeReadonly)).Token()
	if err == nil || !strings.Contains(err.Error(), "gmsync auth login --account work --for sync") {
		t.Errorf("Token() without a grant = %v, want the login command", err)
	}
	if code := sysexits.Code(err); code != sysexits.NoPerm {
		t.Errorf("Token() without a grant exit code = %d, want %d", code, sysexits.NoPerm)
	}
}

func TestTokenSourceOtherClient(t *testing.T) {
	p := newFakeProvider(t)
	s := mockStore(t)
	if err := s.Save("a", Send, &Grant{ClientID: "other-client", RefreshToken: p.refreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err := TokenSource(context.Background(), s, "a", Send, p.config(ScopeSend)).Token()
	if err == nil || !strings.Contains(err.Error(), "other-client") {
		t.Errorf("Token() for a grant of another client = %v, want an error naming it", err)
	}
}

func TestTokenSourceNetworkFailure(t *testing.T) {
	p := newFakeProvider(t)
	s := mockStore(t)
	if err := s.Save("a", Send, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken}); err != nil {
		t.Fatal(err)
	}
	cfg := p.config(ScopeSend)
	p.srv.Close()
	_, err := TokenSource(context.Background(), s, "a", Send, cfg).Token()
	if code := sysexits.Code(err); code != sysexits.TempFail {
		t.Errorf("Token() with the token endpoint down = %v (exit %d), want exit %d", err, code, sysexits.TempFail)
	}
	if errors.Is(err, ErrNotFound) {
		t.Errorf("Token() with the token endpoint down = %v, want no ErrNotFound", err)
	}
}
