package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
)

// keyringGrant reads the grant gmsync stored for account and purpose
// straight from the Secret Service, the way another program of the same
// user could.
func keyringGrant(t *testing.T, w *world, purpose string) map[string]any {
	t.Helper()
	out, err := exec.Command("secret-tool", "lookup", "service", "gmsync", "username", w.account+":"+purpose).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup of the %s grant: %v", purpose, err)
	}
	var grant map[string]any
	if err := json.Unmarshal(out, &grant); err != nil {
		t.Fatalf("keyring entry for %s is not a JSON grant: %v", purpose, err)
	}
	return grant
}

func TestSendTokenCannotReadMail(t *testing.T) {
	w := newWorld(t, "alice@example.com")
	w.seed([]byte("From: bob@example.org\nTo: alice@example.com\nSubject: secret\n\nprivate text\n"), []string{"INBOX"}, time.Now())
	w.login("send")
	w.mustGmsync([]byte("To: bob@example.org\nSubject: hi\n\nhello\n"), "send", "-t")

	grant := keyringGrant(t, w, "send")
	access, _ := grant["access_token"].(string)
	if access == "" {
		t.Fatalf("the send grant caches no access token after a send; keys: %v", keysOf(grant))
	}
	ts := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access, TokenType: "Bearer"})
	svc, err := gmail.NewService(context.Background(), option.WithEndpoint(w.url), option.WithTokenSource(ts))
	if err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"getProfile":    func() error { _, err := svc.Users.GetProfile("me").Do(); return err },
		"messages.list": func() error { _, err := svc.Users.Messages.List("me").Do(); return err },
		"labels.list":   func() error { _, err := svc.Users.Labels.List("me").Do(); return err },
		"history.list":  func() error { _, err := svc.Users.History.List("me").StartHistoryId(1).Do(); return err },
	}
	for name, call := range calls {
		var apiErr *googleapi.Error
		err := call()
		if !errors.As(err, &apiErr) || apiErr.Code != http.StatusForbidden {
			t.Errorf("%s with the send token: err = %v, want 403 insufficient scopes", name, err)
			continue
		}
		if len(apiErr.Errors) == 0 || apiErr.Errors[0].Reason != "insufficientPermissions" {
			t.Errorf("%s with the send token: reasons %v, want insufficientPermissions", name, apiErr.Errors)
		}
	}
	if scopes, _ := json.Marshal(grant["scopes"]); !bytes.Contains(scopes, []byte("gmail.send")) || bytes.Contains(scopes, []byte("readonly")) {
		t.Errorf("send grant scopes = %s, want only gmail.send", scopes)
	}
}

func TestNoTokenOnDisk(t *testing.T) {
	w := newWorld(t, "alice@example.com", "--demo")
	w.login("sync")
	w.login("send")
	w.mustGmsync(nil, "sync")
	w.mustGmsync([]byte("To: bob@example.org\nSubject: hi\n\nhello\n"), "send", "-t")
	w.mustGmsync(nil, "auth", "status")

	var issued struct {
		Tokens []string `json:"tokens"`
	}
	w.admin("GET", "tokens", nil, &issued)
	if len(issued.Tokens) < 4 {
		t.Fatalf("emulator issued %d tokens, want at least 4 (an access and a refresh token per grant)", len(issued.Tokens))
	}
	roots := []string{w.dir, os.Getenv("HOME")}
	scanned := 0
	for _, root := range roots {
		filepath.WalkDir(root, func(path string, entry os.DirEntry, err error) error {
			if err != nil || entry.IsDir() || !entry.Type().IsRegular() {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return nil
			}
			scanned++
			for _, token := range issued.Tokens {
				if bytes.Contains(data, []byte(token)) {
					t.Errorf("token %s...%s found in plaintext in %s", token[:8], token[len(token)-4:], path)
				}
			}
			return nil
		})
	}
	t.Logf("scanned %d files under %s for %d token strings", scanned, strings.Join(roots, " and "), len(issued.Tokens))
}

func keysOf(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
