package emulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// pageCursor is the position a page token stands for, bound to a query.
type pageCursor struct {
	Query string `json:"q"`           // the canonical query the token belongs to
	After uint64 `json:"h,omitempty"` // history.list: last record id returned
	Date  int64  `json:"d,omitempty"` // messages.list: internalDate of the last entry
	ID    string `json:"i,omitempty"` // messages.list: id of the last entry
}

// encodePageToken returns an opaque, signed token. Clients cannot forge a
// position or reuse a token with another query.
func (s *Server) encodePageToken(c pageCursor) string {
	data, _ := json.Marshal(c) // a struct of strings and integers always marshals
	payload := base64.RawURLEncoding.EncodeToString(data)
	return payload + "." + s.signToken(payload)
}

func (s *Server) decodePageToken(tok, query string) (pageCursor, bool) {
	payload, sig, ok := strings.Cut(tok, ".")
	if !ok || !hmac.Equal([]byte(sig), []byte(s.signToken(payload))) {
		return pageCursor{}, false
	}
	data, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return pageCursor{}, false
	}
	var c pageCursor
	if json.Unmarshal(data, &c) != nil || c.Query != query {
		return pageCursor{}, false
	}
	return c, true
}

func (s *Server) signToken(payload string) string {
	mac := hmac.New(sha256.New, s.pageKey)
	mac.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:12])
}

// errInvalidPageToken is the error for a token that is forged, damaged or bound to
// another query.
func errInvalidPageToken() *apiError {
	return errInvalidArgument("Invalid pageToken")
}
