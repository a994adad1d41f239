package emulator

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"html"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Token lifetimes. Google's token endpoint returns expires_in 3599 for a
// one-hour access token (observed in public reports). Codes live ten minutes.
const (
	accessTokenLifetime = 3599 * time.Second
	authCodeLifetime    = 10 * time.Minute
)

// oauthState holds codes, grants and tokens. Server.mu guards it.
type oauthState struct {
	codes   map[string]*authCode
	access  map[string]*accessToken
	refresh map[string]*grant
	grants  []*grant // in the order they were made, for eviction and merging
	issued  []string // every access and refresh token, for the admin API
	deny    bool     // authorize redirects with error=access_denied

	// clockOffset moves the clock of codes, tokens and grants forward, so a
	// test reaches a 7-day expiry without waiting.
	clockOffset time.Duration
	// testingExpiry, when positive, ends grants that old, as Google does for
	// a project of External user type in "Testing" publishing status.
	testingExpiry time.Duration
	// mergeGrants makes a new grant also carry the scopes of the user's
	// earlier live grants, as Google does with incremental authorization.
	mergeGrants bool
}

// refreshTokenLimit is Google's number of live refresh tokens per Google
// Account per OAuth client. A new grant beyond it silently invalidates the
// oldest ("Refresh token expiration" in Google's OAuth 2.0 overview).
const refreshTokenLimit = 100

// grant is one user's consent to one scope set. Revoking any of its tokens
// revokes the grant, and with it every token minted from it (Google "OAuth
// 2.0 for Mobile & Desktop Apps": revoking an access token also revokes the
// refresh token).
type grant struct {
	user    string
	scopes  []string
	refresh string
	issued  time.Time // on the token clock
	revoked bool      // revoked: neither token works
	// refreshEnded stops the refresh token alone, as a password change or
	// the refresh-token limit does; access tokens live out their hour.
	refreshEnded bool
}

type accessToken struct {
	grant  *grant
	expiry time.Time
}

type authCode struct {
	user, redirectURI string
	scopes            []string
	challenge, method string
	expiry            time.Time
	used              bool
}

func newOAuthState() oauthState {
	return oauthState{
		codes:   make(map[string]*authCode),
		access:  make(map[string]*accessToken),
		refresh: make(map[string]*grant),
	}
}

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return base64.RawURLEncoding.EncodeToString(b)
}

// handleAuthorize serves Google's authorization endpoint for installed apps.
// It consents at once for the user named by login_hint (or the first user)
// and redirects to the loopback redirect_uri with code, scope and state.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.ClientID {
		writeOAuthPage(w, http.StatusUnauthorized, "invalid_client", "The OAuth client was not found.")
		return
	}
	redirect, ok := parseLoopbackRedirect(q.Get("redirect_uri"))
	if !ok {
		// Desktop clients accept only loopback redirects, on any port
		// (Google "Loopback IP Address flow Migration Guide").
		writeOAuthPage(w, http.StatusBadRequest, "redirect_uri_mismatch",
			"redirect_uri must be a loopback http URI such as http://127.0.0.1:PORT, got "+q.Get("redirect_uri"))
		return
	}
	state := q.Get("state")
	if q.Get("response_type") != "code" {
		redirectWith(w, r, redirect, url.Values{"error": {"unsupported_response_type"}, "state": {state}})
		return
	}
	scopes := strings.Fields(q.Get("scope"))
	if len(scopes) == 0 {
		writeOAuthPage(w, http.StatusBadRequest, "invalid_request", "Missing required parameter: scope")
		return
	}
	for _, sc := range scopes {
		if !knownScopes[sc] {
			writeOAuthPage(w, http.StatusBadRequest, "invalid_scope", "Some requested scopes were invalid: "+sc)
			return
		}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	if method == "" && challenge != "" {
		method = "plain" // the PKCE default (RFC 7636 section 4.3)
	}
	if (method != "" && method != "S256" && method != "plain") || (method != "" && challenge == "") {
		writeOAuthPage(w, http.StatusBadRequest, "invalid_request", "Invalid code_challenge_method or missing code_challenge.")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.oauth.deny {
		redirectWith(w, r, redirect, url.Values{"error": {"access_denied"}, "state": {state}})
		return
	}
	user := s.opts.Users[0]
	if box := s.mailboxFor(q.Get("login_hint")); box != nil {
		user = box.address
	}
	code := "4/0A" + randomString(48)
	s.oauth.codes[code] = &authCode{
		user:        strings.ToLower(user),
		redirectURI: q.Get("redirect_uri"),
		scopes:      scopes,
		challenge:   challenge,
		method:      method,
		expiry:      s.tokenNow().Add(authCodeLifetime),
	}
	v := url.Values{"code": {code}, "scope": {strings.Join(scopes, " ")}}
	if state != "" {
		v.Set("state", state)
	}
	redirectWith(w, r, redirect, v)
}

// parseLoopbackRedirect accepts http URIs on 127.0.0.1, [::1] or localhost.
func parseLoopbackRedirect(raw string) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.User != nil || u.Fragment != "" {
		return nil, false
	}
	host := u.Hostname()
	if host == "localhost" {
		return u, true
	}
	ip := net.ParseIP(host)
	return u, ip != nil && (ip.Equal(net.IPv4(127, 0, 0, 1)) || ip.Equal(net.IPv6loopback))
}

