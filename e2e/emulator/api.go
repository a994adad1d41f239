package emulator

import (
	"errors"
	"io"
	"net/http"
	"strings"
)

// apiCall is one authenticated Gmail API request. Handlers run with s.mu held.
type apiCall struct {
	w      http.ResponseWriter
	r      *http.Request
	method string
	box    *mailbox
	scopes []string
	body   []byte
}

// Request body limits. Uploads may carry 35 MiB of media plus the multipart
// framing; JSON bodies above jsonBodyLimit are refused before parsing.
const (
	uploadBodyLimit = maxMediaSize + 1<<20
	jsonBodyLimit   = 16 << 20
)

var errBodyTooLarge = errors.New("request body too large")

func readBody(r *http.Request, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errBodyTooLarge
	}
	return data, nil
}

// api wraps a Gmail method handler: it reads the body, authenticates the
// token, checks the method's scopes, resolves {userId} and counts the call.
func (s *Server) api(method string, h func(c *apiCall)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		limit := int64(jsonBodyLimit)
		if strings.Contains(r.URL.Path, "/upload/") {
			limit = uploadBodyLimit
		}
		body, err := readBody(r, limit)
		if errors.Is(err, errBodyTooLarge) {
			writeTooLarge(w)
			return
		}
		if err != nil {
			writeAPIError(w, errBadRequest("Failed to read request body."))
			return
		}

		s.mu.Lock()
		defer s.mu.Unlock()
		tok := bearerToken(r)
		if tok == "" {
			writeAPIError(w, errMissingCredentials(method))
			return
		}
		g, expired := s.lookupAccess(tok)
		if g == nil {
			writeAPIError(w, errInvalidCredentials(expired, method))
			return
		}
		if !scopeAllows(method, g.scopes) {
			writeAPIError(w, errInsufficientScope(method))
			return
		}
		box := s.mailboxFor(g.user)
		userID := r.PathValue("userId")
		if userID != "me" && !strings.EqualFold(userID, g.user) {
			// Another user's mailbox needs domain-wide delegation.
			writeAPIError(w, errForbidden("Delegation denied for "+g.user))
			return
		}
		s.quota.charge(method)
		h(&apiCall{w: w, r: r, method: method, box: box, scopes: g.scopes, body: body})
	}
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	const u = "/gmail/v1/users/{userId}"

	mux.HandleFunc("GET /o/oauth2/auth", s.handleAuthorize)
	mux.HandleFunc("GET /o/oauth2/v2/auth", s.handleAuthorize)
	mux.HandleFunc("POST /token", s.handleToken)
	mux.HandleFunc("POST /o/oauth2/token", s.handleToken)
	mux.HandleFunc("POST /revoke", s.handleRevoke)
	mux.HandleFunc("POST /o/oauth2/revoke", s.handleRevoke)

	mux.HandleFunc("GET "+u+"/profile", s.api("getProfile", s.getProfile))
	mux.HandleFunc("GET "+u+"/labels", s.api("labels.list", s.listLabels))
	mux.HandleFunc("POST "+u+"/labels", s.api("labels.create", s.createLabel))
	mux.HandleFunc("GET "+u+"/labels/{id}", s.api("labels.get", s.getLabel))
	mux.HandleFunc("GET "+u+"/messages", s.api("messages.list", s.listMessages))
	mux.HandleFunc("GET "+u+"/messages/{id}", s.api("messages.get", s.getMessage))
	mux.HandleFunc("DELETE "+u+"/messages/{id}", s.api("messages.delete", s.deleteMessage))
	mux.HandleFunc("GET "+u+"/messages/{messageId}/attachments/{id}", s.api("messages.attachments.get", s.getAttachment))
	mux.HandleFunc("POST "+u+"/messages/{id}/modify", s.api("messages.modify", s.modifyMessage))
	mux.HandleFunc("POST "+u+"/messages/{id}/trash", s.api("messages.trash", s.trashMessage))
	mux.HandleFunc("POST "+u+"/messages/{id}/untrash", s.api("messages.untrash", s.untrashMessage))
	mux.HandleFunc("POST "+u+"/messages/batchModify", s.api("messages.batchModify", s.batchModify))
	mux.HandleFunc("POST "+u+"/messages/batchDelete", s.api("messages.batchDelete", s.batchDelete))
	mux.HandleFunc("POST "+u+"/messages/send", s.api("messages.send", s.sendJSON))
	mux.HandleFunc("POST /upload"+u+"/messages/send", s.handleUpload)
	mux.HandleFunc("POST /resumable/upload"+u+"/messages/send", s.handleUpload)
	mux.HandleFunc("PUT /upload"+u+"/messages/send", s.handleUpload)
	mux.HandleFunc("GET "+u+"/history", s.api("history.list", s.listHistory))

	s.adminRoutes(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeAPIError(w, &apiError{Code: http.StatusNotFound, Message: "Method not found.", Reason: "notFound"})
	})
	return mux
}
