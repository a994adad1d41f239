// Package gmailapi is gmsync's thin layer over google.golang.org/api/gmail/v1:
// it builds the service against Google or the emulator, classifies Gmail
// errors once (temporary, rate-limited, auth, permanent), retries what is
// safe to retry with jittered exponential backoff, and fetches raw messages
// concurrently under a limiter counted in Gmail quota units.
//
// The official client neither retries ordinary calls nor batches them
// (google.golang.org/api v0.316.0, internal/gensupport/send.go), so both
// concerns live here. Callers above this package (historysync, the send
// command) decide what a classified failure means for them.
//
// Every exported function is safe for concurrent use unless its doc says
// otherwise.
package gmailapi
