package emulator

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

func TestOAuthCodeExchange(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeReadonly)
	tok := login(t, cfg)
	if !strings.HasPrefix(tok.AccessToken, "ya29.") {
		t.Errorf("access token = %q, want prefix ya29.", tok.AccessToken)
	}
	if !strings.HasPrefix(tok.RefreshToken, "1//") {
		t.Errorf("refresh token = %q, want prefix 1//", tok.RefreshToken)
	}
	if got := tok.Extra("scope"); got != scopeReadonly {
		t.Errorf("granted scope = %v, want %s", got, scopeReadonly)
	}
	if got := tok.Extra("expires_in"); got != float64(3599) {
		t.Errorf("expires_in = %v, want 3599", got)
	}
	svc := serviceFor(t, base, cfg.TokenSource(context.Background(), tok))
	p, err := svc.Users.GetProfile("me").Do()
	if err != nil {
		t.Fatalf("GetProfile() = %v", err)
	}
	if p.EmailAddress != testUser {
		t.Errorf("GetProfile().EmailAddress = %q, want %q", p.EmailAddress, testUser)
	}
}

func TestLoginHintPicksUser(t *testing.T) {
	_, base := startServer(t, Options{Users: []string{testUser, "bob@example.com"}})
	cfg := oauthConfig(base, scopeReadonly)
	tok := login(t, cfg, oauth2.SetAuthURLParam("login_hint", "bob@example.com"))
	svc := serviceFor(t, base, oauth2.StaticTokenSource(tok))
	p, err := svc.Users.GetProfile("me").Do()
	if err != nil {
		t.Fatalf("GetProfile() = %v", err)
	}
	if p.EmailAddress != "bob@example.com" {
		t.Errorf("GetProfile().EmailAddress = %q, want bob@example.com", p.EmailAddress)
	}
	_, err = svc.Users.GetProfile(testUser).Do()
	wantAPIError(t, "GetProfile(other user)", err, http.StatusForbidden, "forbidden")
}

func TestAuthorizeRejects(t *testing.T) {
	_, base := startServer(t, Options{})
	good := url.Values{
		"client_id":     {DefaultClientID},
		"redirect_uri":  {"http://[::1]:9999/"},
		"response_type": {"code"},
		"scope":         {scopeSend},
	}
	tests := []struct {
		name   string
		change func(url.Values)
		status int
		want   string
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "other.apps.googleusercontent.com") }, 401, "invalid_client"},
		{"remote redirect", func(v url.Values) { v.Set("redirect_uri", "http://example.com/cb") }, 400, "redirect_uri_mismatch"},
		{"https redirect", func(v url.Values) { v.Set("redirect_uri", "https://127.0.0.1:5/cb") }, 400, "redirect_uri_mismatch"},
		{"no scope", func(v url.Values) { v.Del("scope") }, 400, "invalid_request"},
		{"unknown scope", func(v url.Values) { v.Set("scope", "https://www.googleapis.com/auth/drive") }, 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range good {
				v[k] = append([]string{}, vs...)
			}
			tt.change(v)
			resp, err := noRedirectClient.Get(base + "o/oauth2/v2/auth?" + v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			page, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.Contains(string(page), tt.want) {
				t.Errorf("authorize = %d %q, want %d containing %s", resp.StatusCode, page, tt.status, tt.want)
			}
		})
	}
	t.Run("accepted", func(t *testing.T) {
		q := authorize(t, base+"o/oauth2/v2/auth?"+good.Encode())
		if q.Get("code") == "" || q.Get("scope") != scopeSend {
			t.Errorf("redirect query = %v, want code and scope %s", q, scopeSend)
		}
	})
}

func TestAuthorizeDenied(t *testing.T) {
	_, base := startServer(t, Options{})
	adminPost(t, base+"admin/oauth/deny", `{"deny":true}`, nil)
	cfg := oauthConfig(base, scopeSend)
	q := authorize(t, cfg.AuthCodeURL("s1"))
	if q.Get("error") != "access_denied" || q.Get("state") != "s1" || q.Get("code") != "" {
		t.Errorf("denied redirect query = %v, want error=access_denied, state=s1, no code", q)
	}
}

func retrieveError(t *testing.T, err error) *oauth2.RetrieveError {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("error = %v, want *oauth2.RetrieveError", err)
	}
	return re
}

