package emulator

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// List sizes of messages.list and history.list: default 100, max 500
// (discovery document gmail:v1, maxResults).
const (
	defaultPageSize = 100
	maxPageSize     = 500
)

// idPattern accepts Gmail's message id form, hex digits (observed ids are 16
// lowercase hex digits).
var idPattern = regexp.MustCompile(`^[0-9a-fA-F]{1,20}$`)

// errInvalidValue is Google's 400 for a parameter of the wrong type.
func errInvalidValue(field, typ, value string) *apiError {
	return &apiError{
		Code:    http.StatusBadRequest,
		Message: "Invalid value at '" + field + "' (" + typ + "), \"" + value + "\"",
		Reason:  "invalid",
	}
}

// parseMaxResults returns maxResults, clamped to 500.
// NOTE: whether Gmail clamps or rejects larger values is unconfirmed.
func parseMaxResults(c *apiCall) (int, *apiError) {
	v := c.r.URL.Query().Get("maxResults")
	if v == "" {
		return defaultPageSize, nil
	}
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0, errInvalidValue("max_results", "TYPE_UINT32", v)
	}
	if n == 0 {
		return defaultPageSize, nil
	}
	return int(min(n, maxPageSize)), nil
}

// lookupMessage returns the message named by the path value key, writing
// Gmail's 400 "Invalid id value" or 404 notFound when there is none.
func lookupMessage(c *apiCall, key string) *message {
	id := c.r.PathValue(key)
	if !idPattern.MatchString(id) {
		writeAPIError(c.w, errInvalidArgument("Invalid id value"))
		return nil
	}
	m, ok := c.box.messages[strings.ToLower(id)]
	if !ok {
		writeAPIError(c.w, errNotFound())
		return nil
	}
	return m
}

type messageRef struct {
	ID       string `json:"id"`
	ThreadID string `json:"threadId"`
}

// listMessages serves messages.list: every labelIds value must be present
// (AND), SPAM and TRASH are hidden unless includeSpamTrash, and entries hold
// only id and threadId, newest first.
func (s *Server) listMessages(c *apiCall) {
	params := c.r.URL.Query()
	q := params.Get("q")
	if q != "" && hasMetadataScope(c.scopes) {
		writeAPIError(c.w, errForbidden("Metadata scope does not support 'q' parameter"))
		return
	}
	size, apiErr := parseMaxResults(c)
	if apiErr != nil {
		writeAPIError(c.w, apiErr)
		return
	}
	labelIDs := params["labelIds"]
	includeSpamTrash := params.Get("includeSpamTrash") == "true"
	query := parseQuery(q)
	key := canonicalQuery("messages", c.box.address, q, strconv.FormatBool(includeSpamTrash), strings.Join(sortedCopy(labelIDs), ","))
	var cursor *pageCursor
	if tok := params.Get("pageToken"); tok != "" {
		cur, ok := s.decodePageToken(tok, key)
		if !ok {
			writeAPIError(c.w, errInvalidPageToken())
			return
		}
		cursor = &cur
	}

	var matched []*message
	for _, m := range c.box.sortedMessages() {
		if !includeSpamTrash && !query.spamTrash && (m.hasLabel("SPAM") || m.hasLabel("TRASH")) {
			continue
		}
		if !hasAll(m, labelIDs) || !query.matches(c.box, m) {
			continue
		}
		matched = append(matched, m)
	}
	start := 0
	if cursor != nil {
		pivot := &message{internalDate: cursor.Date, id: cursor.ID}
		start = len(matched)
		for i, m := range matched {
			if compareNewestFirst(m, pivot) > 0 {
				start = i
				break
			}
		}
	}
	page := matched[start:min(start+size, len(matched))]
	resp := map[string]any{"resultSizeEstimate": len(matched)}
	if len(page) > 0 {
		refs := make([]messageRef, len(page))
		for i, m := range page {
			refs[i] = messageRef{ID: m.id, ThreadID: m.threadID}
		}
		resp["messages"] = refs
	}
	if start+size < len(matched) {
		last := page[len(page)-1]
		resp["nextPageToken"] = s.encodePageToken(pageCursor{Query: key, Date: last.internalDate, ID: last.id})
	}
	writeJSON(c.w, http.StatusOK, resp)
}

func hasAll(m *message, labelIDs []string) bool {
	for _, id := range labelIDs {
		if !m.hasLabel(id) {
			return false
		}
	}
	return true
}

func sortedCopy(v []string) []string {
	out := slices.Clone(v)
	slices.Sort(out)
	return out
}

func canonicalQuery(parts ...string) string {
	b, _ := json.Marshal(parts)
	return string(b)
}

// getMessage serves messages.get. gmail.metadata allows only the minimal and
// metadata formats, even next to broader scopes (discovery document,
// format enumDescriptions; google-api-python-client#582).
func (s *Server) getMessage(c *apiCall) {
	params := c.r.URL.Query()
	format := strings.ToLower(params.Get("format"))
	if format == "" {
		format = formatFull
	}
	switch format {
	case formatMinimal, formatFull, formatRaw, formatMetadata:
	default:
		writeAPIError(c.w, errInvalidValue("format", "type.googleapis.com/caribou.api.proto.MessageFormat", params.Get("format")))
		return
	}
	if hasMetadataScope(c.scopes) && (format == formatFull || format == formatRaw) {
		writeAPIError(c.w, errForbidden("Metadata scope doesn't allow format "+strings.ToUpper(format)))
		return
	}
	m := lookupMessage(c, "id")
	if m == nil {
		return
	}
	writeJSON(c.w, http.StatusOK, renderMessage(m, format, params["metadataHeaders"]))
}

