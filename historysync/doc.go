// Package historysync mirrors a Gmail account into a Maildir: a full sync
// that lists every message and fetches only those not yet stored, and (once
// a historyId is stored) incremental sync through users.history.list.
//
// It composes gmailapi (the API) and maildir (the files) and owns the sync
// state. One Engine runs at a time per account; the caller holds the
// account's lock. The order of writes is what makes a crash harmless: a
// message's files are durable before its state record is committed, and
// the historyId advances only after everything it covers is committed.
package historysync
