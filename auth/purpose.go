package auth

import "fmt"

// Purpose names what a grant is for. Each purpose has its own refresh token.
type Purpose string

// Purposes.
const (
	Send Purpose = "send" // sending mail: scope gmail.send
	Sync Purpose = "sync" // mirroring mail: scope gmail.readonly
)

// Purposes lists every purpose in display order.
var Purposes = []Purpose{Send, Sync}

// Gmail scopes that gmsync requests. gmail.metadata is never requested,
// because Gmail then refuses format=raw and q even alongside broader scopes.
const (
	ScopeSend     = "https://www.googleapis.com/auth/gmail.send"
	ScopeReadonly = "https://www.googleapis.com/auth/gmail.readonly"
)

// Scopes returns the OAuth2 scopes that p requests.
func (p Purpose) Scopes() []string {
	switch p {
	case Send:
		return []string{ScopeSend}
	case Sync:
		return []string{ScopeReadonly}
	}
	return nil
}

// ParsePurpose returns the Purpose called s ("send" or "sync").
func ParsePurpose(s string) (Purpose, error) {
	switch p := Purpose(s); p {
	case Send, Sync:
		return p, nil
	}
	return "", fmt.Errorf("invalid purpose %q: use send or sync", s)
}