func redirectWith(w http.ResponseWriter, r *http.Request, base *url.URL, v url.Values) {
	u := *base
	q := u.Query()
	for k, vs := range v {
		if len(vs) == 1 && vs[0] == "" && k == "state" {
			continue
		}
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// writeOAuthPage writes the HTML error page that Google shows in the browser
// when it cannot redirect back ("Error 400: redirect_uri_mismatch").
func writeOAuthPage(w http.ResponseWriter, code int, errCode, detail string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte("<!DOCTYPE html><html><title>Error</title><body><h1>Access blocked: authorization error</h1>" +
		"<p>Error " + strconv.Itoa(code) + ": " + html.EscapeString(errCode) + "</p><p>" + html.EscapeString(detail) + "</p></body></html>\n"))
}

// verifyPKCE checks code_verifier against the stored challenge (RFC 7636).
func verifyPKCE(c *authCode, verifier string) bool {
	switch c.method {
	case "":
		return true
	case "plain":
		return subtle.ConstantTimeCompare([]byte(c.challenge), []byte(verifier)) == 1
	default:
		sum := sha256.Sum256([]byte(verifier))
		want := base64.RawURLEncoding.EncodeToString(sum[:])
		return subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) == 1
	}
}

// mintAccess issues a new access token for g. The caller holds s.mu.
func (s *Server) mintAccess(g *grant) (string, time.Duration) {
	tok := "ya29." + randomString(96)
	s.oauth.access[tok] = &accessToken{grant: g, expiry: s.tokenNow().Add(accessTokenLifetime)}
	s.oauth.issued = append(s.oauth.issued, tok)
	return tok, accessTokenLifetime
}

// mintGrant records a new grant with its refresh token, merging the user's
// earlier scopes when mergeGrants is on and ending the oldest live refresh
// token beyond refreshTokenLimit. The caller holds s.mu.
func (s *Server) mintGrant(user string, scopes []string) *grant {
	if s.oauth.mergeGrants {
		scopes = s.mergedScopes(user, scopes)
	}
	g := &grant{user: user, scopes: scopes, refresh: "1//" + randomString(72), issued: s.tokenNow()}
	s.oauth.refresh[g.refresh] = g
	s.oauth.grants = append(s.oauth.grants, g)
	s.oauth.issued = append(s.oauth.issued, g.refresh)
	s.evictOldGrants(user)
	return g
}

// mergedScopes returns scopes followed by the scopes of user's earlier live
// grants that it lacks. The caller holds s.mu.
func (s *Server) mergedScopes(user string, scopes []string) []string {
	merged := slices.Clone(scopes)
	for _, g := range s.oauth.grants {
		if g.user != user || g.revoked || g.refreshEnded {
			continue
		}
		for _, sc := range g.scopes {
			if !slices.Contains(merged, sc) {
				merged = append(merged, sc)
			}
		}
	}
	return merged
}

// evictOldGrants ends the oldest live refresh tokens of user beyond
// refreshTokenLimit, without telling anyone. The caller holds s.mu.
func (s *Server) evictOldGrants(user string) {
	var live []*grant
	for _, g := range s.oauth.grants {
		if g.user == user && !g.revoked && !g.refreshEnded {
			live = append(live, g)
		}
	}
	for i := 0; i < len(live)-refreshTokenLimit; i++ {
		live[i].refreshEnded = true
	}
}

