package emulator

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// resumableUpload is an open upload session of uploadType=resumable. The
// session id in the upload URL is its only credential, as with Google's.
type resumableUpload struct {
	box       *mailbox
	threadID  string
	mediaType string
	data      []byte
}

// handleUpload serves /upload/gmail/v1/users/{userId}/messages/send and its
// /resumable/ twin: a new upload (multipart, media or resumable) goes through
// the authenticated API path, a chunk of an open session does not.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	if id := r.URL.Query().Get("upload_id"); id != "" {
		s.uploadChunk(w, r, id)
		return
	}
	s.api("messages.send", s.sendUpload)(w, r)
}

// errMediaType is the upload front end's error for media that is not
// message/* (google-api-go-client#778).
func errMediaType(contentType string) *apiError {
	return errBadRequest("Media type '" + contentType + "' is not supported.")
}

func isMessageMedia(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && strings.HasPrefix(mt, "message/")
}

// errMediaTooLarge is the error for media above maxMediaSize.
// NOTE: the exact body Gmail sends for this case is unconfirmed.
func errMediaTooLarge() *apiError {
	return &apiError{Code: http.StatusRequestEntityTooLarge, Message: "Media is too large.", Reason: "uploadTooLarge"}
}

func (s *Server) sendUpload(c *apiCall) {
	switch t := c.r.URL.Query().Get("uploadType"); t {
	case "multipart":
		s.sendMultipart(c)
	case "media":
		ct := c.r.Header.Get("Content-Type")
		if !isMessageMedia(ct) {
			writeAPIError(c.w, errMediaType(ct))
			return
		}
		if len(c.body) > maxMediaSize {
			writeAPIError(c.w, errMediaTooLarge())
			return
		}
		s.send(c, c.body, "", "media")
	case "resumable":
		s.startResumable(c)
	default:
		writeAPIError(c.w, errBadRequest("Invalid upload type: '"+t+"'"))
	}
}

// sendMultipart reads a multipart/related body whose first part is the JSON
// Message (without raw) and whose second part is the message/rfc822 media,
// the order Gmail requires (observed: aiogoogle#64).
func (s *Server) sendMultipart(c *apiCall) {
	ct := c.r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/related" || params["boundary"] == "" {
		writeAPIError(c.w, errBadRequest("Multipart upload needs a multipart/related body, got '"+ct+"'"))
		return
	}
	parts := splitMultipart(c.body, params["boundary"])
	if len(parts) != 2 {
		writeAPIError(c.w, errBadRequest("Multipart upload needs 2 parts, got "+strconv.Itoa(len(parts))))
		return
	}
	metaHeader, metaBody := splitHeader(parts[0])
	var meta sendRequest
	if len(strings.TrimSpace(string(metaBody))) > 0 {
		if err := json.Unmarshal(metaBody, &meta); err != nil {
			writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
			return
		}
	}
	if mt, _, _ := mime.ParseMediaType(headerValue(parseHeader(metaHeader), "Content-Type")); mt != "application/json" {
		writeAPIError(c.w, errBadRequest("The first part of a multipart upload must be application/json"))
		return
	}
	mediaHeader, media := splitHeader(parts[1])
	mediaType := headerValue(parseHeader(mediaHeader), "Content-Type")
	if !isMessageMedia(mediaType) {
		writeAPIError(c.w, errMediaType(mediaType))
		return
	}
	if len(media) > maxMediaSize {
		writeAPIError(c.w, errMediaTooLarge())
		return
	}
	s.send(c, media, meta.ThreadID, "multipart")
}

// startResumable opens an upload session and returns its URL in Location,
// as the Go client's resumable uploader expects.
func (s *Server) startResumable(c *apiCall) {
	var meta sendRequest
	if len(strings.TrimSpace(string(c.body))) > 0 {
		if err := json.Unmarshal(c.body, &meta); err != nil {
			writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
			return
		}
	}
	mediaType := c.r.Header.Get("X-Upload-Content-Type")
	if mediaType != "" && !isMessageMedia(mediaType) {
		writeAPIError(c.w, errMediaType(mediaType))
		return
	}
	if n, err := strconv.ParseInt(c.r.Header.Get("X-Upload-Content-Length"), 10, 64); err == nil && n > maxMediaSize {
		writeAPIError(c.w, errMediaTooLarge())
		return
	}
	id := randomString(32)
	s.uploads[id] = &resumableUpload{box: c.box, threadID: meta.ThreadID, mediaType: mediaType}
	u := url.URL{
		Scheme:   "http",
		Host:     c.r.Host,
		Path:     "/upload/gmail/v1/users/" + url.PathEscape(c.r.PathValue("userId")) + "/messages/send",
		RawQuery: url.Values{"uploadType": {"resumable"}, "upload_id": {id}}.Encode(),
	}
	c.w.Header().Set("Location", u.String())
	c.w.Header().Set("X-GUploader-UploadID", id)
	c.w.WriteHeader(http.StatusOK)
}

// uploadChunk appends one chunk to a session. An incomplete upload returns
// 308, or 200 with X-Http-Status-Code-Override: 308 when the client sent
// X-GUploader-No-308: yes (google.golang.org/api internal/gensupport/resumable.go).
func (s *Server) uploadChunk(w http.ResponseWriter, r *http.Request, id string) {
	body, err := readBody(r, uploadBodyLimit)
	if err != nil {
		writeAPIError(w, errMediaTooLarge())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	up, ok := s.uploads[id]
	if !ok {
		writeAPIError(w, errNotFound())
		return
	}
	first, total, ok := parseContentRange(r.Header.Get("Content-Range"))
	if !ok {
		writeAPIError(w, errBadRequest("Invalid Content-Range header"))
		return
	}
	if first == int64(len(up.data)) {
		up.data = append(up.data, body...)
	}
	if len(up.data) > maxMediaSize {
		delete(s.uploads, id)
		writeAPIError(w, errMediaTooLarge())
		return
	}
	if total < 0 || int64(len(up.data)) < total {
		if len(up.data) > 0 {
			w.Header().Set("Range", "bytes=0-"+strconv.Itoa(len(up.data)-1))
		}
		if r.Header.Get("X-GUploader-No-308") == "yes" {
			w.Header().Set("X-Http-Status-Code-Override", "308")
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusPermanentRedirect)
		return
	}
	delete(s.uploads, id)
	mediaType := up.mediaType
	if mediaType == "" {
		mediaType = r.Header.Get("Content-Type")
	}
	if !isMessageMedia(mediaType) {
		writeAPIError(w, errMediaType(mediaType))
		return
	}
	s.send(&apiCall{w: w, r: r, method: "messages.send", box: up.box}, up.data, up.threadID, "resumable")
}

// parseContentRange parses "bytes A-B/T", "bytes A-B/*" and "bytes */T",
// returning the first byte (the current size for "*/T") and the total, or
// -1 when the total is still unknown.
func parseContentRange(v string) (first, total int64, ok bool) {
	spec, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, tot, found := strings.Cut(spec, "/")
	if !found {
		return 0, 0, false
	}
	total = -1
	if tot != "*" {
		n, err := strconv.ParseInt(tot, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total = n
	}
	if rng == "*" {
		return total, total, total >= 0
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	n, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	return n, total, true
}
