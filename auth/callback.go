package auth

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// callbackResult is the outcome of the one redirect a login accepts.
type callbackResult struct {
	code string
	err  error
}

// callback accepts the first redirect that carries code, error or state,
// from the loopback listener or pasted on standard input, and ignores the
// rest.
type callback struct {
	state   string
	results chan<- callbackResult // buffered, capacity 1

	mu   sync.Mutex
	done bool
}

// isRedirect reports whether q looks like an authorization response.
func isRedirect(q url.Values) bool {
	return q.Has("code") || q.Has("error") || q.Has("state")
}

// accept checks one authorization response. It returns false when an
// earlier one was already accepted.
func (c *callback) accept(q url.Values) (callbackResult, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return callbackResult{}, false
	}
	c.done = true

	res := c.check(q)
	c.results <- res
	return res, true
}

func (c *callback) check(q url.Values) callbackResult {
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(c.state)) != 1 {
		return callbackResult{err: sysexits.Wrap(sysexits.NoPerm, errors.New("the redirect carried a state that does not belong to this login, so it may come from an older login or another site: run the login again"))}
	}
	if e := q.Get("error"); e != "" {
		return callbackResult{err: redirectError(e, q.Get("error_description"))}
	}
	if q.Get("code") == "" {
		return callbackResult{err: sysexits.Wrap(sysexits.NoPerm, errors.New("the redirect carried neither an authorization code nor an error: run the login again"))}
	}
	return callbackResult{code: q.Get("code")}
}

// redirectError explains an error parameter of the authorization response
// (RFC 6749 §4.1.2.1).
func redirectError(code, description string) error {
	detail := code
	if description != "" {
		detail = fmt.Sprintf("%s: %s", code, description)
	}
	var advice string
	switch code {
	case "access_denied":
		advice = "access was denied on the consent screen; run the login again and allow access. " +
			"If the project is in \"Testing\" status, add this Google account as a test user in the Google Cloud console"
	case "invalid_scope":
		advice = "the authorization server does not offer the requested scope; enable the Gmail API for the Cloud project"
	case "unauthorized_client", "invalid_request":
		advice = "the OAuth client may not be a \"Desktop app\" client; download a Desktop app client's JSON"
	default:
		advice = "run the login again"
	}
	return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("authorization failed (%s): %s", detail, advice))
}

// ServeHTTP answers the browser's redirect with a page that sends the user
// back to the terminal.
func (c *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.URL.Path != "/" || !isRedirect(q) {
		http.NotFound(w, r)
		return
	}
	res, ok := c.accept(q)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	switch {
	case !ok:
		w.WriteHeader(http.StatusConflict)
		fmt.Fprint(w, page("gmsync already received an authorization response. Return to the terminal."))
	case res.err != nil:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, page("gmsync: "+res.err.Error()+". Return to the terminal."))
	default:
		fmt.Fprint(w, page("gmsync received the authorization. Close this tab and return to the terminal."))
	}
}

func page(message string) string {
	return "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>gmsync</title></head><body><p>" +
		html.EscapeString(message) + "</p></body></html>\n"
}

// readPastedRedirects reads lines from in until one is an authorization
// response that accept takes. A browser on another machine cannot reach
// this host's 127.0.0.1, so the user pastes the address it failed to load.
func readPastedRedirects(in io.Reader, c *callback, stderr io.Writer, redirectURL string) {
	scanner := bufio.NewScanner(in)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		u, err := url.Parse(line)
		if err != nil || !isRedirect(u.Query()) {
			fmt.Fprintf(stderr, "gmsync: that is not the redirect address; paste the whole address that starts with %s\n", redirectURL)
			continue
		}
		if _, ok := c.accept(u.Query()); ok {
			return
		}
	}
}
