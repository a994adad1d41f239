package gmailapi

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/option"
)

// DefaultAPIURL is the root of Google's Gmail API.
const DefaultAPIURL = "https://gmail.googleapis.com/"

// NewService returns a Gmail service whose requests go to apiURL (Google's
// root or the emulator's base URL) and carry tokens from ts.
//
// The Go client joins the base path with "gmail/v1/..." but resolves upload
// URLs from the host root, so apiURL must be a root URL; a missing trailing
// slash is added.
func NewService(ctx context.Context, apiURL string, ts oauth2.TokenSource) (*gmail.Service, error) {
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	u, err := url.Parse(apiURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid Gmail API URL %q: want an http or https root URL such as %s", apiURL, DefaultAPIURL)
	}
	if !strings.HasSuffix(apiURL, "/") {
		apiURL += "/"
	}
	client := &http.Client{Transport: &oauth2.Transport{Source: ts, Base: newTransport()}}
	svc, err := gmail.NewService(ctx, option.WithHTTPClient(client), option.WithEndpoint(apiURL))
	if err != nil {
		return nil, fmt.Errorf("creating Gmail service for %s: %w", apiURL, err)
	}
	return svc, nil
}

// newTransport bounds connection set-up and the wait for response headers,
// so a dead network fails in seconds instead of hanging a mail client. A
// 35 MiB upload on a slow link still has all the time it needs, because the
// body transfer itself is not limited.
func newTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 15 * time.Second
	t.ResponseHeaderTimeout = 90 * time.Second
	t.MaxIdleConnsPerHost = 32
	return t
}
