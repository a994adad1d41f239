package emulator

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
)

// labelJSON is the Label resource. labels.list fills only id, name, the two
// visibilities and type; labels.get adds the counts (ListLabelsResponse and
// Label, discovery document gmail:v1).
type labelJSON struct {
	ID                    string `json:"id"`
	Name                  string `json:"name"`
	MessageListVisibility string `json:"messageListVisibility,omitempty"`
	LabelListVisibility   string `json:"labelListVisibility,omitempty"`
	Type                  string `json:"type"`
	MessagesTotal         *int   `json:"messagesTotal,omitempty"`
	MessagesUnread        *int   `json:"messagesUnread,omitempty"`
	ThreadsTotal          *int   `json:"threadsTotal,omitempty"`
	ThreadsUnread         *int   `json:"threadsUnread,omitempty"`
}

func labelEntry(l *label) labelJSON {
	return labelJSON{
		ID:                    l.id,
		Name:                  l.name,
		MessageListVisibility: l.messageListVisibility,
		LabelListVisibility:   l.labelListVisibility,
		Type:                  l.typ,
	}
}

func (s *Server) getProfile(c *apiCall) {
	threads := make(map[string]bool)
	for _, m := range c.box.messages {
		threads[m.threadID] = true
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"emailAddress":  c.box.address,
		"messagesTotal": len(c.box.messages),
		"threadsTotal":  len(threads),
		"historyId":     strconv.FormatUint(c.box.historyID, 10),
	})
}

func (s *Server) listLabels(c *apiCall) {
	out := make([]labelJSON, 0, len(c.box.labelOrder))
	for _, id := range c.box.labelOrder {
		out = append(out, labelEntry(c.box.labels[id]))
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"labels": out})
}

func (s *Server) getLabel(c *apiCall) {
	l, ok := c.box.labels[c.r.PathValue("id")]
	if !ok {
		writeAPIError(c.w, errNotFound())
		return
	}
	out := labelEntry(l)
	var msgs, unread int
	threads, unreadThreads := make(map[string]bool), make(map[string]bool)
	for _, m := range c.box.messages {
		if !m.hasLabel(l.id) {
			continue
		}
		msgs++
		threads[m.threadID] = true
		if m.hasLabel("UNREAD") {
			unread++
			unreadThreads[m.threadID] = true
		}
	}
	tt, tu := len(threads), len(unreadThreads)
	out.MessagesTotal, out.MessagesUnread, out.ThreadsTotal, out.ThreadsUnread = &msgs, &unread, &tt, &tu
	writeJSON(c.w, http.StatusOK, out)
}

// createLabel serves labels.create. A system name gets 400 "Invalid label
// name" (mbrt/gmailctl#300) and a taken name 409 "Label name exists or
// conflicts" (gauteh/lieer#29). A "/" nests without needing the parent.
func (s *Server) createLabel(c *apiCall) {
	var req labelJSON
	if err := json.Unmarshal(c.body, &req); err != nil {
		writeAPIError(c.w, errInvalidArgument("Invalid JSON payload received. "+err.Error()))
		return
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		writeAPIError(c.w, errInvalidArgument("Invalid label name"))
		return
	}
	for _, id := range systemLabels {
		if strings.EqualFold(id, name) {
			writeAPIError(c.w, errInvalidArgument("Invalid label name"))
			return
		}
	}
	if c.box.labelByName(name) != nil {
		writeAPIError(c.w, &apiError{Code: http.StatusConflict, Message: "Label name exists or conflicts", Reason: "duplicate"})
		return
	}
	msgVis, listVis := req.MessageListVisibility, req.LabelListVisibility
	if msgVis == "" {
		msgVis = "show"
	}
	if listVis == "" {
		listVis = "labelShow"
	}
	l := c.box.createUserLabel(name, msgVis, listVis)
	c.box.advance()
	writeJSON(c.w, http.StatusOK, labelEntry(l))
}