func (s *Server) getAttachment(c *apiCall) {
	m := lookupMessage(c, "messageId")
	if m == nil {
		return
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c.r.PathValue("id"), "ANGjdJ"))
	msgID, partID, ok := strings.Cut(string(raw), "/")
	if err != nil || !ok || msgID != m.id {
		writeAPIError(c.w, errInvalidArgument("Invalid attachment token"))
		return
	}
	p := findPart(parseMIME(m.raw), partID)
	if p == nil || len(p.children) > 0 {
		writeAPIError(c.w, errNotFound())
		return
	}
	data := p.decodedBody()
	writeJSON(c.w, http.StatusOK, map[string]any{
		"attachmentId": c.r.PathValue("id"),
		"size":         len(data),
		"data":         base64.URLEncoding.EncodeToString(data),
	})
}

type modifyRequest struct {
	IDs            []string `json:"ids"`
	AddLabelIDs    []string `json:"addLabelIds"`
	RemoveLabelIDs []string `json:"removeLabelIds"`
}

// checkModify validates label ids for modify and batchModify. SENT and DRAFT
// cannot be applied by hand (Gmail "Manage labels" guide).
func checkModify(b *mailbox, req modifyRequest) *apiError {
	if len(req.AddLabelIDs) == 0 && len(req.RemoveLabelIDs) == 0 {
		return errInvalidArgument("No label add or removes specified")
	}
	if len(req.AddLabelIDs) > 100 || len(req.RemoveLabelIDs) > 100 {
		return errInvalidArgument("Too many labels in a single request, limit is 100")
	}
	for _, id := range slices.Concat(req.AddLabelIDs, req.RemoveLabelIDs) {
		if _, ok := b.labels[id]; !ok {
			return errInvalidArgument("Invalid label: " + id)
		}
	}
	for _, id := range req.AddLabelIDs {
		if id == "SENT" || id == "DRAFT" || id == "CHAT" {
			// NOTE: Gmail refuses these; the exact message is unconfirmed.
			return errInvalidArgument("Invalid label: " + id)
		}
	}
	return nil
}

func (s *Server) modifyMessage(c *apiCall) {
	var req modifyRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
		return
	}
	m := lookupMessage(c, "id")
	if m == nil {
		return
	}
	if e := checkModify(c.box, req); e != nil {
		writeAPIError(c.w, e)
		return
	}
	c.box.modifyLabels(m, req.AddLabelIDs, req.RemoveLabelIDs, s.opts.HistoryRetention)
	writeJSON(c.w, http.StatusOK, renderMessage(m, formatMinimal, nil))
}

// batchModify returns 204 with no body because the discovery document gives the
// method no response schema.
func (s *Server) batchModify(c *apiCall) {
	var req modifyRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
		return
	}
	if len(req.IDs) > 1000 {
		writeAPIError(c.w, errInvalidArgument("Too many ids in a single request, limit is 1000"))
		return
	}
	if e := checkModify(c.box, req); e != nil {
		writeAPIError(c.w, e)
		return
	}
	for _, id := range req.IDs {
		if m, ok := c.box.messages[strings.ToLower(id)]; ok {
			c.box.modifyLabels(m, req.AddLabelIDs, req.RemoveLabelIDs, s.opts.HistoryRetention)
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// trashMessage adds TRASH. History reports it under labelsAdded; only a
// permanent delete is messagesDeleted (users.history.list reference).
// NOTE: whether Gmail also removes INBOX on trash is unconfirmed; other
// labels are kept.
func (s *Server) trashMessage(c *apiCall) {
	m := lookupMessage(c, "id")
	if m == nil {
		return
	}
	c.box.modifyLabels(m, []string{"TRASH"}, nil, s.opts.HistoryRetention)
	writeJSON(c.w, http.StatusOK, renderMessage(m, formatMinimal, nil))
}

func (s *Server) untrashMessage(c *apiCall) {
	m := lookupMessage(c, "id")
	if m == nil {
		return
	}
	c.box.modifyLabels(m, nil, []string{"TRASH"}, s.opts.HistoryRetention)
	writeJSON(c.w, http.StatusOK, renderMessage(m, formatMinimal, nil))
}

func (s *Server) deleteMessage(c *apiCall) {
	m := lookupMessage(c, "id")
	if m == nil {
		return
	}
	c.box.remove(m, s.opts.HistoryRetention)
	c.w.WriteHeader(http.StatusNoContent)
}

func (s *Server) batchDelete(c *apiCall) {
	var req modifyRequest
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
		return
	}
	for _, id := range req.IDs {
		if m, ok := c.box.messages[strings.ToLower(id)]; ok {
			c.box.remove(m, s.opts.HistoryRetention)
		}
	}
	c.w.WriteHeader(http.StatusNoContent)
}
