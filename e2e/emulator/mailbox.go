package emulator

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// systemLabels are the system label ids that labels.list returns. Google's
// label guide lists INBOX, SPAM, TRASH, UNREAD, STARRED, IMPORTANT, SENT,
// DRAFT and CATEGORY_* and calls the list not exhaustive. Real responses
// also contain CHAT (observed).
var systemLabels = []string{
	"CHAT", "SENT", "INBOX", "IMPORTANT", "TRASH", "DRAFT", "SPAM",
	"CATEGORY_FORUMS", "CATEGORY_UPDATES", "CATEGORY_PERSONAL",
	"CATEGORY_PROMOTIONS", "CATEGORY_SOCIAL", "STARRED", "UNREAD",
}

// label is one Gmail label. System labels have id == name.
type label struct {
	id, name, typ         string // typ is "system" or "user"
	messageListVisibility string
	labelListVisibility   string
}

// message is one stored message. raw is kept exactly as received.
type message struct {
	id, threadID string
	labels       []string
	raw          []byte
	internalDate int64 // ms since the epoch
	historyID    uint64
	messageID    string // the Message-ID header, angle brackets included
	snippet      string
}

func (m *message) hasLabel(id string) bool { return slices.Contains(m.labels, id) }

// History record kinds, named as history.list's historyTypes values.
const (
	kindMessageAdded   = "messageAdded"
	kindMessageDeleted = "messageDeleted"
	kindLabelAdded     = "labelAdded"
	kindLabelRemoved   = "labelRemoved"
)

// historyRecord is one change to one message.
type historyRecord struct {
	id        uint64
	kind      string
	messageID string
	threadID  string
	labelIDs  []string // the labels added or removed
	snapshot  []string // the message's labels right after the change
}

// mailbox is one user's mail. Server.mu guards it.
type mailbox struct {
	address    string
	labels     map[string]*label
	labelOrder []string
	nextLabelN int
	messages   map[string]*message
	byHeaderID map[string]string // Message-ID header to message id, first seen wins

	// sendingBlockedUntil makes messages.send fail with the "(Mail
	// sending)" 429 until then; set through the admin API.
	sendingBlockedUntil time.Time

	historyID   uint64
	history     []historyRecord
	oldestValid uint64          // the smallest startHistoryId history.list accepts
	issued      map[uint64]bool // every historyId the mailbox ever reported
	rng         *rand.Rand

	sent []SentMessage
}

func newMailbox(address string) *mailbox {
	b := &mailbox{
		address:    address,
		labels:     make(map[string]*label),
		nextLabelN: 1,
		messages:   make(map[string]*message),
		byHeaderID: make(map[string]string),
		issued:     make(map[uint64]bool),
		rng:        rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
	}
	for _, id := range systemLabels {
		l := &label{id: id, name: id, typ: "system"}
		switch id {
		case "INBOX", "SENT", "DRAFT", "SPAM", "TRASH", "IMPORTANT", "STARRED", "UNREAD":
			l.labelListVisibility = "labelShow"
		case "CHAT":
			l.messageListVisibility, l.labelListVisibility = "hide", "labelHide"
		}
		b.addLabel(l)
	}
	b.historyID = 1000 + b.rng.Uint64N(100000)
	b.issued[b.historyID] = true
	b.oldestValid = b.historyID
	return b
}

func (b *mailbox) addLabel(l *label) {
	b.labels[l.id] = l
	b.labelOrder = append(b.labelOrder, l.id)
}

// labelByName finds a label by name, case-insensitively, as Gmail compares
// label names for conflicts.
func (b *mailbox) labelByName(name string) *label {
	for _, id := range b.labelOrder {
		if l := b.labels[id]; strings.EqualFold(l.name, name) {
			return l
		}
	}
	return nil
}

// resolveLabel turns a seeding label name into an id: system ids stand for
// themselves, an existing user label is found by name, and any other name
// becomes a new user label with an id of the form Label_N (observed ids).
func (b *mailbox) resolveLabel(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", fmt.Errorf("empty label name")
	}
	if l, ok := b.labels[name]; ok {
		return l.id, nil
	}
	if l := b.labelByName(name); l != nil {
		return l.id, nil
	}
	return b.createUserLabel(name, "show", "labelShow").id, nil
}

func (b *mailbox) createUserLabel(name, msgVis, listVis string) *label {
	l := &label{
		id:                    fmt.Sprintf("Label_%d", b.nextLabelN),
		name:                  name,
		typ:                   "user",
		messageListVisibility: msgVis,
		labelListVisibility:   listVis,
	}
	b.nextLabelN++
	b.addLabel(l)
	return l
}

// advance issues the next historyId. Gmail's ids "increase chronologically
// but are not contiguous with random gaps" (Message.historyId, discovery
// document), so the step is never 1.
func (b *mailbox) advance() uint64 {
	b.historyID += 2 + b.rng.Uint64N(40)
	b.issued[b.historyID] = true
	return b.historyID
}