func TestTokenExchangeRejects(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeSend)
	ctx := testContext(t)

	verifier := oauth2.GenerateVerifier()
	q := authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	_, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" || re.Response.StatusCode != 400 {
		t.Errorf("Exchange(wrong verifier) = %s %d, want invalid_grant 400", re.ErrorCode, re.Response.StatusCode)
	}

	q = authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Errorf("Exchange(used code) = %s, want invalid_grant", re.ErrorCode)
	}

	q = authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	other := *cfg
	other.RedirectURL = "http://127.0.0.1:1/other"
	_, err = other.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveError(t, err); re.ErrorCode != "redirect_uri_mismatch" {
		t.Errorf("Exchange(other redirect_uri) = %s, want redirect_uri_mismatch", re.ErrorCode)
	}

	q = authorize(t, cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)))
	bad := *cfg
	bad.ClientSecret = "wrong"
	_, err = bad.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if re := retrieveError(t, err); re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
		t.Errorf("Exchange(wrong secret) = %s %d, want invalid_client 401", re.ErrorCode, re.Response.StatusCode)
	}
}

func TestRevokeEndsGrant(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeReadonly)
	tok := login(t, cfg)
	ctx := testContext(t)

	resp := adminPost(t, base+"revoke?token="+url.QueryEscape(tok.AccessToken), "", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke status = %d, want 200", resp.StatusCode)
	}
	_, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	re := retrieveError(t, err)
	if re.ErrorCode != "invalid_grant" || re.ErrorDescription != "Token has been expired or revoked." {
		t.Errorf("refresh after revoke = %q %q, want invalid_grant", re.ErrorCode, re.ErrorDescription)
	}
	svc := serviceFor(t, base, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken}))
	_, err = svc.Users.GetProfile("me").Do()
	gerr := wantAPIError(t, "GetProfile(revoked)", err, http.StatusUnauthorized, "authError")
	if got := gerr.Header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
		t.Errorf("WWW-Authenticate = %q, want error=\"invalid_token\"", got)
	}

	var body oauthError
	resp = adminPost(t, base+"revoke?token="+url.QueryEscape(tok.RefreshToken), "", &body)
	if resp.StatusCode != http.StatusBadRequest || body.Error != "invalid_token" {
		t.Errorf("second revoke = %d %+v, want 400 invalid_token", resp.StatusCode, body)
	}
}

func TestRefreshAndRevokeAll(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeReadonly)
	tok := login(t, cfg)
	ctx := testContext(t)

	fresh, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil {
		t.Fatalf("refresh = %v", err)
	}
	if fresh.AccessToken == tok.AccessToken || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("refresh gave access %q refresh %q, want a new access token and the old refresh token", fresh.AccessToken, fresh.RefreshToken)
	}
	var toks struct{ Tokens []string }
	rawGet(t, base+"admin/tokens", "", &toks)
	if len(toks.Tokens) != 3 {
		t.Errorf("admin tokens = %d, want 3 (two access, one refresh)", len(toks.Tokens))
	}

	adminPost(t, base+"admin/grants/revoke-all", "", nil)
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if re := retrieveError(t, err); re.ErrorCode != "invalid_grant" {
		t.Errorf("refresh after revoke-all = %s, want invalid_grant", re.ErrorCode)
	}
}

func TestExpiredAccessToken(t *testing.T) {
	_, base := startServer(t, Options{})
	tok := login(t, oauthConfig(base, scopeReadonly))
	adminPost(t, base+"admin/oauth/expire-access-tokens", "", nil)
	svc := serviceFor(t, base, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken}))
	_, err := svc.Users.GetProfile("me").Do()
	gerr := wantAPIError(t, "GetProfile(expired)", err, http.StatusUnauthorized, "authError")
	if len(gerr.Details) == 0 {
		t.Errorf("GetProfile(expired) details empty, want ACCESS_TOKEN_EXPIRED")
	}
}

// refreshError refreshes tok's refresh token and returns the token
// endpoint's error code, or "" when the refresh worked.
func refreshError(t *testing.T, cfg *oauth2.Config, tok *oauth2.Token) string {
	t.Helper()
	_, err := cfg.TokenSource(testContext(t), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err == nil {
		return ""
	}
	re := retrieveError(t, err)
	if re.ErrorCode == "invalid_grant" && re.ErrorDescription != "Token has been expired or revoked." {
		t.Errorf("invalid_grant description = %q, want Google's %q", re.ErrorDescription, "Token has been expired or revoked.")
	}
	return re.ErrorCode
}

func TestTestingExpiry(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeSend)
	tok := login(t, cfg)
	adminPost(t, base+"admin/oauth/testing-expiry", `{"days":7}`, nil)

	adminPost(t, base+"admin/clock", `{"advance":"167h"}`, nil)
	if got := refreshError(t, cfg, tok); got != "" {
		t.Errorf("refresh after 167h = %s, want success", got)
	}
	adminPost(t, base+"admin/clock", `{"advance":"2h"}`, nil)
	if got := refreshError(t, cfg, tok); got != "invalid_grant" {
		t.Errorf("refresh after 169h = %q, want invalid_grant", got)
	}
	svc := serviceFor(t, base, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: tok.AccessToken}))
	_, err := svc.Users.Messages.Send("me", nil).Do()
	wantAPIError(t, "messages.send with a day-old access token", err, http.StatusUnauthorized, "authError")
}

