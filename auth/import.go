package auth

import (
	"context"
	"fmt"

	"golang.org/x/oauth2"
)

// Import proves refreshToken with one refresh and returns the resulting
// token, whose RefreshToken is refreshToken unless the server rotated it.
// A token whose scopes differ from cfg.Scopes is rejected, so a full-access
// token copied from an IMAP setup is not kept. Errors carry exit code 77,
// or 75 for a network failure.
func Import(ctx context.Context, cfg *oauth2.Config, refreshToken string) (*oauth2.Token, error) {
	tok, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		return nil, fmt.Errorf("proving the refresh token at %s: %w", cfg.Endpoint.TokenURL, classifyTokenError(err, "", ""))
	}
	if err := checkScopes(grantedScopes(tok, cfg.Scopes), cfg.Scopes); err != nil {
		return nil, err
	}
	return tok, nil
}
