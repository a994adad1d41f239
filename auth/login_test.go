package auth

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// syncBuffer is a bytes.Buffer that Login and the test may use at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// noRedirects is an HTTP client that returns redirects instead of
// following them.
var noRedirects = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// authorizeRedirect requests authURL and returns the redirect address the
// authorization server sends the browser to.
func authorizeRedirect(t *testing.T, authURL string) *url.URL {
	t.Helper()
	resp, err := noRedirects.Get(authURL)
	if err != nil {
		t.Errorf("GET %s: %v", authURL, err)
		return nil
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Errorf("GET %s = %s without a redirect: %v", authURL, resp.Status, err)
		return nil
	}
	return loc
}

// browser follows the authorization URL like a browser would and records
// the callback page and the redirect address.
type browser struct {
	t        *testing.T
	mu       sync.Mutex
	redirect *url.URL
	page     string
	status   int
	edit     func(*url.URL) // changes the redirect before it is followed
}

func (b *browser) open(authURL string) error {
	go func() {
		loc := authorizeRedirect(b.t, authURL)
		if loc == nil {
			return
		}
		if b.edit != nil {
			b.edit(loc)
		}
		resp, err := noRedirects.Get(loc.String())
		if err != nil {
			b.t.Errorf("GET %s: %v", loc, err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b.mu.Lock()
		b.redirect, b.page, b.status = loc, string(body), resp.StatusCode
		b.mu.Unlock()
	}()
	return nil
}

func TestLoginBrowser(t *testing.T) {
	p := newFakeProvider(t)
	b := &browser{t: t}
	stderr := &syncBuffer{}
	cfg := p.config(ScopeSend)

	tok, err := Login(context.Background(), cfg, LoginOptions{Stderr: stderr, OpenBrowser: b.open, LoginHint: "alice@example.com", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatalf("Login() = %v, want a token; stderr:\n%s", err, stderr)
	}
	if tok.RefreshToken != p.refreshToken || tok.AccessToken == "" {
		t.Errorf("Login() token = refresh %q access %q, want refresh %q and an access token", tok.RefreshToken, tok.AccessToken, p.refreshToken)
	}
	if cfg.RedirectURL != "" {
		t.Errorf("Login() changed the caller's RedirectURL to %q", cfg.RedirectURL)
	}

	q := p.authQueries[0]
	if got := q.Get("scope"); got != ScopeSend {
		t.Errorf("authorization request scope = %q, want %q", got, ScopeSend)
	}
	if q.Has("include_granted_scopes") {
		t.Errorf("authorization request has include_granted_scopes=%s, want none", q.Get("include_granted_scopes"))
	}
	if got := q.Get("login_hint"); got != "alice@example.com" {
		t.Errorf("authorization request login_hint = %q, want alice@example.com", got)
	}
	if len(q.Get("state")) < 32 {
		t.Errorf("authorization request state = %q, want at least 32 characters", q.Get("state"))
	}

	// The callback page was written before Login returned, and the listener
	// is closed.
	deadline := time.Now().Add(5 * time.Second)
	b.mu.Lock()
	for b.status == 0 && time.Now().Before(deadline) {
		b.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	if b.status != http.StatusOK || !strings.Contains(b.page, "return to the terminal") {
		t.Errorf("callback page = %d %q, want 200 saying to return to the terminal", b.status, b.page)
	}
	if b.redirect.Host == "" || !strings.HasPrefix(b.redirect.String(), "http://127.0.0.1:") {
		t.Errorf("redirect = %s, want http://127.0.0.1:PORT/", b.redirect)
	}
	if resp, err := noRedirects.Get(b.redirect.String()); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after login = %s, want the listener closed", b.redirect, resp.Status)
	}
}

func TestLoginPastedRedirect(t *testing.T) {
	p := newFakeProvider(t)
	stdinReader, stdinWriter := io.Pipe()
	stderrReader, stderrWriter := io.Pipe()
	defer stdinWriter.Close()

	// Play the user: read the URL from stderr, "open" it elsewhere and
	// paste the address the browser could not load.
	lines := make(chan []string, 1)
	go func() {
		var seen []string
		scanner := bufio.NewScanner(stderrReader)
		for scanner.Scan() {
			line := scanner.Text()
			seen = append(seen, line)
			if strings.HasPrefix(line, p.srv.URL+"/auth?") {
				go func() {
					loc := authorizeRedirect(t, line)
					io.WriteString(stdinWriter, "not a url\n")
					if loc != nil {
						io.WriteString(stdinWriter, "  "+loc.String()+"  \n")
					}
				}()
			}
		}
		lines <- seen
	}()

	_, err := Login(context.Background(), p.config(ScopeSend), LoginOptions{NoBrowser: true, Stdin: stdinReader, Stderr: stderrWriter, Timeout: 10 * time.Second})
	stderrWriter.Close()
	seen := <-lines
	if err != nil {
		t.Fatalf("Login(NoBrowser) = %v, want a token; stderr:\n%s", err, strings.Join(seen, "\n"))
	}

	urlLine := -1
	for i, line := range seen {
		if strings.HasPrefix(line, p.srv.URL) {
			urlLine = i
		}
	}
	if urlLine < 1 || seen[urlLine-1] != "Open this URL in a browser on any machine:" {
		t.Errorf("Login(NoBrowser) stderr = %q, want the URL on a line of its own after the instruction", seen)
	}
	if !strings.Contains(strings.Join(seen, "\n"), "that is not the redirect address") {
		t.Errorf("Login(NoBrowser) stderr = %q, want a complaint about the pasted junk", seen)
	}
}

func TestLoginStateMismatch(t *testing.T) {
	p := newFakeProvider(t)
	b := &browser{t: t, edit: func(u *url.URL) {
		q := u.Query()
		q.Set("state", "forged")
		u.RawQuery = q.Encode()
	}}
	_, err := Login(context.Background(), p.config(ScopeSend), LoginOptions{OpenBrowser: b.open, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "state") {
		t.Fatalf("Login() with a forged state = %v, want a state error", err)
	}
	if code := sysexits.Code(err); code != sysexits.NoPerm {
		t.Errorf("Login() with a forged state exit code = %d, want %d", code, sysexits.NoPerm)
	}
}

func TestLoginAccessDenied(t *testing.T) {
	p := newFakeProvider(t)
	p.authError = "access_denied"
	b := &browser{t: t}
	_, err := Login(context.Background(), p.config(ScopeSend), LoginOptions{OpenBrowser: b.open, Timeout: 10 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "access_denied") || !strings.Contains(err.Error(), "allow access") {
		t.Fatalf("Login() denied = %v, want an access_denied explanation", err)
	}
	if code := sysexits.Code(err); code != sysexits.NoPerm {
		t.Errorf("Login() denied exit code = %d, want %d", code, sysexits.NoPerm)
	}
}

func TestLoginTimeout(t *testing.T) {
	p := newFakeProvider(t)
	start := time.Now()
	_, err := Login(context.Background(), p.config(ScopeSend), LoginOptions{OpenBrowser: func(string) error { return nil }, Timeout: 200 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("Login() unanswered = %v, want a timeout", err)
	}
	if code := sysexits.Code(err); code != sysexits.TempFail {
		t.Errorf("Login() unanswered exit code = %d, want %d", code, sysexits.TempFail)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Login() with a 200ms timeout took %v", elapsed)
	}
}

func TestLoginBrowserFailsFallsBackToURL(t *testing.T) {
	p := newFakeProvider(t)
	stderr := &syncBuffer{}
	_, err := Login(context.Background(), p.config(ScopeSend), LoginOptions{
		OpenBrowser: func(string) error { return errors.New("no display") },
		Stderr:      stderr,
		Timeout:     100 * time.Millisecond,
	})
	if err == nil {
		t.Fatal("Login() with nobody answering = nil error, want a timeout")
	}
	if !strings.Contains(stderr.String(), "no display\nOpen this URL in a browser on any machine:\n"+p.srv.URL) {
		t.Errorf("Login() stderr = %q, want the browser failure and then the URL", stderr)
	}
}

func TestLoginScopeChecks(t *testing.T) {
	tests := []struct {
		name, granted, want string
	}{
		{"narrower", ScopeSend, "lacks gmail.readonly"},
		{"broader", ScopeSend + " " + ScopeReadonly + " https://mail.google.com/", "carries https://mail.google.com/ in addition to the gmail.send,gmail.readonly"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newFakeProvider(t)
			p.grantScope = tt.granted
			_, err := Login(context.Background(), p.config(ScopeSend, ScopeReadonly), LoginOptions{OpenBrowser: (&browser{t: t}).open, Timeout: 10 * time.Second})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Login() granted %q = %v, want an error containing %q", tt.granted, err, tt.want)
			}
		})
	}
}

func TestImport(t *testing.T) {
	p := newFakeProvider(t)
	tok, err := Import(context.Background(), p.config(ScopeSend), p.refreshToken)
	if err != nil {
		t.Fatalf("Import(valid token) = %v", err)
	}
	if tok.RefreshToken != p.refreshToken || tok.AccessToken == "" {
		t.Errorf("Import(valid token) = refresh %q access %q, want the same refresh token and an access token", tok.RefreshToken, tok.AccessToken)
	}

	_, err = Import(context.Background(), p.config(ScopeSend), "1//stale")
	if err == nil || !strings.Contains(err.Error(), "no longer valid") || sysexits.Code(err) != sysexits.NoPerm {
		t.Errorf("Import(stale token) = %v (exit %d), want invalid_grant with exit 77", err, sysexits.Code(err))
	}

	p.grantScope = "https://mail.google.com/"
	_, err = Import(context.Background(), p.config(ScopeSend), p.refreshToken)
	if err == nil || !strings.Contains(err.Error(), "https://mail.google.com/") {
		t.Errorf("Import(full-access token) = %v, want it rejected", err)
	}
}
