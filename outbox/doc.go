// Package outbox is the durable send queue of one Gmail account. A message
// that `gmsync send` accepts is written here before any network call. It
// leaves only once Gmail has accepted it, a permanent rejection has moved it
// to failed/, or the user drops it.
//
// # Layout
//
// The queue of account A lives in $XDG_STATE_HOME/gmsync/A/outbox/. Each
// message is two files named by a sequence number: NNNNNNNNNN.eml holds the
// prepared message bytes and never changes, and NNNNNNNNNN.json holds the
// metadata (recipients, Message-ID, state, attempts, next attempt, last
// error). The sequence number orders the queue, first in, first out.
// failed/ holds messages Gmail rejected or that passed the maximum age, in
// the same form. flush.lock is the file lock of Locked.
//
// # Durability
//
// Every file is written to a temporary file in its destination directory,
// fsynced, closed, moved into place (by link for a new message, so two
// processes never take the same number, and by rename otherwise), and the
// directory is fsynced. Files are mode 0600, directories 0700.
//
//   - Add is durable when it returns: both files and the directory entry are
//     on disk. The .json file is written last, so a crash inside Add leaves
//     at most an .eml file without metadata, which no flush sends and a
//     later flush removes once it is an hour old.
//   - Before each send request the entry is marked "sending" durably. A
//     flush that finds an entry still "sending" concludes that the earlier
//     process died or lost its connection while Gmail may have accepted the
//     message, and marks it "in-doubt".
//   - After Gmail accepts a message, its Message-ID and thread id are
//     recorded in the thread index (package threadindex), then the entry is
//     removed. A crash between the two leaves an entry that the next flush
//     finds in the index and drops as sent.
//
// # What runs once
//
// Gmail's messages.send is not idempotent, so gmsync cannot promise exactly
// once. It promises this: a message is sent at least once unless it is
// dropped or moved to failed/; it is sent once unless a send was in doubt
// and could not be checked; and every resend of an in-doubt message is
// reported as a possible duplicate, on standard error and by queue list,
// never silently. An in-doubt message is checked against the thread index
// (which sync fills with the Message-IDs of the mirror and send fills with
// those it sent) and, where a read grant exists, by an rfc822msgid: search.
//
// Add, List, Read and ReadFailed need no lock and are safe to call from
// several processes at once. Flush, Drop, Retry and Remove change entries
// and need the Locked value from Queue.Lock, a file lock shared between
// processes, so two flushes never send the same message. Drop, Retry and
// Remove are idempotent on a missing entry only in that they report
// ErrNotFound.
package outbox
