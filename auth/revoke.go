package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// ErrAlreadyRevoked reports that the revoke endpoint no longer knew the
// token: it was revoked or expired before.
var ErrAlreadyRevoked = errors.New("the token was already revoked or expired")

// revokeTimeout bounds one revoke request.
const revokeTimeout = 30 * time.Second

// Revoke requests that the revoke endpoint at revokeURL end the grant behind
// token, a refresh or access token. The token goes in a form body (RFC 7009),
// never in the URL. Revoking either token of a Google grant ends the grant,
// and Google may also end the other grants of the same OAuth client for the
// account. A 400 invalid_token answer returns an error wrapping
// ErrAlreadyRevoked. Other failures carry exit code 75 for the network and
// server errors and 69 otherwise; no error contains the token.
func Revoke(ctx context.Context, revokeURL, token string) error {
	ctx, cancel := context.WithTimeout(ctx, revokeTimeout)
	defer cancel()
	form := url.Values{"token": {token}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, revokeURL, strings.NewReader(form))
	if err != nil {
		return sysexits.Wrap(sysexits.Config, fmt.Errorf("revoking at %s: %w", revokeURL, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("revoking at %s: %w", revokeURL, err))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusOK {
		return nil
	}

	var oe struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &oe)
	switch {
	case resp.StatusCode == http.StatusBadRequest && (oe.Error == "invalid_token" || oe.Error == "invalid_grant"):
		return fmt.Errorf("revoking at %s: %w (%s)", revokeURL, ErrAlreadyRevoked, oe.Error)
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return sysexits.Wrap(sysexits.TempFail, fmt.Errorf("revoking at %s: %s", revokeURL, resp.Status))
	case oe.Error != "":
		return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("revoking at %s: %s: %s %s", revokeURL, resp.Status, oe.Error, oe.Description))
	}
	return sysexits.Wrap(sysexits.Unavailable, fmt.Errorf("revoking at %s: %s", revokeURL, resp.Status))
}
