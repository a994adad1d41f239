package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"time"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// DefaultLoginTimeout is how long Login waits for the authorization response.
const DefaultLoginTimeout = 5 * time.Minute

// LoginOptions tune Login. The zero value opens a browser, waits five
// minutes and writes instructions nowhere.
type LoginOptions struct {
	// NoBrowser prints the authorization URL instead of opening a browser,
	// and accepts the redirect address pasted on Stdin.
	NoBrowser bool
	Stderr    io.Writer // instructions for the user
	Stdin     io.Reader // pasted redirect addresses, or nil for no pasting
	Timeout   time.Duration
	// OpenBrowser opens url, and nil runs xdg-open, open or rundll32. When it
	// fails, Login falls back to printing the URL and accepting a paste.
	OpenBrowser func(url string) error
	LoginHint   string // the Google account's address, to preselect it
}

// Login runs Google's installed-app authorization flow for cfg.Scopes and
// returns the token, which carries a refresh token. It listens on
// 127.0.0.1 with an ephemeral port, sends the user to the authorization URL
// with PKCE (S256) and a random state, takes exactly one redirect (from the
// listener or pasted on Stdin), closes the listener and exchanges the code.
// A grant that lacks a requested scope or holds one more is rejected.
// Errors carry exit code 77, or 75 for a timeout or network failure.
func Login(ctx context.Context, cfg *oauth2.Config, opts LoginOptions) (*oauth2.Token, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultLoginTimeout
	}
	stderr := opts.Stderr
	if stderr == nil {
		stderr = io.Discard
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening for the authorization redirect on 127.0.0.1: %w", err)
	}
	c := *cfg
	c.RedirectURL = fmt.Sprintf("http://%s/", ln.Addr())

	state, err := randomState()
	if err != nil {
		ln.Close()
		return nil, err
	}
	verifier := oauth2.GenerateVerifier()
	authURL := c.AuthCodeURL(state, authOptions(verifier, opts.LoginHint)...)

	results := make(chan callbackResult, 1)
	cb := &callback{state: state, results: results}
	srv := &http.Server{Handler: cb, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer shutdown(srv)

	// The paste reader starts before the URL is shown, so that nothing the
	// user types is lost.
	pasting := openBrowserUnless(authURL, opts, stderr)
	if pasting && opts.Stdin != nil {
		go readPastedRedirects(opts.Stdin, cb, stderr, c.RedirectURL)
	}
	showAuthURL(authURL, c.RedirectURL, pasting, opts.Stdin != nil, stderr)

	code, err := waitForCode(ctx, results, opts.Timeout, c.RedirectURL)
	shutdown(srv)
	if err != nil {
		return nil, err
	}
	return exchange(ctx, &c, code, verifier)
}

// authOptions returns the authorization request parameters beyond
// client_id, redirect_uri, response_type, scope and state.
// include_granted_scopes is never sent: it would merge the account's other
// grants into this token.
func authOptions(verifier, loginHint string) []oauth2.AuthCodeOption {
	opts := []oauth2.AuthCodeOption{
		oauth2.S256ChallengeOption(verifier),
		// Installed-app clients always get a refresh token, but "web"
		// clients need access_type=offline for one.
		oauth2.AccessTypeOffline,
	}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return opts
}

// openBrowserUnless opens a browser unless opts.NoBrowser. It reports
// whether the user has to open the URL elsewhere, which is also the case
// when opening a browser failed.
func openBrowserUnless(authURL string, opts LoginOptions, stderr io.Writer) bool {
	if opts.NoBrowser {
		return true
	}
	open := opts.OpenBrowser
	if open == nil {
		open = openBrowser
	}
	if err := open(authURL); err != nil {
		fmt.Fprintf(stderr, "gmsync: opening a browser failed: %v\n", err)
		return true
	}
	return false
}

// showAuthURL prints the authorization URL on a line of its own, so that a
// terminal or a script can pick it out, and says what happens next.
func showAuthURL(authURL, redirectURL string, pasting, canPaste bool, stderr io.Writer) {
	if pasting {
		fmt.Fprintln(stderr, "Open this URL in a browser on any machine:")
	} else {
		fmt.Fprintln(stderr, "A browser should open to authorize gmsync. If none does, open this URL:")
	}
	fmt.Fprintln(stderr, authURL)
	if pasting && canPaste {
		fmt.Fprintf(stderr, "Waiting for the browser to return to %s. If it cannot load that address, copy the address from its address bar, paste it here and press Enter.\n", redirectURL)
	} else {
		fmt.Fprintf(stderr, "Waiting for the browser to return to %s\n", redirectURL)
	}
}

func waitForCode(ctx context.Context, results <-chan callbackResult, timeout time.Duration, redirectURL string) (string, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-results:
		return res.code, res.err
	case <-timer.C:
		return "", sysexits.Wrap(sysexits.TempFail, fmt.Errorf("timed out after %v waiting for the browser to return to %s: run the login again", timeout, redirectURL))
	case <-ctx.Done():
		return "", fmt.Errorf("waiting for the browser to return to %s: %w", redirectURL, ctx.Err())
	}
}

// exchange trades the authorization code for a token and checks what it
// grants.
func exchange(ctx context.Context, cfg *oauth2.Config, code, verifier string) (*oauth2.Token, error) {
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("exchanging the authorization code at %s: %w", cfg.Endpoint.TokenURL, classifyExchangeError(err))
	}
	if tok.RefreshToken == "" {
		return nil, sysexits.Wrap(sysexits.NoPerm, errors.New("the token endpoint returned no refresh token: use a \"Desktop app\" OAuth client, or remove gmsync's access at https://myaccount.google.com/permissions and run the login again"))
	}
	if err := checkScopes(grantedScopes(tok, cfg.Scopes), cfg.Scopes); err != nil {
		return nil, err
	}
	return tok, nil
}

// classifyExchangeError gives a failed code exchange its exit code: 75 for
// network and server failures, 77 otherwise.
func classifyExchangeError(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		return sysexits.Wrap(sysexits.NoPerm, err)
	}
	return sysexits.Wrap(sysexits.TempFail, err)
}

func shutdown(srv *http.Server) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if srv.Shutdown(ctx) != nil {
		srv.Close()
	}
}

// randomState returns 256 random bits, base64url-encoded.
func randomState() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating the OAuth state: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// openBrowser starts the desktop's URL handler without waiting for it.
func openBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		// Without a display, xdg-open may start a text browser in this
		// terminal, which cannot complete Google's sign-in.
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return errors.New("no graphical display (DISPLAY and WAYLAND_DISPLAY are unset)")
		}
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() // reap the child whenever it exits
	return nil
}