// record appends a history record about m and makes it m's historyId.
func (b *mailbox) record(kind string, m *message, labelIDs []string, retention int) {
	r := historyRecord{
		id:        b.advance(),
		kind:      kind,
		messageID: m.id,
		threadID:  m.threadID,
		labelIDs:  slices.Clone(labelIDs),
		snapshot:  slices.Clone(m.labels),
	}
	m.historyID = r.id
	b.history = append(b.history, r)
	if retention > 0 && len(b.history) > retention {
		drop := len(b.history) - retention
		// Records after the last dropped one are all kept, so its id is
		// still a complete starting point.
		b.oldestValid = b.history[drop-1].id
		b.history = slices.Delete(b.history, 0, drop)
	}
}

// expireHistory makes every historyId issued so far too old, then issues a
// fresh one so that getProfile offers a valid starting point again.
func (b *mailbox) expireHistory() {
	b.history = nil
	b.oldestValid = b.advance()
}

// validStart reports whether history.list can start after id. Gmail returns
// 404 for an id it no longer keeps (users.history.list reference). The
// emulator also returns 404 for ids it never issued or that lie in the
// future, which is unconfirmed for real Gmail.
func (b *mailbox) validStart(id uint64) bool {
	return id >= b.oldestValid && id <= b.historyID && b.issued[id]
}

// insert stores m, threading it, and records messageAdded.
func (b *mailbox) insert(m *message, retention int) {
	b.messages[m.id] = m
	if m.messageID != "" {
		if _, ok := b.byHeaderID[m.messageID]; !ok {
			b.byHeaderID[m.messageID] = m.id
		}
	}
	b.record(kindMessageAdded, m, nil, retention)
}

// threadOf returns the thread of the newest known message that refs names,
// the In-Reply-To and References message ids of a new message, or "".
func (b *mailbox) threadOf(refs []string) string {
	for i := len(refs) - 1; i >= 0; i-- {
		if id, ok := b.byHeaderID[refs[i]]; ok {
			if m, ok := b.messages[id]; ok {
				return m.threadID
			}
		}
	}
	return ""
}

// threadExists reports whether any stored message belongs to threadID.
func (b *mailbox) threadExists(threadID string) bool {
	for _, m := range b.messages {
		if m.threadID == threadID {
			return true
		}
	}
	return false
}

// modifyLabels applies a label change and records one labelAdded and one
// labelRemoved record for the labels that really changed. It returns whether
// anything changed.
func (b *mailbox) modifyLabels(m *message, add, remove []string, retention int) bool {
	var added, removed []string
	for _, id := range add {
		if !m.hasLabel(id) && !slices.Contains(added, id) && !slices.Contains(remove, id) {
			added = append(added, id)
		}
	}
	for _, id := range remove {
		if m.hasLabel(id) && !slices.Contains(removed, id) {
			removed = append(removed, id)
		}
	}
	if len(added) > 0 {
		m.labels = append(m.labels, added...)
		b.record(kindLabelAdded, m, added, retention)
	}
	if len(removed) > 0 {
		m.labels = slices.DeleteFunc(m.labels, func(id string) bool { return slices.Contains(removed, id) })
		b.record(kindLabelRemoved, m, removed, retention)
	}
	return len(added)+len(removed) > 0
}

// remove deletes m permanently and records messageDeleted.
func (b *mailbox) remove(m *message, retention int) {
	delete(b.messages, m.id)
	if b.byHeaderID[m.messageID] == m.id {
		delete(b.byHeaderID, m.messageID)
	}
	b.record(kindMessageDeleted, m, nil, retention)
}

// sortedMessages returns messages newest first by internalDate, then by
// descending id, the order messages.list uses.
func (b *mailbox) sortedMessages() []*message {
	out := make([]*message, 0, len(b.messages))
	for _, m := range b.messages {
		out = append(out, m)
	}
	slices.SortFunc(out, compareNewestFirst)
	return out
}

func compareNewestFirst(a, c *message) int {
	if r := cmp.Compare(c.internalDate, a.internalDate); r != 0 {
		return r
	}
	return cmp.Compare(c.id, a.id)
}

// nextMessageID issues a 16-digit lowercase hex id greater than every
// earlier one, like Gmail's ids (e.g. 152d10540c21bd07). The caller holds s.mu.
func (s *Server) nextMessageID() string {
	s.nextMsgID += 1 + uint64(rand.IntN(4096))
	return fmt.Sprintf("%016x", s.nextMsgID)
}

func initialMessageID() uint64 {
	// Ids of messages received in 2024 start near 0x19 (observed ids grow
	// with time), and the random offset keeps runs apart.
	return 0x1900000000000000 + uint64(rand.Int64N(1<<40))
}
