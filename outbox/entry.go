package outbox

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is the delivery state of an entry.
type State string

const (
	// Queued entries wait for their next attempt.
	Queued State = "queued"
	// Sending is written durably right before a send request. A flush that
	// finds it concludes that an earlier attempt was cut off.
	Sending State = "sending"
	// InDoubt entries may have reached Gmail: the process died or the
	// connection dropped after the request was written. The next flush
	// looks for the Message-ID before sending again.
	InDoubt State = "in-doubt"
	// Failed entries are in failed/: Gmail rejected them, or they passed
	// the maximum age. Only Retry sends them again.
	Failed State = "failed"
)

// Meta is the metadata of a queued message, stored as JSON beside it.
type Meta struct {
	Account string `json:"account"`
	// Recipients are the addresses Gmail sends to (To, Cc and Bcc after
	// Prepare), for listing only: Gmail takes them from the message.
	Recipients []string `json:"recipients"`
	// MessageID is the message's Message-ID without angle brackets.
	MessageID string `json:"messageId"`
	Subject   string `json:"subject,omitempty"`
	// Parents are the Message-IDs the message replies to, In-Reply-To
	// first, then References from the newest; they select its thread.
	Parents []string `json:"parents,omitempty"`
	// ThreadHint is a thread id known when the message was queued; a thread
	// found at send time wins over it.
	ThreadHint string `json:"threadHint,omitempty"`
	Size       int    `json:"size"`

	State State `json:"state"`
	// Queued is when the message entered the outbox; the maximum age counts
	// from it.
	Queued      time.Time `json:"queued"`
	Attempts    int       `json:"attempts"`
	NextAttempt time.Time `json:"nextAttempt"`
	LastError   string    `json:"lastError,omitempty"`
	// PossibleDuplicate is set when an in-doubt message is sent again
	// without proof that the earlier attempt failed.
	PossibleDuplicate bool `json:"possibleDuplicate,omitempty"`
}

// Entry is one message of the queue or of failed/.
type Entry struct {
	// ID is the sequence number in decimal, as users type it ("42").
	ID  string
	seq uint64
	Meta
}

// ErrNotFound is returned for an ID that names no entry.
var ErrNotFound = errors.New("no such message in the outbox")

// seqDigits is the width of the zero-padded sequence number in file names,
// so that names sort in queue order.
const seqDigits = 10

func fileBase(seq uint64) string { return fmt.Sprintf("%0*d", seqDigits, seq) }

// parseID reads a user's ID ("42" or "0000000042").
func parseID(id string) (uint64, error) {
	seq, err := strconv.ParseUint(strings.TrimSpace(id), 10, 64)
	if err != nil || seq == 0 {
		return 0, fmt.Errorf("invalid outbox ID %q: use the number queue list shows", id)
	}
	return seq, nil
}

// parseBase returns the sequence number of a file name such as
// "0000000042.json", and false for any other name.
func parseBase(name, ext string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, ext)
	if !ok || len(base) != seqDigits {
		return 0, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, err == nil && seq > 0
}
