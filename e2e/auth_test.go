package e2e

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// gmailAs returns a Gmail client that uses one access token as is.
func gmailAs(t *testing.T, w *world, accessToken string) *gmail.Service {
	t.Helper()
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: accessToken, TokenType: "Bearer"})
	svc, err := gmail.NewService(context.Background(), option.WithEndpoint(w.url), option.WithTokenSource(ts))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// encodeRaw encodes a message for the Gmail API's raw field.
func encodeRaw(message string) string {
	return base64.URLEncoding.EncodeToString([]byte(message))
}

// apiStatus returns the HTTP status of a Gmail call's error, or 200.
func apiStatus(err error) int {
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) {
		return apiErr.Code
	}
	if err != nil {
		return -1
	}
	return http.StatusOK
}

func TestAuthTwoAccounts(t *testing.T) {
	w := newWorld(t, "alice@example.com", "--user", "bob@example.com")
	w.scanSecretsAtEnd()
	alice, bob := w.account+"-alice", w.account+"-bob"
	w.writeAccounts(authAccount{name: alice, address: "alice@example.com"}, authAccount{name: bob, address: "bob@example.com"})
	w.mustLoginAs(alice, "send,sync")
	w.mustLoginAs(bob, "send,sync")

	raw := "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: scope check\r\n\r\nhi\r\n"
	for _, acct := range []struct{ name, address string }{{alice, "alice@example.com"}, {bob, "bob@example.com"}} {
		send := gmailAs(t, w, w.accessToken(acct.name, "send"))
		sync := gmailAs(t, w, w.accessToken(acct.name, "sync"))

		_, err := send.Users.Messages.Send("me", &gmail.Message{Raw: encodeRaw(raw)}).Do()
		if got := apiStatus(err); got != http.StatusOK {
			t.Errorf("%s: messages.send with the send token = %v, want success", acct.name, err)
		}
		_, err = send.Users.Messages.List("me").Do()
		if got := apiStatus(err); got != http.StatusForbidden {
			t.Errorf("%s: messages.list with the send token = %d, want 403", acct.name, got)
		}
		profile, err := sync.Users.GetProfile("me").Do()
		if err != nil || profile.EmailAddress != acct.address {
			t.Errorf("%s: getProfile with the sync token = %v, %v, want %s", acct.name, profile, err, acct.address)
		}
		_, err = sync.Users.Messages.Send("me", &gmail.Message{Raw: encodeRaw(raw)}).Do()
		if got := apiStatus(err); got != http.StatusForbidden {
			t.Errorf("%s: messages.send with the sync token = %d, want 403", acct.name, got)
		}
		_, err = sync.Users.Messages.Trash("me", "1").Do()
		if got := apiStatus(err); got != http.StatusForbidden {
			t.Errorf("%s: messages.trash with the read-only sync token = %d, want 403", acct.name, got)
		}
	}

	status := w.mustGmsync(nil, "auth", "status")
	for _, acct := range []string{alice, bob} {
		for _, p := range []string{"send", "sync"} {
			if !strings.Contains(status.stdout, acct+"  ") || !strings.Contains(status.stdout, p) {
				t.Errorf("auth status does not list %s %s:\n%s", acct, p, status.stdout)
			}
		}
	}
	if got := strings.Count(status.stdout, " stored "); got != 4 {
		t.Errorf("auth status lists %d stored grants, want 4:\n%s", got, status.stdout)
	}

	aliceSync := w.accessToken(alice, "sync")
	res := w.gmsync(nil, "auth", "logout", "--account", alice)
	if res.code != 0 || !strings.Contains(res.stderr, "revoked the send grant of account "+alice) {
		t.Fatalf("gmsync auth logout --account %s = exit %d, want 0 and a revocation:\n%s", alice, res.code, res.stderr)
	}
	if _, err := gmailAs(t, w, aliceSync).Users.GetProfile("me").Do(); apiStatus(err) != http.StatusUnauthorized {
		t.Errorf("alice's sync access token after logout: %v, want 401 (revoked at the emulator)", err)
	}
	users := keyringUsers(t)
	for _, p := range []string{"send", "sync"} {
		if slices.Contains(users, alice+":"+p) {
			t.Errorf("secret-tool search finds %s:%s after logout: %v", alice, p, users)
		}
		if !slices.Contains(users, bob+":"+p) {
			t.Errorf("secret-tool search lacks %s:%s, which logout of %s must keep: %v", bob, p, alice, users)
		}
	}
	if _, err := gmailAs(t, w, w.accessToken(bob, "sync")).Users.GetProfile("me").Do(); err != nil {
		t.Errorf("bob's sync grant after alice's logout: %v, want it working", err)
	}
}

