// Package emulator is a local Gmail API and Google OAuth 2.0 server for
// tests and demos. It listens on a loopback address and is reached through
// the official google.golang.org/api/gmail/v1 client and golang.org/x/oauth2,
// exactly as gmsync reaches Google.
//
// The emulator is a test instrument: it copies Gmail's wire format, error
// bodies, scope checks and history semantics even where a laxer server would
// be easier for a client. Each rule names its public source in a comment.
//
// Concurrency: one mutex in Server guards every mailbox, grant and counter,
// so handlers, seeding functions and the admin API may run concurrently.
// Mailbox state lives in memory only and is lost on Close.
package emulator
