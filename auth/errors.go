package auth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// loginCommand returns the command that makes a new grant.
func loginCommand(account string, p Purpose) string {
	return fmt.Sprintf("gmsync auth login --account %s --for %s", account, p)
}

// invalidGrantCauses lists why Google stops honouring a refresh token.
const invalidGrantCauses = "it was revoked, went unused for six months, " +
	"was invalidated by a password change, was pushed out by newer grants (100 per client), " +
	"or came from a Cloud project in \"Testing\" status, whose grants expire after 7 days"

// classifyTokenError attaches an exit code and advice to an error from the
// token endpoint. account may be empty when no grant exists yet.
func classifyTokenError(err error, account string, p Purpose) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		switch re.ErrorCode {
		case "invalid_grant":
			if account == "" {
				return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the refresh token is no longer valid (%w): %s", err, invalidGrantCauses))
			}
			return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the %s grant of account %s is no longer valid (%w): %s; run %s", p, account, err, invalidGrantCauses, loginCommand(account, p)))
		case "invalid_client", "unauthorized_client", "deleted_client":
			return sysexits.Wrap(sysexits.Config, fmt.Errorf("the token endpoint rejected the OAuth client (%w): check client_secret_file or client_id and client_secret", err))
		case "invalid_scope", "access_denied":
			return sysexits.Wrap(sysexits.NoPerm, err)
		}
		if re.Response != nil && (re.Response.StatusCode >= 500 || re.Response.StatusCode == 429) {
			return sysexits.Wrap(sysexits.TempFail, err)
		}
		return sysexits.Wrap(sysexits.NoPerm, err)
	}

	var netErr net.Error
	var urlErr *url.Error
	if errors.As(err, &netErr) || errors.As(err, &urlErr) || errors.Is(err, context.DeadlineExceeded) {
		return sysexits.Wrap(sysexits.TempFail, err)
	}
	return err
}