func TestAuthLifetimes(t *testing.T) {
	message := []byte("To: bob@example.org\nSubject: hi\n\nhello\n")
	tests := []struct {
		name     string
		endGrant func(w *world)
	}{
		{"revoked", func(w *world) {
			w.admin("POST", "grants/revoke-all", nil, nil)
		}},
		{"testing expiry", func(w *world) {
			w.admin("POST", "oauth/testing-expiry", map[string]int{"days": 7}, nil)
			w.admin("POST", "clock", map[string]string{"advance": "169h"}, nil)
		}},
		{"password change", func(w *world) {
			w.admin("POST", "oauth/password-change", map[string]string{"user": w.address}, nil)
		}},
		{"refresh token limit", func(w *world) {
			w.mintGrants(w.address, 100)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWorld(t, "alice@example.com")
			w.scanSecretsAtEnd()
			w.mustLoginAs(w.account, "send")
			w.mustGmsync(message, "send", "-t")

			tt.endGrant(w)
			w.admin("POST", "oauth/expire-access-tokens", nil, nil)
			res := w.gmsync(message, "send", "-t", "--no-queue")
			wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for send")
			for _, cause := range []string{"no longer valid", "revoked", "password change", "100 per client", "Testing"} {
				if !strings.Contains(res.stderr, cause) {
					t.Errorf("send after %s: stderr does not mention %q:\n%s", tt.name, cause, res.stderr)
				}
			}
			if n := len(w.sent()); n != 1 {
				t.Errorf("emulator sent %d messages, want only the one before the grant ended", n)
			}
		})
	}

	t.Run("merged wider grant", func(t *testing.T) {
		w := newWorld(t, "alice@example.com")
		w.scanSecretsAtEnd()
		w.mustLoginAs(w.account, "send")
		w.admin("POST", "oauth/merge-grants", map[string]bool{"enabled": true}, nil)
		res := w.loginAs(w.account, "sync")
		wantExit(t, res, 77, "carries gmail.send in addition to the gmail.readonly")
		if !strings.Contains(res.stderr, "https://myaccount.google.com/permissions") || !strings.Contains(res.stderr, "gmsync auth logout") {
			t.Errorf("refused merged grant: stderr does not say how to revoke it:\n%s", res.stderr)
		}
		if slices.Contains(keyringUsers(t), w.account+":sync") {
			t.Errorf("the merged grant was stored as %s:sync", w.account)
		}
	})
}

func TestAuthLoginWrongState(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.scanSecretsAtEnd()
	var pages []int
	res := w.loginWith(w.account, "send", func(authURL string) {
		redirect := authorizeAt(t, authURL)
		forged := *redirect
		q := forged.Query()
		q.Set("state", "forged-state")
		forged.RawQuery = q.Encode()
		pages = append(pages, getStatus(t, forged.String()), getStatus(t, redirect.String()))
	})
	wantExit(t, res, 77, "state that does not belong to this login")
	if len(pages) != 2 || pages[0] != http.StatusBadRequest || pages[1] == http.StatusOK {
		t.Errorf("callback statuses = %v, want 400 for the forged state and no 200 for the genuine one after it", pages)
	}
	if slices.Contains(keyringUsers(t), w.account+":send") {
		t.Errorf("a grant was stored after a login with a forged state")
	}
}

func TestAuthLoginPKCE(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.scanSecretsAtEnd()
	var stolenStatus string
	res := w.loginWith(w.account, "send", func(authURL string) {
		redirect := authorizeAt(t, authURL)
		// A program that intercepts the redirect cannot redeem the code
		// without gmsync's code_verifier.
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {redirect.Query().Get("code")},
			"redirect_uri": {strings.TrimSuffix(redirect.String(), "?"+redirect.RawQuery)},
			"client_id":    {"gmsync-emulator.apps.googleusercontent.com"}, "client_secret": {"GOCSPX-emulator-secret"},
		}
		for _, verifier := range []string{"", strings.Repeat("x", 43)} {
			if verifier != "" {
				form.Set("code_verifier", verifier)
			}
			resp, err := http.PostForm(w.url+"token", form)
			if err != nil {
				t.Errorf("stolen code exchange: %v", err)
				continue
			}
			resp.Body.Close()
			stolenStatus += strconv.Itoa(resp.StatusCode) + " "
		}
		getStatus(t, redirect.String())
	})
	if res.code != 0 {
		t.Fatalf("gmsync auth login after the failed thefts = exit %d, want 0:\n%s", res.code, res.stderr)
	}
	if stolenStatus != "400 400 " {
		t.Errorf("code exchanges without and with a wrong verifier = %q, want 400 400", stolenStatus)
	}
}

