package emulator

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// oauthError is the JSON error body of Google's token and revoke endpoints,
// e.g. {"error":"invalid_grant","error_description":"Token has been expired or revoked."}.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope"`
	TokenType    string `json:"token_type"`
}

// handleToken serves Google's token endpoint for the authorization_code
// (with PKCE) and refresh_token grants. Responses are application/json,
// because x/oauth2 picks its parser from the Content-Type.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache, no-store, max-age=0, must-revalidate")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Bad Request"})
		return
	}
	if e := s.checkClient(r); e != nil {
		code := http.StatusUnauthorized
		if e.Error == "invalid_request" {
			code = http.StatusBadRequest
		}
		writeJSON(w, code, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		s.exchangeCode(w, r)
	case "refresh_token":
		s.refreshAccess(w, r)
	case "":
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Invalid grant_type: "})
	default:
		writeJSON(w, http.StatusBadRequest, oauthError{"unsupported_grant_type", "Invalid grant_type: " + gt})
	}
}

// checkClient authenticates the client from HTTP basic auth or the form
// body; x/oauth2's google.Endpoint sends the credentials in the body.
func (s *Server) checkClient(r *http.Request) *oauthError {
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return &oauthError{"invalid_request", "Could not determine client ID from request."}
	}
	if id != s.opts.ClientID {
		return &oauthError{"invalid_client", "The OAuth client was not found."}
	}
	if secret == "" {
		return &oauthError{"invalid_request", "client_secret is missing."}
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
		return &oauthError{"invalid_client", "Unauthorized"}
	}
	return nil
}

// exchangeCode redeems a single-use authorization code. The caller holds s.mu.
func (s *Server) exchangeCode(w http.ResponseWriter, r *http.Request) {
	codeStr := r.PostForm.Get("code")
	if codeStr == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing required parameter: code"})
		return
	}
	c, ok := s.oauth.codes[codeStr]
	if !ok || c.used || !s.tokenNow().Before(c.expiry) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Malformed auth code."})
		return
	}
	// The redirect_uri must be identical to the authorization request's
	// (Google "OAuth 2.0 for Mobile & Desktop Apps", step 5).
	if r.PostForm.Get("redirect_uri") != c.redirectURI {
		writeJSON(w, http.StatusBadRequest, oauthError{"redirect_uri_mismatch", "Bad Request"})
		return
	}
	verifier := r.PostForm.Get("code_verifier")
	if c.method != "" && verifier == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Missing code verifier."})
		return
	}
	if !verifyPKCE(c, verifier) {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Invalid code verifier."})
		return
	}
	c.used = true
	g := s.mintGrant(c.user, c.scopes)
	access, ttl := s.mintAccess(g)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  access,
		ExpiresIn:    int(ttl.Seconds()),
		RefreshToken: g.refresh,
		Scope:        strings.Join(g.scopes, " "),
		TokenType:    "Bearer",
	})
}

// refreshAccess mints an access token from a refresh token. The response has
// no refresh_token, as Google's does not; x/oauth2 keeps the old one.
// The caller holds s.mu.
func (s *Server) refreshAccess(w http.ResponseWriter, r *http.Request) {
	rt := r.PostForm.Get("refresh_token")
	if rt == "" {
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "Missing required parameter: refresh_token"})
		return
	}
	g, ok := s.oauth.refresh[rt]
	if !ok || !s.refreshable(g) {
		// Google sends the same response for every cause: revocation, a
		// password change, the refresh-token limit, the Testing expiry.
		writeJSON(w, http.StatusBadRequest, oauthError{"invalid_grant", "Token has been expired or revoked."})
		return
	}
	access, ttl := s.mintAccess(g)
	writeJSON(w, http.StatusOK, tokenResponse{
		AccessToken: access,
		ExpiresIn:   int(ttl.Seconds()),
		Scope:       strings.Join(g.scopes, " "),
		TokenType:   "Bearer",
	})
}

// refreshable reports whether g's refresh token still works. The caller
// holds s.mu.
func (s *Server) refreshable(g *grant) bool {
	if g.revoked || g.refreshEnded {
		return false
	}
	if s.oauth.testingExpiry > 0 && !onlyIdentityScopes(g.scopes) &&
		!s.tokenNow().Before(g.issued.Add(s.oauth.testingExpiry)) {
		return false
	}
	return true
}

// onlyIdentityScopes reports whether scopes hold nothing beyond openid,
// email and profile, the grants that a "Testing" project's 7-day expiry
// spares.
func onlyIdentityScopes(scopes []string) bool {
	for _, sc := range scopes {
		switch sc {
		case "openid", "email", "profile", scopePrefix + "userinfo.email", scopePrefix + "userinfo.profile":
		default:
			return false
		}
	}
	return true
}

// hasGmailScope reports whether scopes hold a Gmail scope, the grants that a
// password change ends.
func hasGmailScope(scopes []string) bool {
	for _, sc := range scopes {
		if sc == scopeMail || strings.HasPrefix(sc, scopePrefix+"gmail.") {
			return true
		}
	}
	return false
}
