// Package gmailapi is gmsync's thin layer over google.golang.org/api/gmail/v1.
// It builds the service against Google or the emulator, classifies Gmail
// errors once (temporary, rate-limited, auth, permanent), and retries what
// is safe to retry with jittered exponential backoff.
//
// Every call of a Client passes its Meter, which paces one user's calls
// under Gmail's per-minute quota, counted in quota units, and adapts to
// rate-limit errors. FetchRaw fetches raw messages concurrently and adapts
// the number of requests in flight to Gmail's per-user concurrency limit.
//
// The official client neither retries ordinary calls nor batches them
// (google.golang.org/api v0.316.0, internal/gensupport/send.go), so both
// concerns live here. Callers above this package (historysync, the send
// command) decide what a classified failure means for them.
//
// Every exported function is safe for concurrent use unless its doc says
// otherwise.
package gmailapi
