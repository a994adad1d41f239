// Package auth gets, stores, refreshes and revokes gmsync's OAuth2 grants.
//
// Each account holds one grant per Purpose, each with the narrowest Gmail
// scope for its job, so the token behind sendmail cannot read mail and the
// token behind sync cannot send. Login runs the installed-app flow with a
// loopback redirect on 127.0.0.1, PKCE S256 and a checked state. Import
// proves a refresh token that the user already has. Grants live in a Store:
// the system keyring (KeyringStore) or a password manager driven by
// commands (CommandStore), never a plaintext file. TokenSource caches access
// tokens in the same entry so a send does not refresh every time.
//
// Stores and token sources are safe for concurrent use within one process.
// Between processes, a file lock in the account's state directory
// serializes refresh-and-store of each grant, so two processes that find an
// expired access token refresh once and the keyring entry is written whole
// by one of them at a time.
package auth
