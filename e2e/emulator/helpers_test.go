package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

const (
	testRedirect = "http://127.0.0.1:45678/callback"
	testUser     = "alice@example.com"
)

// startServer starts an emulator on a free loopback port for one test.
func startServer(t *testing.T, opts Options) (*Server, string) {
	t.Helper()
	srv := New(opts)
	base, err := srv.Start("127.0.0.1:0")
	if err != nil {
		t.Fatalf("Start() = %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return srv, base
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func oauthConfig(base string, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     DefaultClientID,
		ClientSecret: DefaultClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "o/oauth2/auth",
			TokenURL:  base + "token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: testRedirect,
		Scopes:      scopes,
	}
}

// noRedirectClient stops at the authorization endpoint's 302, as a browser
// would hand the redirect to the loopback listener.
var noRedirectClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	},
}

// authorize runs the authorization step and returns the redirect's query.
func authorize(t *testing.T, authURL string) url.Values {
	t.Helper()
	resp, err := noRedirectClient.Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("authorize status = %d, want 302; body %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatalf("parsing Location: %v", err)
	}
	return loc.Query()
}

// login runs the installed-app flow with PKCE and returns the token.
func login(t *testing.T, cfg *oauth2.Config, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	q := authorize(t, cfg.AuthCodeURL("state-123", append(opts, oauth2.S256ChallengeOption(verifier))...))
	if got := q.Get("state"); got != "state-123" {
		t.Fatalf("redirect state = %q, want state-123", got)
	}
	tok, err := cfg.Exchange(testContext(t), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("Exchange() = %v", err)
	}
	return tok
}

// service returns a Gmail client for a fresh login with the given scopes.
func service(t *testing.T, base string, scopes ...string) *gmail.Service {
	t.Helper()
	cfg := oauthConfig(base, scopes...)
	tok := login(t, cfg)
	return serviceFor(t, base, cfg.TokenSource(context.Background(), tok))
}

func serviceFor(t *testing.T, base string, ts oauth2.TokenSource) *gmail.Service {
	t.Helper()
	svc, err := gmail.NewService(testContext(t), option.WithEndpoint(base), option.WithTokenSource(ts))
	if err != nil {
		t.Fatalf("gmail.NewService() = %v", err)
	}
	return svc
}

// wantAPIError checks that err is a *googleapi.Error with code and reason.
func wantAPIError(t *testing.T, call string, err error, code int, reason string) *googleapi.Error {
	t.Helper()
	var gerr *googleapi.Error
	if !errors.As(err, &gerr) {
		t.Fatalf("%s error = %v, want *googleapi.Error %d %s", call, err, code, reason)
	}
	if gerr.Code != code {
		t.Errorf("%s code = %d, want %d (body %s)", call, gerr.Code, code, gerr.Body)
	}
	if reason != "" && (len(gerr.Errors) == 0 || gerr.Errors[0].Reason != reason) {
		t.Errorf("%s reasons = %+v, want %s", call, gerr.Errors, reason)
	}
	return gerr
}

// rawGet sends a GET with an optional bearer token and decodes JSON.
func rawGet(t *testing.T, u, token string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return doJSON(t, req, out)
}

func doJSON(t *testing.T, req *http.Request, out any) *http.Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("decoding %s %s body %q: %v", req.Method, req.URL, body, err)
		}
	}
	return resp
}

// adminPost posts JSON to the admin API and decodes the response.
func adminPost(t *testing.T, u, body string, out any) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return doJSON(t, req, out)
}

// testMessage builds a small RFC 5322 message.
func testMessage(from, to, subject, msgID, inReplyTo, body string) []byte {
	var b strings.Builder
	b.WriteString("From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n")
	b.WriteString("Date: Mon, 04 Mar 2024 10:00:00 +0000\r\nMessage-ID: " + msgID + "\r\n")
	if inReplyTo != "" {
		b.WriteString("In-Reply-To: " + inReplyTo + "\r\nReferences: " + inReplyTo + "\r\n")
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body + "\r\n")
	return []byte(b.String())
}

func mustAdd(t *testing.T, srv *Server, raw []byte, labels []string, when time.Time) (string, string) {
	t.Helper()
	id, thread, err := srv.AddMessage(testUser, raw, labels, when)
	if err != nil {
		t.Fatalf("AddMessage() = %v", err)
	}
	return id, thread
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