// handleRevoke serves Google's revoke endpoint: the token comes in the form
// body or the query, and revoking either token of a grant ends the grant.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Bad Request"})
		return
	}
	tok := r.Form.Get("token")
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *grant
	if a, ok := s.oauth.access[tok]; ok {
		g = a.grant
	} else if rg, ok := s.oauth.refresh[tok]; ok {
		g = rg
	}
	if g == nil || g.revoked {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_token", "Token expired or revoked"})
		return
	}
	// Revocation drops every scope the user granted to the project, across
	// its clients (Google "OAuth 2.0 for Mobile & Desktop Apps", revoking a
	// token). The emulator has one client, so that is every grant of the user.
	// NOTE: not checked against a real account; Google may end only the
	// grant of the revoked token.
	for _, other := range s.oauth.grants {
		if other.user == g.user {
			other.revoked = true
		}
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

// lookupAccess returns the live grant behind an access token, and whether
// the token exists but has expired. The caller holds s.mu.
func (s *Server) lookupAccess(tok string) (g *grant, expired bool) {
	a, ok := s.oauth.access[tok]
	if !ok || a.grant.revoked {
		return nil, false
	}
	if !s.tokenNow().Before(a.expiry) {
		return nil, true
	}
	return a.grant, false
}

// tokenNow is the clock of codes, tokens and grants: the server's clock
// moved forward by POST /admin/clock. The caller holds s.mu.
func (s *Server) tokenNow() time.Time {
	return s.now().Add(s.oauth.clockOffset)
}

// Admin switches for grant lifetimes. Each takes a JSON body and returns
// the state it set.

// adminTestingExpiry sets the "Testing" project expiry in days, 0 for none
// (POST /admin/oauth/testing-expiry {"days":7}). It applies to existing
// grants too, counted from when each was made.
func (s *Server) adminTestingExpiry(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Days int `json:"days"`
	}
	if !readAdminJSON(w, r, &req) || req.Days < 0 {
		writeAdminError(w, http.StatusBadRequest, `request needs {"days": N} with N >= 0`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.testingExpiry = time.Duration(req.Days) * 24 * time.Hour
	writeJSON(w, http.StatusOK, req)
}

// adminClock moves the token clock forward by a Go duration such as "169h"
// (POST /admin/clock {"advance":"169h"}). Mail dates keep the real clock.
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Advance string `json:"advance"`
	}
	var d time.Duration
	ok := readAdminJSON(w, r, &req)
	if ok {
		var err error
		d, err = time.ParseDuration(req.Advance)
		ok = err == nil && d >= 0
	}
	if !ok {
		writeAdminError(w, http.StatusBadRequest, `request needs {"advance": "DURATION"}, e.g. "169h"`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.clockOffset += d
	writeJSON(w, http.StatusOK, map[string]string{"now": s.tokenNow().UTC().Format(time.RFC3339)})
}

// adminPasswordChange ends the refresh tokens with Gmail scopes of one user,
// or of every user when the body names none
// (POST /admin/oauth/password-change {"user":"alice@example.com"}).
func (s *Server) adminPasswordChange(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
	}
	if !readAdminJSON(w, r, &req) {
		writeAdminError(w, http.StatusBadRequest, `request needs {} or {"user": "ADDRESS"}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	user := strings.ToLower(strings.TrimSpace(req.User))
	ended := 0
	for _, g := range s.oauth.grants {
		if (user == "" || g.user == user) && hasGmailScope(g.scopes) && !g.refreshEnded {
			g.refreshEnded = true
			ended++
		}
	}
	writeJSON(w, http.StatusOK, map[string]int{"ended": ended})
}

// adminMergeGrants turns merging of earlier scopes into new grants on or off
// (POST /admin/oauth/merge-grants {"enabled":true}).
func (s *Server) adminMergeGrants(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Enabled bool `json:"enabled"`
	}
	if !readAdminJSON(w, r, &req) {
		writeAdminError(w, http.StatusBadRequest, `request needs {"enabled": true|false}`)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.mergeGrants = req.Enabled
	writeJSON(w, http.StatusOK, req)
}

// readAdminJSON decodes r's body into v. An empty body leaves v as it is.
func readAdminJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := readBody(r, 1<<20)
	if err != nil {
		return false
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return true
	}
	return json.Unmarshal(body, v) == nil
}
