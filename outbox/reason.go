package outbox

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"google.golang.org/api/googleapi"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/internal/sysexits"
)

// Reason is why an attempt failed, which decides what happens to the entry.
type Reason int

const (
	// ReasonTemporary is a temporary error or rate limit that Gmail
	// returned (5xx, 429, 403 rate reasons, "Mail sending" limits):
	// the entry waits with exponential backoff, or until the retry time
	// Gmail named.
	ReasonTemporary Reason = iota + 1
	// ReasonOffline is a request that never left: no network, a refused
	// connection, an unknown host. It costs Gmail nothing, so the entry is
	// due again at the next flush.
	ReasonOffline
	// ReasonInDoubt is a request that may have reached Gmail: the
	// connection broke or timed out after it was written, or the run was
	// interrupted. The next flush checks before sending again.
	ReasonInDoubt
	// ReasonAuth is a missing, revoked or refused grant: the entry waits
	// for `gmsync auth login`, with backoff.
	ReasonAuth
	// ReasonLocal is a local failure before any request, such as a keyring
	// that timed out or an invalid OAuth client: the entry is due
	// again at the next flush.
	ReasonLocal
	// ReasonRejected is a permanent error that Gmail returned: the entry
	// moves to failed/.
	ReasonRejected
)

func (r Reason) String() string {
	switch r {
	case ReasonTemporary:
		return "temporary"
	case ReasonOffline:
		return "offline"
	case ReasonInDoubt:
		return "in doubt"
	case ReasonAuth:
		return "auth"
	case ReasonLocal:
		return "local"
	case ReasonRejected:
		return "rejected"
	}
	return "unknown"
}

// classifyFailure decides what a failed send means for the entry, on top
// of gmailapi.Classify: only an error response from Gmail proves that the
// request arrived, and only a failure before the request left proves that
// it did not.
func classifyFailure(err error) Reason {
	var apiErr *googleapi.Error
	answered := errors.As(err, &apiErr)
	class := gmailapi.Classify(err)
	switch {
	case class == gmailapi.Auth:
		return ReasonAuth
	case answered && (class == gmailapi.Temporary || class == gmailapi.RateLimited):
		return ReasonTemporary
	case answered && apiErr.Code == http.StatusForbidden:
		// A scope the grant lacks, a project's daily cap or a domain
		// policy: none is the message's fault, so it stays queued.
		return ReasonAuth
	case answered:
		return ReasonRejected
	case sysexits.Code(err) != sysexits.Software:
		// The token source or keyring attached a code: nothing was sent.
		return ReasonLocal
	case neverSent(err):
		return ReasonOffline
	case class == gmailapi.Temporary || errors.Is(err, context.Canceled):
		return ReasonInDoubt
	}
	return ReasonLocal
}

// neverSent reports whether err arose while connecting, before any byte
// of the request was written.
func neverSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr)
}

// invalidThread reports whether Gmail refused the threadId of a send, which
// it does before sending anything: 400 "Invalid thread_id value", or 404
// for a thread it does not find (both observed by third parties).
func invalidThread(err error) bool {
	var apiErr *googleapi.Error
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.Code == http.StatusNotFound ||
		(apiErr.Code == http.StatusBadRequest && strings.Contains(strings.ToLower(apiErr.Message), "thread"))
}
