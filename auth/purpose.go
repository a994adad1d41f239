package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Purpose names what a grant is for. Each purpose has its own refresh token
// and its own keyring entry.
type Purpose string

// Purposes.
const (
	Send Purpose = "send" // sending mail: scope gmail.send
	Sync Purpose = "sync" // mirroring mail: gmail.readonly, or gmail.modify with push
)

// Purposes lists every purpose in display order.
var Purposes = []Purpose{Send, Sync}

// Gmail scopes that gmsync requests. gmail.metadata is never requested,
// because Gmail then refuses format=raw and q even alongside broader scopes.
const (
	ScopeSend     = "https://www.googleapis.com/auth/gmail.send"
	ScopeReadonly = "https://www.googleapis.com/auth/gmail.readonly"
	ScopeModify   = "https://www.googleapis.com/auth/gmail.modify"
)

// Scopes returns the OAuth2 scopes that p requests when the account does
// not push local changes back.
func (p Purpose) Scopes() []string { return p.ScopesFor(false) }

// ScopesFor returns the OAuth2 scopes that p requests. With push, sync asks
// for gmail.modify, which also reads, so the sync grant carries one scope
// either way.
func (p Purpose) ScopesFor(push bool) []string {
	switch {
	case p == Send:
		return []string{ScopeSend}
	case p == Sync && push:
		return []string{ScopeModify}
	case p == Sync:
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

// ParsePurposes returns the purposes in a comma-separated list such as
// "send,sync", without duplicates, in the order given.
func ParsePurposes(s string) ([]Purpose, error) {
	var out []Purpose
	for _, word := range strings.Split(s, ",") {
		p, err := ParsePurpose(strings.TrimSpace(word))
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// shortScope drops the common prefix of Google's scope URLs, so
// "https://www.googleapis.com/auth/gmail.send" reads "gmail.send".
func shortScope(s string) string {
	return strings.TrimPrefix(s, "https://www.googleapis.com/auth/")
}

// ShortScopes returns scopes as a comma-separated list of short names, or
// "-" for none.
func ShortScopes(scopes []string) string {
	if len(scopes) == 0 {
		return "-"
	}
	short := make([]string, len(scopes))
	for i, s := range scopes {
		short[i] = shortScope(s)
	}
	return strings.Join(short, ",")
}
