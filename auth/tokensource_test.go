package auth

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
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
			p.refreshScope = ScopeReadonly
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

// TestTokenSourceConcurrentRefresh runs several token sources, as separate
// processes would, over one grant whose access token has expired. The file
// lock lets one refresh and the others reuse its token.
func TestTokenSourceConcurrentRefresh(t *testing.T) {
	p := newFakeProvider(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	s := &memStore{grants: map[string][]byte{}}
	if err := s.Save("a", Send, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken, AccessToken: "old", Expiry: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}

	const n = 6
	tokens := make(chan string, n)
	errs := make(chan error, n)
	for range n {
		go func() {
			tok, err := TokenSource(context.Background(), s, "a", Send, p.config(ScopeSend)).Token()
			if err != nil {
				errs <- err
				return
			}
			tokens <- tok.AccessToken
		}()
	}
	seen := map[string]bool{}
	for range n {
		select {
		case tok := <-tokens:
			seen[tok] = true
		case err := <-errs:
			t.Errorf("Token() = %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("Token() calls did not finish within 30s")
		}
	}
	p.mu.Lock()
	refreshes := p.refreshes
	p.mu.Unlock()
	if refreshes != 1 || len(seen) != 1 {
		t.Errorf("%d concurrent Token() calls made %d refreshes and returned %d tokens, want 1 and 1", n, refreshes, len(seen))
	}
	g, err := s.Load("a", Send)
	if err != nil || !seen[g.AccessToken] || g.RefreshToken != p.refreshToken {
		t.Errorf("stored grant after concurrent refreshes = %v, %v; want the one new access token and the refresh token", g, err)
	}
}

func TestTokenSourceRecordedClient(t *testing.T) {
	p := newFakeProvider(t)
	s := mockStore(t)
	if err := s.Save("a", Send, &Grant{ClientID: testClientID, ClientSecret: testClientSecret, RefreshToken: p.refreshToken}); err != nil {
		t.Fatal(err)
	}
	cfg := p.config(ScopeSend)
	cfg.ClientID, cfg.ClientSecret = "new-client.apps.googleusercontent.com", "new-secret"

	before := time.Now().Add(-time.Second)
	if _, err := TokenSource(context.Background(), s, "a", Send, cfg).Token(); err != nil {
		t.Fatalf("Token() for a grant of another client with its secret recorded = %v, want a refresh with the recorded client", err)
	}
	g, err := s.Load("a", Send)
	if err != nil {
		t.Fatal(err)
	}
	if g.ClientID != testClientID || g.LastUsed.Before(before) {
		t.Errorf("stored grant client %q last used %v, want %q and a last use after %v", g.ClientID, g.LastUsed, testClientID, before)
	}
}

func TestTokenSourceBroaderRefusal(t *testing.T) {
	p := newFakeProvider(t)
	p.refreshScope = ScopeSend + " " + ScopeReadonly
	s := mockStore(t)
	if err := s.Save("a", Send, &Grant{ClientID: testClientID, RefreshToken: p.refreshToken}); err != nil {
		t.Fatal(err)
	}
	_, err := TokenSource(context.Background(), s, "a", Send, p.config(ScopeSend)).Token()
	var scopeErr *ScopeError
	if !errors.As(err, &scopeErr) || sysexits.Code(err) != sysexits.NoPerm || !strings.Contains(err.Error(), PermissionsURL) {
		t.Errorf("Token() with a refresh that widened to gmail.readonly = %v, want a ScopeError with exit 77 naming %s", err, PermissionsURL)
	}
}

// memStore is a Store in memory that is safe for concurrent use, unlike
// go-keyring's mock. It keeps grants as JSON, so each Load returns a copy.
type memStore struct {
	mu     sync.Mutex
	grants map[string][]byte
}

func (m *memStore) Load(account string, p Purpose) (*Grant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.grants[account+":"+string(p)]
	if !ok {
		return nil, ErrNotFound
	}
	var g Grant
	err := json.Unmarshal(data, &g)
	return &g, err
}

func (m *memStore) Save(account string, p Purpose, g *Grant) error {
	data, err := json.Marshal(g)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grants[account+":"+string(p)] = data
	return err
}

func (m *memStore) Delete(account string, p Purpose) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.grants, account+":"+string(p))
	return nil
}
