package emulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// errMailSending is the 429 Gmail returns when the account hit its daily
// sending limits, which are shared with the web interface and SMTP: the
// message reads "User-rate limit exceeded (Mail sending)" with a time to
// retry, and the block can last for hours ("Resolve errors", Gmail API
// guides; Google Workspace sending limits). The exact wording after the
// parenthesis follows the quota error's observed form.
func errMailSending(until time.Time) *apiError {
	at := until.UTC().Truncate(time.Millisecond)
	if at.Before(until) {
		at = at.Add(time.Millisecond)
	}
	return &apiError{
		Code:        http.StatusTooManyRequests,
		Message:     "User-rate limit exceeded (Mail sending).  Retry after " + at.Format("2006-01-02T15:04:05.000Z"),
		ItemMessage: "User-rate limit exceeded (Mail sending).",
		Domain:      "usageLimits",
		Reason:      "rateLimitExceeded",
	}
}

// AdminSendingLimit is the body of POST /admin/users/USER/sending-limit:
// messages.send returns the "(Mail sending)" 429 until Until; a zero time
// lifts the block.
type AdminSendingLimit struct {
	Until time.Time `json:"until"`
}

func (s *Server) adminSendingLimit(w http.ResponseWriter, _ *http.Request, box *mailbox, body []byte) {
	var req AdminSendingLimit
	if err := json.Unmarshal(body, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, `request needs {"until": "RFC 3339 time"}, or a zero time to lift the block`)
		return
	}
	box.sendingBlockedUntil = req.Until
	writeJSON(w, http.StatusOK, req)
}
