package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// adminRoutes registers the test-only admin API under /admin/. It needs no
// token: the emulator listens on loopback only.
func (s *Server) adminRoutes(mux *http.ServeMux) {
	const u = "/admin/users/{user}"
	mux.HandleFunc("GET "+u+"/dump", s.adminUser(s.adminDump))
	mux.HandleFunc("POST "+u+"/messages", s.adminUser(s.adminAddMessage))
	mux.HandleFunc("POST "+u+"/generate", s.adminUser(s.adminGenerate))
	mux.HandleFunc("POST "+u+"/messages/{id}/modify", s.adminUser(s.adminModify))
	mux.HandleFunc("DELETE "+u+"/messages/{id}", s.adminUser(s.adminDelete))
	mux.HandleFunc("POST "+u+"/labels", s.adminUser(s.adminCreateLabel))
	mux.HandleFunc("PATCH "+u+"/labels/{id}", s.adminUser(s.adminRenameLabel))
	mux.HandleFunc("POST "+u+"/history/expire", s.adminUser(s.adminExpireHistory))
	mux.HandleFunc("GET "+u+"/sent", s.adminUser(s.adminSent))
	mux.HandleFunc("POST "+u+"/sending-limit", s.adminUser(s.adminSendingLimit))
	mux.HandleFunc("GET /admin/stats", s.adminStats)
	mux.HandleFunc("POST /admin/stats/reset", s.adminResetStats)
	mux.HandleFunc("POST /admin/faults", s.adminFaults)
	mux.HandleFunc("POST /admin/quota", s.adminQuota)
	mux.HandleFunc("GET /admin/tokens", s.adminTokens)
	mux.HandleFunc("POST /admin/grants/revoke-all", s.adminRevokeAll)
	mux.HandleFunc("POST /admin/oauth/deny", s.adminDeny)
	mux.HandleFunc("POST /admin/oauth/expire-access-tokens", s.adminExpireAccess)
	mux.HandleFunc("POST /admin/oauth/testing-expiry", s.adminTestingExpiry)
	mux.HandleFunc("POST /admin/oauth/password-change", s.adminPasswordChange)
	mux.HandleFunc("POST /admin/oauth/merge-grants", s.adminMergeGrants)
	mux.HandleFunc("POST /admin/clock", s.adminClock)
}

type adminError struct {
	Error string `json:"error"`
}

func writeAdminError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, adminError{msg})
}

// adminUser resolves {user} and runs h with s.mu held.
func (s *Server) adminUser(h func(w http.ResponseWriter, r *http.Request, box *mailbox, body []byte)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(r, uploadBodyLimit)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, "reading request body: "+err.Error())
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		box := s.mailboxFor(r.PathValue("user"))
		if box == nil {
			writeAdminError(w, http.StatusNotFound, "no such user: "+r.PathValue("user"))
			return
		}
		h(w, r, box, body)
	}
}

// DumpLabel is one label in the admin API's mailbox dump.
type DumpLabel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// DumpMessage is one message in the admin API's mailbox dump; SHA256 is
// the hex digest of its raw bytes, so tests compare without downloading.
type DumpMessage struct {
	ID           string   `json:"id"`
	ThreadID     string   `json:"threadId"`
	LabelIDs     []string `json:"labelIds"`
	InternalDate string   `json:"internalDate"`
	SizeEstimate int      `json:"sizeEstimate"`
	SHA256       string   `json:"sha256"`
	MessageID    string   `json:"messageId"`
}

// Dump is the admin API's mailbox dump (GET /admin/users/USER/dump).
type Dump struct {
	HistoryID string        `json:"historyId"`
	Labels    []DumpLabel   `json:"labels"`
	Messages  []DumpMessage `json:"messages"`
}

func (s *Server) adminDump(w http.ResponseWriter, _ *http.Request, box *mailbox, _ []byte) {
	labels := make([]DumpLabel, 0, len(box.labelOrder))
	for _, id := range box.labelOrder {
		l := box.labels[id]
		labels = append(labels, DumpLabel{ID: l.id, Name: l.name, Type: l.typ})
	}
	msgs := []DumpMessage{}
	for _, m := range box.sortedMessages() {
		sum := sha256.Sum256(m.raw)
		ids := m.labels
		if ids == nil {
			ids = []string{}
		}
		msgs = append(msgs, DumpMessage{
			ID: m.id, ThreadID: m.threadID, LabelIDs: ids,
			InternalDate: strconv.FormatInt(m.internalDate, 10), SizeEstimate: len(m.raw),
			SHA256: hex.EncodeToString(sum[:]), MessageID: m.messageID,
		})
	}
	writeJSON(w, http.StatusOK, Dump{HistoryID: strconv.FormatUint(box.historyID, 10), Labels: labels, Messages: msgs})
}