func TestAuthLoginListenerLoopbackOnly(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.scanSecretsAtEnd()
	var reachable []string
	res := w.loginWith(w.account, "send", func(authURL string) {
		redirect := authorizeAt(t, authURL)
		if redirect.Hostname() != "127.0.0.1" {
			t.Errorf("redirect host = %s, want 127.0.0.1", redirect.Hostname())
		}
		port := redirect.Port()
		for _, host := range localAddresses(t) {
			conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, port), time.Second)
			if err == nil {
				conn.Close()
				reachable = append(reachable, host)
			}
		}
		getStatus(t, redirect.String())
	})
	if res.code != 0 {
		t.Fatalf("gmsync auth login = exit %d:\n%s", res.code, res.stderr)
	}
	if len(reachable) > 0 {
		t.Errorf("the login listener accepted connections on %v, want 127.0.0.1 only", reachable)
	}
}

func TestAuthLoginTimeout(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.scanSecretsAtEnd()
	var redirectURL string
	res := w.loginWith(w.account, "send", func(authURL string) {
		u, _ := url.Parse(authURL)
		redirectURL = u.Query().Get("redirect_uri")
	}, "--timeout", "1s")
	wantExit(t, res, 75, "timed out after 1s")
	if redirectURL == "" {
		t.Fatal("gmsync printed no authorization URL")
	}
	if resp, err := http.Get(redirectURL); err == nil {
		resp.Body.Close()
		t.Errorf("GET %s after the timeout = %s, want the listener closed", redirectURL, resp.Status)
	}
}

func TestAuthCommandBackendPass(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	backend, argvLog := w.passBackend()
	w.scanSecretsAtEnd(argvLog)
	w.writeAccounts(authAccount{name: w.account, address: w.address, extra: backend})

	w.mustLoginAs(w.account, "send,sync")
	w.mustGmsync([]byte("To: bob@example.org\nSubject: via pass\n\nhello\n"), "send", "-t")
	if n := len(w.sent()); n != 1 {
		t.Errorf("emulator sent %d messages, want 1", n)
	}
	if _, err := gmailAs(t, w, w.accessToken(w.account, "sync")).Users.GetProfile("me").Do(); err != nil {
		t.Errorf("getProfile with the sync token from pass: %v", err)
	}
	status := w.mustGmsync(nil, "auth", "status")
	if strings.Count(status.stdout, " command ") != 2 || strings.Count(status.stdout, " stored ") != 2 {
		t.Errorf("auth status with the pass backend:\n%s\nwant two stored grants on backend command", status.stdout)
	}
	for _, u := range keyringUsers(t) {
		if strings.HasPrefix(u, w.account+":") {
			t.Errorf("the Secret Service holds %s, want the grants in pass only", u)
		}
	}
	list := w.run(nil, "pass", "ls", "gmsync/"+w.account)
	if !strings.Contains(list.stdout, "send") || !strings.Contains(list.stdout, "sync") {
		t.Errorf("pass ls gmsync/%s = %q, want send and sync entries", w.account, list.stdout)
	}

	w.mustGmsync(nil, "auth", "logout", "--account", w.account)
	list = w.run(nil, "pass", "ls")
	if strings.Contains(list.stdout, w.account) {
		t.Errorf("pass ls after logout = %q, want no entry of %s", list.stdout, w.account)
	}
	res := w.gmsync(nil, "auth", "token", "--account", w.account, "--for", "send")
	wantExit(t, res, 77, "gmsync auth login --account "+w.account+" --for send")
}

// authorizeAt requests authURL at the emulator without following the
// redirect, and returns the loopback address the browser would go to.
func authorizeAt(t *testing.T, authURL string) *url.URL {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(authURL)
	if err != nil {
		t.Fatalf("GET %s: %v", authURL, err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("authorization endpoint = %s without a redirect", resp.Status)
	}
	return loc
}

// getStatus requests u and returns the status, or 0 when nothing responded.
func getStatus(t *testing.T, u string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// localAddresses returns this host's own addresses other than 127.0.0.1:
// ::1, other 127/8 addresses and every interface address.
func localAddresses(t *testing.T) []string {
	t.Helper()
	hosts := []string{"::1", "127.0.0.2"}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok || ipnet.IP.IsLoopback() || ipnet.IP.IsLinkLocalUnicast() {
			continue
		}
		hosts = append(hosts, ipnet.IP.String())
	}
	return hosts
}
