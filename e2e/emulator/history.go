package emulator

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// historyJSON is the History resource. Its id is a uint64 and so a JSON
// string. messages repeats the typed arrays' messages with id and threadId,
// as Gmail does; the typed arrays' messages also carry the message's current
// labelIds (observed).
type historyJSON struct {
	ID              string         `json:"id"`
	Messages        []messageRef   `json:"messages,omitempty"`
	MessagesAdded   []messageEvent `json:"messagesAdded,omitempty"`
	MessagesDeleted []messageEvent `json:"messagesDeleted,omitempty"`
	LabelsAdded     []labelEvent   `json:"labelsAdded,omitempty"`
	LabelsRemoved   []labelEvent   `json:"labelsRemoved,omitempty"`
}

type historyMessage struct {
	ID       string   `json:"id"`
	ThreadID string   `json:"threadId"`
	LabelIDs []string `json:"labelIds,omitempty"`
}

type messageEvent struct {
	Message historyMessage `json:"message"`
}

type labelEvent struct {
	Message  historyMessage `json:"message"`
	LabelIDs []string       `json:"labelIds"`
}

var historyTypes = []string{kindMessageAdded, kindMessageDeleted, kindLabelAdded, kindLabelRemoved}

// listHistory serves history.list: records strictly after startHistoryId in
// increasing id, filtered by historyTypes and labelId, paged by maxResults,
// and 404 notFound for a start the mailbox no longer keeps
// (users.history.list reference).
func (s *Server) listHistory(c *apiCall) {
	params := c.r.URL.Query()
	startStr := params.Get("startHistoryId")
	if startStr == "" {
		writeAPIError(c.w, &apiError{Code: http.StatusBadRequest, Message: "Required parameter: startHistoryId", Reason: "required"})
		return
	}
	start, err := strconv.ParseUint(startStr, 10, 64)
	if err != nil {
		writeAPIError(c.w, errInvalidValue("start_history_id", "TYPE_UINT64", startStr))
		return
	}
	types := params["historyTypes"]
	for _, t := range types {
		if !slices.Contains(historyTypes, t) {
			writeAPIError(c.w, errInvalidValue("history_types", "type.googleapis.com/caribou.api.proto.HistoryType", t))
			return
		}
	}
	size, apiErr := parseMaxResults(c)
	if apiErr != nil {
		writeAPIError(c.w, apiErr)
		return
	}
	labelID := params.Get("labelId")
	key := canonicalQuery("history", c.box.address, startStr, strings.Join(sortedCopy(types), ","), labelID)
	after := start
	if tok := params.Get("pageToken"); tok != "" {
		cur, ok := s.decodePageToken(tok, key)
		if !ok {
			writeAPIError(c.w, errInvalidPageToken())
			return
		}
		after = cur.After
	}
	if !c.box.validStart(start) {
		writeAPIError(c.w, errNotFound())
		return
	}

	var page []historyJSON
	var lastID uint64
	more := false
	for _, r := range c.box.history {
		if r.id <= after || !recordMatches(c.box, r, types, labelID) {
			continue
		}
		if len(page) == size {
			more = true
			break
		}
		page = append(page, renderRecord(c.box, r))
		lastID = r.id
	}
	resp := map[string]any{"historyId": strconv.FormatUint(c.box.historyID, 10)}
	if len(page) > 0 {
		resp["history"] = page
	}
	if more {
		resp["nextPageToken"] = s.encodePageToken(pageCursor{Query: key, After: lastID})
	}
	writeJSON(c.w, http.StatusOK, resp)
}

// recordMatches applies historyTypes and labelId. A record matches labelId
// when the message carries it now or carried it at the change, or when the
// change added or removed it.
// NOTE: whether Gmail filters on the labels at change time or now is
// unconfirmed; this accepts both.
func recordMatches(b *mailbox, r historyRecord, types []string, labelID string) bool {
	if len(types) > 0 && !slices.Contains(types, r.kind) {
		return false
	}
	if labelID == "" {
		return true
	}
	if slices.Contains(r.labelIDs, labelID) || slices.Contains(r.snapshot, labelID) {
		return true
	}
	m, ok := b.messages[r.messageID]
	return ok && m.hasLabel(labelID)
}

func renderRecord(b *mailbox, r historyRecord) historyJSON {
	msg := historyMessage{ID: r.messageID, ThreadID: r.threadID, LabelIDs: r.snapshot}
	if m, ok := b.messages[r.messageID]; ok {
		msg.LabelIDs = m.labels
	}
	out := historyJSON{
		ID:       strconv.FormatUint(r.id, 10),
		Messages: []messageRef{{ID: r.messageID, ThreadID: r.threadID}},
	}
	switch r.kind {
	case kindMessageAdded:
		out.MessagesAdded = []messageEvent{{Message: msg}}
	case kindMessageDeleted:
		out.MessagesDeleted = []messageEvent{{Message: msg}}
	case kindLabelAdded:
		out.LabelsAdded = []labelEvent{{Message: msg, LabelIDs: r.labelIDs}}
	case kindLabelRemoved:
		out.LabelsRemoved = []labelEvent{{Message: msg, LabelIDs: r.labelIDs}}
	}
	return out
}
