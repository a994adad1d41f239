package emulator

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/mail"
	"strings"
	"time"
)

// Size limits of messages.send.
const (
	// maxMediaSize is the media upload cap (discovery document gmail:v1,
	// messages.send mediaUpload maxSize 36700160).
	maxMediaSize = 36700160
	// maxJSONRawSize is the decoded size above which the JSON form fails
	// with 413 (observed: google-api-go-client#374, about 6.5 MiB).
	maxJSONRawSize = 6815744
)

// SentMessage is one accepted send, as the admin API lists it
// (GET /admin/users/USER/sent).
type SentMessage struct {
	ID              string   `json:"id"`
	ThreadID        string   `json:"threadId"`
	RequestThreadID string   `json:"requestThreadId"`
	UploadType      string   `json:"uploadType"`
	Recipients      []string `json:"recipients"`
	Bcc             []string `json:"bcc"`
	Raw             []byte   `json:"raw"` // standard base64 in JSON, the bytes as received
}

type sendRequest struct {
	Raw      string `json:"raw"`
	ThreadID string `json:"threadId"`
}

// decodeRaw accepts base64url or standard base64, padded or not, as
// Google's JSON mapping of bytes fields does.
func decodeRaw(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	s = strings.NewReplacer("+", "-", "/", "_").Replace(s)
	return base64.RawURLEncoding.DecodeString(s)
}

// sendJSON serves POST .../messages/send with the message in "raw".
func (s *Server) sendJSON(c *apiCall) {
	// A body this long cannot hold a raw field under the limit, so it is
	// refused before the costly decoding.
	if len(c.body) > base64.URLEncoding.EncodedLen(maxJSONRawSize)+64<<10 {
		writeTooLarge(c.w)
		return
	}
	var req sendRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
		return
	}
	if req.Raw == "" {
		writeAPIError(c.w, errInvalidArgument("'raw' RFC822 payload message string or uploading message via /upload/* URL required"))
		return
	}
	raw, err := decodeRaw(req.Raw)
	if err != nil {
		writeAPIError(c.w, errInvalidValue("raw", "TYPE_BYTES", "…"))
		return
	}
	if len(raw) > maxJSONRawSize {
		writeTooLarge(c.w)
		return
	}
	s.send(c, raw, req.ThreadID, "json")
}

// send stores raw as the user's sent message and returns {id, threadId,
// labelIds}. Recipients come from To, Cc and Bcc (messages.send reference);
// Bcc stays in the stored SENT copy (observed in Gmail's web UI).
func (s *Server) send(c *apiCall, raw []byte, threadID, uploadType string) {
	if until := c.box.sendingBlockedUntil; s.now().Before(until) {
		writeAPIError(c.w, errMailSending(until))
		return
	}
	header, _ := splitHeader(raw)
	fields := parseHeader(header)
	recipients, bcc, apiErr := parseRecipients(fields)
	if apiErr != nil {
		writeAPIError(c.w, apiErr)
		return
	}
	if len(recipients) == 0 {
		writeAPIError(c.w, errInvalidArgument("Recipient address required"))
		return
	}
	thread := ""
	if threadID != "" {
		if !idPattern.MatchString(threadID) || !c.box.threadExists(strings.ToLower(threadID)) {
			writeAPIError(c.w, errInvalidArgument("Invalid thread_id value"))
			return
		}
		if joinsThread(c.box, strings.ToLower(threadID), fields) {
			thread = strings.ToLower(threadID)
		}
	}

	stored := s.rewriteForSend(c.box, raw, fields)
	m := s.newMessage(stored, s.now())
	if thread != "" {
		m.threadID = thread
	}
	m.labels = []string{"SENT"}
	for _, r := range recipients {
		if r == c.box.address {
			// NOTE: a message to oneself also lands in the inbox in Gmail's
			// web UI; for API sends this is unconfirmed.
			m.labels = append(m.labels, "INBOX")
			break
		}
	}
	c.box.insert(m, s.opts.HistoryRetention)
	c.box.sent = append(c.box.sent, SentMessage{
		ID: m.id, ThreadID: m.threadID, RequestThreadID: threadID, UploadType: uploadType,
		Recipients: recipients, Bcc: bcc, Raw: bytes.Clone(raw),
	})
	writeJSON(c.w, http.StatusOK, messageJSON{ID: m.id, ThreadID: m.threadID, LabelIDs: m.labels})
}