func (s *Server) adminAddMessage(w http.ResponseWriter, _ *http.Request, box *mailbox, body []byte) {
	var req struct {
		Raw          string   `json:"raw"`
		Labels       []string `json:"labels"`
		InternalDate string   `json:"internalDate"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, "parsing request: "+err.Error())
		return
	}
	raw, err := base64.StdEncoding.DecodeString(req.Raw)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "raw is not standard base64: "+err.Error())
		return
	}
	var when time.Time
	if req.InternalDate != "" {
		ms, err := strconv.ParseInt(req.InternalDate, 10, 64)
		if err != nil {
			writeAdminError(w, http.StatusBadRequest, "internalDate is not milliseconds: "+req.InternalDate)
			return
		}
		when = time.UnixMilli(ms)
	}
	id, thread, err := s.addMessageLocked(box, raw, req.Labels, when)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id": id, "threadId": thread})
}

// AdminGenerate is the body of POST /admin/users/USER/generate, which
// calls Generate.
type AdminGenerate struct {
	Count int   `json:"count"`
	Seed  int64 `json:"seed"`
}

func (s *Server) adminGenerate(w http.ResponseWriter, _ *http.Request, box *mailbox, body []byte) {
	var req AdminGenerate
	if err := json.Unmarshal(body, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, "parsing request: "+err.Error())
		return
	}
	if req.Count < 0 {
		writeAdminError(w, http.StatusBadRequest, fmt.Sprintf("invalid count %d: use 0 or more", req.Count))
		return
	}
	if err := s.generateLocked(box, req.Count, req.Seed); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"historyId": strconv.FormatUint(box.historyID, 10)})
}

// adminModify changes labels like messages.modify, but also takes label
// names (created on first use) and the labels users cannot apply by hand.
func (s *Server) adminModify(w http.ResponseWriter, r *http.Request, box *mailbox, body []byte) {
	var req modifyRequest
	if err := json.Unmarshal(body, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, "parsing request: "+err.Error())
		return
	}
	m, ok := box.messages[r.PathValue("id")]
	if !ok {
		writeAdminError(w, http.StatusNotFound, "no such message: "+r.PathValue("id"))
		return
	}
	add, err := resolveAll(box, req.AddLabelIDs)
	if err == nil {
		req.RemoveLabelIDs, err = resolveAll(box, req.RemoveLabelIDs)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	box.modifyLabels(m, add, req.RemoveLabelIDs, s.opts.HistoryRetention)
	writeJSON(w, http.StatusOK, renderMessage(m, formatMinimal, nil))
}

func resolveAll(box *mailbox, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		id, err := box.resolveLabel(n)
		if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Server) adminDelete(w http.ResponseWriter, r *http.Request, box *mailbox, _ []byte) {
	m, ok := box.messages[r.PathValue("id")]
	if !ok {
		writeAdminError(w, http.StatusNotFound, "no such message: "+r.PathValue("id"))
		return
	}
	box.remove(m, s.opts.HistoryRetention)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminCreateLabel(w http.ResponseWriter, _ *http.Request, box *mailbox, body []byte) {
	var req struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.Name) == "" {
		writeAdminError(w, http.StatusBadRequest, "request needs a label name")
		return
	}
	if box.labelByName(req.Name) != nil {
		writeAdminError(w, http.StatusConflict, "label exists: "+req.Name)
		return
	}
	l := box.createUserLabel(strings.TrimSpace(req.Name), "show", "labelShow")
	box.advance()
	writeJSON(w, http.StatusOK, labelEntry(l))
}

// adminRenameLabel renames a user label. Like Gmail, a rename changes no
// message and so adds no history record, but the historyId still moves on.
func (s *Server) adminRenameLabel(w http.ResponseWriter, r *http.Request, box *mailbox, body []byte) {
	var req struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(body, &req); err != nil || strings.TrimSpace(req.Name) == "" {
		writeAdminError(w, http.StatusBadRequest, "request needs a label name")
		return
	}
	l, ok := box.labels[r.PathValue("id")]
	if !ok || l.typ != "user" {
		writeAdminError(w, http.StatusNotFound, "no such user label: "+r.PathValue("id"))
		return
	}
	if other := box.labelByName(req.Name); other != nil && other != l {
		writeAdminError(w, http.StatusConflict, "label exists: "+req.Name)
		return
	}
	l.name = strings.TrimSpace(req.Name)
	box.advance()
	writeJSON(w, http.StatusOK, labelEntry(l))
}

func (s *Server) adminExpireHistory(w http.ResponseWriter, _ *http.Request, box *mailbox, _ []byte) {
	box.expireHistory()
	writeJSON(w, http.StatusOK, map[string]string{"historyId": strconv.FormatUint(box.historyID, 10)})
}

func (s *Server) adminSent(w http.ResponseWriter, _ *http.Request, box *mailbox, _ []byte) {
	out := box.sent
	if out == nil {
		out = []SentMessage{}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	writeJSON(w, http.StatusOK, s.Stats())
}

// AdminFaults is the body of POST /admin/faults and its response: Faults
// with durations in milliseconds. It replaces all faults, so an absent
// field turns that fault off.
type AdminFaults struct {
	LatencyMs       int64   `json:"latencyMs"`
	LatencyJitterMs int64   `json:"latencyJitterMs"`
	ErrorRate       float64 `json:"errorRate"`
	DropRate        float64 `json:"dropRate"`
	Seed            int64   `json:"seed"`
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	var req AdminFaults
	if err := decodeStrict(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, "parsing faults: "+err.Error())
		return
	}
	f := Faults{
		Latency:       time.Duration(req.LatencyMs) * time.Millisecond,
		LatencyJitter: time.Duration(req.LatencyJitterMs) * time.Millisecond,
		ErrorRate:     req.ErrorRate,
		DropRate:      req.DropRate,
		Seed:          req.Seed,
	}
	if err := f.Validate(); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.SetFaults(f)
	writeJSON(w, http.StatusOK, req)
}

// AdminQuota is the body of POST /admin/quota and its response. A field
// left out of the request keeps its current value.
type AdminQuota struct {
	UnitsPerMinute  *int    `json:"unitsPerMinute,omitempty"`
	Regime          *string `json:"regime,omitempty"`
	MaxConcurrent   *int    `json:"maxConcurrent,omitempty"`
	RateLimitStatus *int    `json:"rateLimitStatus,omitempty"`
}

func (s *Server) adminQuota(w http.ResponseWriter, r *http.Request) {
	var req AdminQuota
	if err := decodeStrict(r, &req); err != nil {
		writeAdminError(w, http.StatusBadRequest, "parsing quota: "+err.Error())
		return
	}
	if err := req.validate(); err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := &s.quota
	if req.UnitsPerMinute != nil {
		q.unitsPerMinute = *req.UnitsPerMinute
	}
	if req.Regime != nil {
		q.regime = *req.Regime
	}
	if req.MaxConcurrent != nil {
		q.maxConcurrent = *req.MaxConcurrent
	}
	if req.RateLimitStatus != nil {
		q.rateLimitStatus = *req.RateLimitStatus
	}
	writeJSON(w, http.StatusOK, AdminQuota{
		UnitsPerMinute: &q.unitsPerMinute, Regime: &q.regime,
		MaxConcurrent: &q.maxConcurrent, RateLimitStatus: &q.rateLimitStatus,
	})
}

func (q AdminQuota) validate() error {
	switch {
	case q.UnitsPerMinute != nil && *q.UnitsPerMinute < 0:
		return fmt.Errorf("invalid unitsPerMinute %d: use 0 (no limit) or more", *q.UnitsPerMinute)
	case q.Regime != nil && *q.Regime != Regime2024 && *q.Regime != Regime2026:
		return fmt.Errorf("invalid regime %q: use %q or %q", *q.Regime, Regime2024, Regime2026)
	case q.MaxConcurrent != nil && *q.MaxConcurrent < 0:
		return fmt.Errorf("invalid maxConcurrent %d: use 0 (no limit) or more", *q.MaxConcurrent)
	case q.RateLimitStatus != nil && *q.RateLimitStatus != http.StatusForbidden && *q.RateLimitStatus != http.StatusTooManyRequests:
		return fmt.Errorf("invalid rateLimitStatus %d: use 403 or 429", *q.RateLimitStatus)
	}
	return nil
}

// decodeStrict parses a JSON request body into v and rejects unknown
// fields, so a setting with a wrong name fails instead of being ignored.
func decodeStrict(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func (s *Server) adminTokens(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	toks := append([]string{}, s.oauth.issued...)
	writeJSON(w, http.StatusOK, map[string][]string{"tokens": toks})
}

func (s *Server) adminRevokeAll(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, g := range s.oauth.refresh {
		g.revoked = true
	}
	writeJSON(w, http.StatusOK, struct{}{})
}

func (s *Server) adminDeny(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Deny bool `json:"deny"`
	}
	body, err := readBody(r, 1<<20)
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "request needs {\"deny\": true|false}")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.oauth.deny = req.Deny
	writeJSON(w, http.StatusOK, req)
}

// adminExpireAccess makes every access token issued so far expired, so the
// next API call gets 401 and the client must refresh.
func (s *Server) adminExpireAccess(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	past := s.now().Add(-time.Second)
	for _, a := range s.oauth.access {
		a.expiry = past
	}
	writeJSON(w, http.StatusOK, struct{}{})
}
