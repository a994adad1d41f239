package config

import (
	"encoding/json"
	"fmt"
	"os"
)

// Google's endpoints, used when nothing overrides them. The authorization
// and token URLs are the ones in a downloaded client_secret.json.
const (
	GoogleAPIURL    = "https://gmail.googleapis.com/"
	GoogleAuthURL   = "https://accounts.google.com/o/oauth2/auth"
	GoogleTokenURL  = "https://oauth2.googleapis.com/token"
	GoogleRevokeURL = "https://oauth2.googleapis.com/revoke"
)

// Endpoints are the URLs an account talks to.
type Endpoints struct {
	API    string // Gmail API root, e.g. https://gmail.googleapis.com/
	Auth   string // OAuth2 authorization endpoint
	Token  string // OAuth2 token endpoint
	Revoke string // OAuth2 revocation endpoint
}

// Endpoints returns the account's URLs. For each one the first source that
// sets it wins: the environment (GMSYNC_API_URL, GMSYNC_AUTH_URL,
// GMSYNC_TOKEN_URL, GMSYNC_REVOKE_URL), the account's api_url, auth_url,
// token_url and revoke_url keys, the client secret file's auth_uri and
// token_uri, and Google's endpoints. It reads the client secret file, so it
// fails when that file is unreadable or malformed.
func (a *Account) Endpoints() (Endpoints, error) {
	var fromFile clientEndpoints
	if a.ClientSecretFile != "" {
		var err error
		if fromFile, err = readClientEndpoints(a.ClientSecretFile); err != nil {
			return Endpoints{}, err
		}
	}
	return Endpoints{
		API:    first(os.Getenv("GMSYNC_API_URL"), a.APIURL, GoogleAPIURL),
		Auth:   first(os.Getenv("GMSYNC_AUTH_URL"), a.AuthURL, fromFile.AuthURI, GoogleAuthURL),
		Token:  first(os.Getenv("GMSYNC_TOKEN_URL"), a.TokenURL, fromFile.TokenURI, GoogleTokenURL),
		Revoke: first(os.Getenv("GMSYNC_REVOKE_URL"), a.RevokeURL, GoogleRevokeURL),
	}, nil
}

// clientEndpoints are the endpoint fields of Google's client_secret.json,
// which nests them under "installed" or "web".
type clientEndpoints struct {
	AuthURI  string `json:"auth_uri"`
	TokenURI string `json:"token_uri"`
}

func readClientEndpoints(path string) (clientEndpoints, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return clientEndpoints{}, fmt.Errorf("reading client secret file %s: %w", path, err)
	}
	var f struct {
		Installed *clientEndpoints `json:"installed"`
		Web       *clientEndpoints `json:"web"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return clientEndpoints{}, fmt.Errorf("parsing client secret file %s: %w", path, err)
	}
	switch {
	case f.Installed != nil:
		return *f.Installed, nil
	case f.Web != nil:
		return *f.Web, nil
	}
	return clientEndpoints{}, fmt.Errorf("parsing client secret file %s: it has no \"installed\" or \"web\" client", path)
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
