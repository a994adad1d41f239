package auth

import (
	"fmt"
	"os"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/gmsync/gmsync/config"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// clientFileHelp says where a client secret file comes from.
const clientFileHelp = "download one from the Google Cloud console: APIs & Services, Credentials, " +
	"Create credentials, OAuth client ID, application type \"Desktop app\", then Download JSON"

// OAuthConfig returns the OAuth2 client configuration for acct and purpose
// p: the client from client_secret_file or client_id and client_secret, the
// endpoints from acct.Endpoints, and client credentials sent in the request
// body as Google expects. RedirectURL is left for Login to set. Errors carry
// exit code 78 (EX_CONFIG).
func OAuthConfig(acct *config.Account, p Purpose) (*oauth2.Config, error) {
	scopes := p.ScopesFor(acct.Push)
	if scopes == nil {
		return nil, fmt.Errorf("building OAuth client for account %s: invalid purpose %q", acct.Name, p)
	}

	var cfg *oauth2.Config
	if acct.ClientSecretFile != "" {
		data, err := os.ReadFile(acct.ClientSecretFile)
		if err != nil {
			return nil, sysexits.Wrap(sysexits.Config, fmt.Errorf("reading client secret file %s: %w: %s", acct.ClientSecretFile, err, clientFileHelp))
		}
		cfg, err = google.ConfigFromJSON(data, scopes...)
		if err != nil {
			return nil, sysexits.Wrap(sysexits.Config, fmt.Errorf("parsing client secret file %s: %w: %s", acct.ClientSecretFile, err, clientFileHelp))
		}
	} else {
		cfg = &oauth2.Config{ClientID: acct.ClientID, ClientSecret: acct.ClientSecret, Scopes: scopes}
	}

	ep, err := acct.Endpoints()
	if err != nil {
		return nil, sysexits.Wrap(sysexits.Config, fmt.Errorf("building OAuth client for account %s: %w", acct.Name, err))
	}
	cfg.Endpoint = oauth2.Endpoint{AuthURL: ep.Auth, TokenURL: ep.Token, AuthStyle: oauth2.AuthStyleInParams}
	cfg.RedirectURL = ""
	return cfg, nil
}