func TestPasswordChange(t *testing.T) {
	_, base := startServer(t, Options{Users: []string{"alice@example.com", "bob@example.com"}})
	alice := login(t, oauthConfig(base, scopeReadonly), oauth2.SetAuthURLParam("login_hint", "alice@example.com"))
	bob := login(t, oauthConfig(base, scopeReadonly), oauth2.SetAuthURLParam("login_hint", "bob@example.com"))
	identity := login(t, oauthConfig(base, "openid", "email"), oauth2.SetAuthURLParam("login_hint", "alice@example.com"))

	adminPost(t, base+"admin/oauth/password-change", `{"user":"alice@example.com"}`, nil)
	if got := refreshError(t, oauthConfig(base, scopeReadonly), alice); got != "invalid_grant" {
		t.Errorf("alice's Gmail grant after her password change = %q, want invalid_grant", got)
	}
	if got := refreshError(t, oauthConfig(base, scopeReadonly), bob); got != "" {
		t.Errorf("bob's grant after alice's password change = %q, want it working", got)
	}
	if got := refreshError(t, oauthConfig(base, "openid", "email"), identity); got != "" {
		t.Errorf("alice's grant without Gmail scopes after her password change = %q, want it working", got)
	}
}

func TestRefreshTokenLimit(t *testing.T) {
	_, base := startServer(t, Options{})
	cfg := oauthConfig(base, scopeSend)
	first := login(t, cfg)
	second := login(t, cfg)
	for range refreshTokenLimit - 1 {
		login(t, cfg)
	}
	if got := refreshError(t, cfg, first); got != "invalid_grant" {
		t.Errorf("oldest of %d refresh tokens = %q, want invalid_grant", refreshTokenLimit+1, got)
	}
	if got := refreshError(t, cfg, second); got != "" {
		t.Errorf("second oldest of %d refresh tokens = %q, want it working", refreshTokenLimit+1, got)
	}
}

func TestMergeGrants(t *testing.T) {
	_, base := startServer(t, Options{})
	login(t, oauthConfig(base, scopeSend))
	adminPost(t, base+"admin/oauth/merge-grants", `{"enabled":true}`, nil)
	tok := login(t, oauthConfig(base, scopeReadonly))
	if got, want := tok.Extra("scope"), scopeReadonly+" "+scopeSend; got != want {
		t.Errorf("merged grant scope = %q, want %q", got, want)
	}

	adminPost(t, base+"admin/oauth/merge-grants", `{"enabled":false}`, nil)
	tok = login(t, oauthConfig(base, scopeReadonly))
	if got := tok.Extra("scope"); got != scopeReadonly {
		t.Errorf("grant scope with merging off = %q, want %q", got, scopeReadonly)
	}
}

func TestRevokeEndsUsersOtherGrants(t *testing.T) {
	_, base := startServer(t, Options{Users: []string{"alice@example.com", "bob@example.com"}})
	send := login(t, oauthConfig(base, scopeSend), oauth2.SetAuthURLParam("login_hint", "alice@example.com"))
	sync := login(t, oauthConfig(base, scopeReadonly), oauth2.SetAuthURLParam("login_hint", "alice@example.com"))
	bob := login(t, oauthConfig(base, scopeReadonly), oauth2.SetAuthURLParam("login_hint", "bob@example.com"))

	req, _ := http.NewRequest(http.MethodPost, base+"revoke", strings.NewReader(url.Values{"token": {send.RefreshToken}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp := doJSON(t, req, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke status = %d, want 200", resp.StatusCode)
	}
	if got := refreshError(t, oauthConfig(base, scopeReadonly), sync); got != "invalid_grant" {
		t.Errorf("alice's sync grant after revoking her send grant = %q, want invalid_grant", got)
	}
	if got := refreshError(t, oauthConfig(base, scopeReadonly), bob); got != "" {
		t.Errorf("bob's grant after revoking alice's = %q, want it working", got)
	}
}
