// Package auth gets, stores and refreshes gmsync's OAuth2 grants.
//
// Each account holds one grant per Purpose, each with the narrowest Gmail
// scope for its job, so the token behind sendmail cannot read mail and the
// token behind sync cannot send. Login runs the installed-app flow with a
// loopback redirect on 127.0.0.1, PKCE S256 and a checked state. Import
// proves a refresh token that the user already has. Grants live in the system keyring through
// a Store, never in a plaintext file, and TokenSource caches access tokens in
// the same keyring entry so a send does not refresh every time.
//
// Stores and token sources are safe for concurrent use within one process.
// Two processes that refresh the same grant at once both succeed and the
// later keyring write wins. That loses nothing, because both access tokens
// stay valid and Google's refresh responses carry no new refresh token.
package auth
