package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// refreshMargin is how long before its expiry a cached access token is
// replaced, so that a request started with it does not meet a 401.
const refreshMargin = time.Minute

// TokenSource returns access tokens for account and purpose p. It returns
// the access token cached in the store while it has more than a minute
// left. Otherwise it refreshes it with the stored refresh token, under a
// file lock shared with other processes, and writes the new access token,
// its expiry and the time of the refresh back. It keeps the refresh token
// when the response carries none. It also caches the token in memory, so the store is
// read once per access token. Errors carry exit code 77 for a missing or
// refused grant, with the login command to run, and 75 for a network failure.
//
// The returned source is safe for concurrent use.
func TokenSource(ctx context.Context, store Store, account string, p Purpose, cfg *oauth2.Config) *Source {
	return &Source{src: &storeTokenSource{ctx: ctx, store: store, account: account, purpose: p, cfg: cfg}}
}

// Source is the token source TokenSource returns. Besides Token, it has
// Invalidate, for an access token that Gmail rejected before its expiry
// (revoked, or issued before a password change).
type Source struct {
	mu     sync.Mutex
	cached *oauth2.Token
	src    *storeTokenSource
}

var _ oauth2.TokenSource = (*Source)(nil)

// Token returns a valid access token, from memory, the keyring or a refresh.
func (s *Source) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil && time.Until(s.cached.Expiry) > refreshMargin {
		return s.cached, nil
	}
	tok, err := s.src.Token()
	if err != nil {
		return nil, err
	}
	s.cached = tok
	return tok, nil
}

// Invalidate drops the current access token, so the next Token refreshes
// it with the refresh token instead of reusing the cached one. A refresh
// of a revoked grant then fails with invalid_grant and its explanation.
func (s *Source) Invalidate() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cached != nil {
		s.src.rejected = s.cached.AccessToken
	}
	s.cached = nil
}

type storeTokenSource struct {
	ctx     context.Context
	store   Store
	account string
	purpose Purpose
	cfg     *oauth2.Config

	// rejected is an access token Gmail refused; the keyring's cached copy
	// of it is not used again.
	rejected string
}

func (s *storeTokenSource) Token() (*oauth2.Token, error) {
	g, err := s.load()
	if err != nil {
		return nil, err
	}
	if tok := s.cachedToken(g); tok != nil {
		return tok, nil
	}

	unlock, err := lockGrant(s.ctx, s.account, s.purpose)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Another process may have refreshed while this one waited for the lock.
	if g, err = s.load(); err != nil {
		return nil, err
	}
	if tok := s.cachedToken(g); tok != nil {
		return tok, nil
	}
	return s.refresh(g)
}

func (s *storeTokenSource) load() (*Grant, error) {
	g, err := s.store.Load(s.account, s.purpose)
	if errors.Is(err, ErrNotFound) {
		return nil, sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("no %s grant for account %s in the keyring: run %s", s.purpose, s.account, loginCommand(s.account, s.purpose)))
	}
	return g, err
}

// cachedToken returns the grant's access token while it has more than
// refreshMargin left and Gmail has not rejected it, else nil.
func (s *storeTokenSource) cachedToken(g *Grant) *oauth2.Token {
	if g.AccessToken == "" || g.AccessToken == s.rejected || time.Until(g.Expiry) <= refreshMargin {
		return nil
	}
	return &oauth2.Token{AccessToken: g.AccessToken, TokenType: "Bearer", RefreshToken: g.RefreshToken, Expiry: g.Expiry}
}

// clientFor returns the OAuth client to refresh g with: the one recorded in
// the grant, at the configured token endpoint. A grant stored without its
// client secret can only be refreshed by the configured client.
func (s *storeTokenSource) clientFor(g *Grant) (*oauth2.Config, error) {
	c := *s.cfg
	switch {
	case g.ClientID == "" || g.ClientID == c.ClientID:
		return &c, nil
	case g.ClientSecret == "":
		return nil, sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the %s grant of account %s belongs to OAuth client %s, but the configuration now names %s: run %s", s.purpose, s.account, g.ClientID, s.cfg.ClientID, loginCommand(s.account, s.purpose)))
	}
	slog.Warn("refreshing with the OAuth client recorded in the grant, not the configured one; log in again to move the grant to the configured client",
		"account", s.account, "purpose", s.purpose, "grant_client", g.ClientID, "configured_client", s.cfg.ClientID)
	c.ClientID, c.ClientSecret = g.ClientID, g.ClientSecret
	return &c, nil
}

// refresh gets a new access token with g's refresh token and writes it back.
// The caller holds the grant's lock.
func (s *storeTokenSource) refresh(g *Grant) (*oauth2.Token, error) {
	c, err := s.clientFor(g)
	if err != nil {
		return nil, err
	}
	tok, err := c.TokenSource(s.ctx, &oauth2.Token{RefreshToken: g.RefreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("refreshing the %s access token of account %s: %w", s.purpose, s.account, classifyTokenError(err, s.account, s.purpose))
	}
	granted := grantedScopes(tok, g.Scopes)
	if err := checkScopes(granted, s.cfg.Scopes); err != nil {
		return nil, fmt.Errorf("refreshing the %s access token of account %s: %w", s.purpose, s.account, err)
	}

	g.AccessToken, g.Expiry, g.Scopes = tok.AccessToken, tok.Expiry, granted
	g.LastUsed = time.Now().UTC()
	if tok.RefreshToken != "" {
		g.RefreshToken = tok.RefreshToken
	}
	if err := s.store.Save(s.account, s.purpose, g); err != nil {
		// The new access token works without the cache, and the next
		// process refreshes again.
		slog.Warn("caching the access token in the keyring failed", "account", s.account, "purpose", s.purpose, "err", err)
	}
	return tok, nil
}
