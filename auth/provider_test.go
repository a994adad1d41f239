package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"
)

// fakeProvider is a minimal Google-like authorization server: an
// authorize endpoint that consents at once, and a token endpoint that checks
// PKCE and issues refresh and access tokens.
type fakeProvider struct {
	t   *testing.T
	srv *httptest.Server

	mu           sync.Mutex
	authError    string            // when set, the authorize endpoint returns this error
	grantScope   string            // the token responses' scope; empty echoes the request
	refreshScope string            // the scope of the refresh grant; empty is gmail.send
	invalidGrant bool              // refreshes fail with invalid_grant
	codes        map[string]string // authorization code to PKCE challenge and scope, "challenge redirect scope"
	refreshToken string            // the one valid refresh token
	refreshes    int               // refresh_token grants served
	authQueries  []url.Values      // every authorization request
}

const (
	testClientID     = "test-client.apps.googleusercontent.com"
	testClientSecret = "test-secret"
)

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	p := &fakeProvider{t: t, codes: map[string]string{}, refreshToken: "1//refresh-" + randomString(t)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /auth", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.srv = httptest.NewServer(mux)
	t.Cleanup(p.srv.Close)
	return p
}

func (p *fakeProvider) config(scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     testClientID,
		ClientSecret: testClientSecret,
		Endpoint:     oauth2.Endpoint{AuthURL: p.srv.URL + "/auth", TokenURL: p.srv.URL + "/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:       scopes,
	}
}

func randomString(t *testing.T) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (p *fakeProvider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.authQueries = append(p.authQueries, q)

	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Hostname() != "127.0.0.1" || q.Get("response_type") != "code" || q.Get("client_id") != testClientID {
		http.Error(w, "bad authorization request", http.StatusBadRequest)
		return
	}
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}

	params := url.Values{"state": {q.Get("state")}}
	if p.authError != "" {
		params.Set("error", p.authError)
	} else {
		code := "4/code-" + randomString(p.t)
		p.codes[code] = q.Get("code_challenge") + " " + q.Get("redirect_uri") + " " + q.Get("scope")
		params.Set("code", code)
		params.Set("scope", q.Get("scope"))
	}
	redirect.RawQuery = params.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *fakeProvider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if r.PostForm.Get("client_id") != testClientID || r.PostForm.Get("client_secret") != testClientSecret {
		tokenError(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}

	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		entry, ok := p.codes[r.PostForm.Get("code")]
		delete(p.codes, r.PostForm.Get("code"))
		fields := strings.SplitN(entry, " ", 3)
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		switch {
		case !ok:
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Malformed auth code.")
		case base64.RawURLEncoding.EncodeToString(sum[:]) != fields[0]:
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Invalid code verifier.")
		case r.PostForm.Get("redirect_uri") != fields[1]:
			tokenError(w, http.StatusBadRequest, "redirect_uri_mismatch", "Bad Request")
		default:
			p.writeToken(w, fields[2], true)
		}
	case "refresh_token":
		if p.invalidGrant || r.PostForm.Get("refresh_token") != p.refreshToken {
			tokenError(w, http.StatusBadRequest, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		p.refreshes++
		p.writeToken(w, p.refreshScope, false)
	default:
		tokenError(w, http.StatusBadRequest, "unsupported_grant_type", "Invalid grant_type.")
	}
}

// writeToken answers like Google: a refresh response carries no refresh
// token.
func (p *fakeProvider) writeToken(w http.ResponseWriter, requestedScope string, withRefresh bool) {
	scope := p.grantScope
	if scope == "" {
		scope = requestedScope
	}
	if scope == "" {
		scope = ScopeSend
	}
	body := map[string]any{
		"access_token": "ya29.access-" + randomString(p.t),
		"expires_in":   3599,
		"scope":        scope,
		"token_type":   "Bearer",
	}
	if withRefresh {
		body["refresh_token"] = p.refreshToken
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}
