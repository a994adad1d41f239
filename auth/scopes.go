package auth

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// PermissionsURL is the Google Account page where a user removes an app's
// access, which revokes every grant of its OAuth client.
const PermissionsURL = "https://myaccount.google.com/permissions"

// grantedScopes returns the scopes in a token response's "scope" field. A
// response without the field granted what was requested (RFC 6749 §5.1).
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return slices.Clone(requested)
	}
	return strings.Fields(s)
}

// ScopeError reports a grant whose scopes differ from the ones requested.
// Errors that wrap it carry exit code 77.
type ScopeError struct {
	Requested []string
	Extra     []string // granted but not requested
	Missing   []string // requested but not granted
}

func (e *ScopeError) Error() string {
	extra, missing := ShortScopes(e.Extra), ShortScopes(e.Missing)
	switch {
	case len(e.Extra) > 0 && len(e.Missing) > 0:
		return fmt.Sprintf("the grant carries %s instead of %s: the token was made for another purpose; run gmsync auth login for this purpose", extra, missing)
	case len(e.Extra) > 0:
		return fmt.Sprintf("the grant carries %s in addition to the %s this purpose needs "+
			"(Google can merge an earlier grant of the same OAuth client into a new one). "+
			"gmsync keeps each token to one purpose's scope, so it stored nothing. "+
			"To end the broader grant, remove gmsync's access at %s or run gmsync auth logout; "+
			"either ends every grant of this OAuth client for the account, so log in again for each purpose afterwards",
			extra, ShortScopes(e.Requested), PermissionsURL)
	default:
		return fmt.Sprintf("the grant lacks %s, which the consent screen lets the user untick: run the login again and allow that permission", missing)
	}
}

// checkScopes rejects a grant broader than requested, because gmsync keeps
// each token to the narrowest scope for its purpose, and a grant narrower
// than requested, because Google's consent screen lets the user untick a
// scope.
func checkScopes(granted, requested []string) error {
	e := ScopeError{Requested: requested}
	for _, s := range granted {
		if !slices.Contains(requested, s) {
			e.Extra = append(e.Extra, s)
		}
	}
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			e.Missing = append(e.Missing, s)
		}
	}
	if len(e.Extra) == 0 && len(e.Missing) == 0 {
		return nil
	}
	return sysexits.Wrap(sysexits.NoPerm, &e)
}