// parseRecipients returns every To, Cc and Bcc address, lowercased, and the
// Bcc ones separately. An unparsable list gets Gmail's "Invalid To header".
func parseRecipients(fields []headerField) (all, bcc []string, apiErr *apiError) {
	for _, name := range []string{"To", "Cc", "Bcc"} {
		for _, v := range headerValues(fields, name) {
			if strings.TrimSpace(v) == "" {
				continue
			}
			list, err := mail.ParseAddressList(v)
			if err != nil {
				return nil, nil, errInvalidArgument("Invalid " + name + " header")
			}
			for _, a := range list {
				addr := strings.ToLower(a.Address)
				all = append(all, addr)
				if name == "Bcc" {
					bcc = append(bcc, addr)
				}
			}
		}
	}
	return all, bcc, nil
}

// joinsThread applies the threading rules of the threads guide: the Subject
// must match and In-Reply-To or References must name a message of the thread.
// NOTE: Gmail's response when threadId exists but the rules fail is
// unconfirmed; the emulator starts a new thread.
func joinsThread(b *mailbox, threadID string, fields []headerField) bool {
	subject := normalizeSubject(headerValue(fields, "Subject"))
	refs := messageIDList(headerValue(fields, "In-Reply-To") + " " + headerValue(fields, "References"))
	subjectOK, refOK := false, false
	for _, m := range b.messages {
		if m.threadID != threadID {
			continue
		}
		h, _ := splitHeader(m.raw)
		if normalizeSubject(headerValue(parseHeader(h), "Subject")) == subject {
			subjectOK = true
		}
		for _, r := range refs {
			if r == m.messageID {
				refOK = true
			}
		}
	}
	return subjectOK && refOK
}

// normalizeSubject drops reply and forward prefixes and case.
func normalizeSubject(s string) string {
	s = strings.TrimSpace(decodeWords(s))
	for {
		lower := strings.ToLower(s)
		trimmed := false
		for _, p := range []string{"re:", "fwd:", "fw:", "aw:", "wg:"} {
			if strings.HasPrefix(lower, p) {
				s, trimmed = strings.TrimSpace(s[len(p):]), true
				break
			}
		}
		if !trimmed {
			return strings.ToLower(s)
		}
	}
}

// rewriteForSend returns the copy Gmail stores: a From that is neither the
// user nor a configured send-as alias is replaced by the user's address
// (observed: google_workspace_mcp#1075), and a missing From, Date or
// Message-ID is added.
func (s *Server) rewriteForSend(b *mailbox, raw []byte, fields []headerField) []byte {
	from := headerValue(fields, "From")
	switch {
	case from == "":
		raw = prependHeader(raw, "From", b.address)
	case !s.mayUseFrom(b.address, from):
		name := ""
		if a, err := mail.ParseAddress(from); err == nil {
			name = a.Name
		}
		raw = replaceHeader(raw, "From", (&mail.Address{Name: name, Address: b.address}).String())
	}
	if headerValue(fields, "Date") == "" {
		raw = prependHeader(raw, "Date", s.now().Format(time.RFC1123Z))
	}
	if headerValue(fields, "Message-ID") == "" {
		raw = prependHeader(raw, "Message-ID", fmt.Sprintf("<%s@mail.gmail.com>", randomString(24)))
	}
	return raw
}

func (s *Server) mayUseFrom(user, from string) bool {
	a, err := mail.ParseAddress(from)
	if err != nil {
		return false
	}
	addr := strings.ToLower(a.Address)
	if addr == user {
		return true
	}
	for _, alias := range s.opts.SendAs[user] {
		if strings.EqualFold(alias, addr) {
			return true
		}
	}
	return false
}

func lineEnding(raw []byte) string {
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		return "\r\n"
	}
	if i := bytes.IndexByte(raw, '\n'); i < 0 {
		return "\r\n"
	}
	return "\n"
}

func prependHeader(raw []byte, name, value string) []byte {
	return append([]byte(name+": "+value+lineEnding(raw)), raw...)
}

// replaceHeader replaces the first field called name, continuation lines
// included, and leaves every other byte as it was.
func replaceHeader(raw []byte, name, value string) []byte {
	header, _ := splitHeader(raw)
	eol := lineEnding(raw)
	pos := 0
	for pos < len(header) {
		end := bytes.IndexByte(header[pos:], '\n')
		if end < 0 {
			break
		}
		lineEnd := pos + end + 1
		line := header[pos:lineEnd]
		if n, _, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(string(n), name) {
			next := lineEnd
			for next < len(header) && (header[next] == ' ' || header[next] == '\t') {
				e := bytes.IndexByte(header[next:], '\n')
				if e < 0 {
					next = len(header)
					break
				}
				next += e + 1
			}
			out := append([]byte{}, raw[:pos]...)
			out = append(out, name+": "+value+eol...)
			return append(out, raw[next:]...)
		}
		pos = lineEnd
	}
	return prependHeader(raw, name, value)
}
