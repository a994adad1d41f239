package auth

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/gmsync/gmsync/internal/sysexits"
)

// grantedScopes returns the scopes in a token response's "scope" field. A
// response without the field granted what was requested (RFC 6749 §5.1).
func grantedScopes(tok *oauth2.Token, requested []string) []string {
	s, _ := tok.Extra("scope").(string)
	if s == "" {
		return slices.Clone(requested)
	}
	return strings.Fields(s)
}

// checkScopes rejects a grant broader than requested, because gmsync keeps
// each token to the narrowest scope for its purpose, and a grant narrower
// than requested, because Google's consent screen lets the user untick a
// scope.
func checkScopes(granted, requested []string) error {
	var extra, missing []string
	for _, s := range granted {
		if !slices.Contains(requested, s) {
			extra = append(extra, s)
		}
	}
	for _, s := range requested {
		if !slices.Contains(granted, s) {
			missing = append(missing, s)
		}
	}
	switch {
	case len(extra) > 0 && len(missing) > 0:
		return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the grant carries %s instead of the %s this purpose needs: was the token made for the other purpose? Run gmsync auth login for this purpose", strings.Join(extra, " "), strings.Join(missing, " ")))
	case len(extra) > 0:
		return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the grant carries %s beyond the %s it needs: make a grant for this purpose alone with gmsync auth login, and remove the broader one at https://myaccount.google.com/permissions", strings.Join(extra, " "), strings.Join(requested, " ")))
	case len(missing) > 0:
		return sysexits.Wrap(sysexits.NoPerm, fmt.Errorf("the grant lacks scope %s: run the login again and tick the Gmail permission on the consent screen", strings.Join(missing, " ")))
	}
	return nil
}
