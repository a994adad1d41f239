package emulator

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"
)

var messageIDPattern = regexp.MustCompile(`<[^<>\s]+>`)

// messageIDList returns the <...> message ids in an In-Reply-To or
// References value, in order.
func messageIDList(v string) []string {
	return messageIDPattern.FindAllString(v, -1)
}

// decodeWords decodes RFC 2047 encoded words, returning v itself on error.
func decodeWords(v string) string {
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	if d, err := dec.DecodeHeader(v); err == nil {
		return d
	}
	return v
}

// newMessage builds a message with a fresh id that starts its own thread.
// A zero received time falls back to the Date header, then to now.
// The caller holds s.mu.
func (s *Server) newMessage(raw []byte, received time.Time) *message {
	header, _ := splitHeader(raw)
	fields := parseHeader(header)
	if received.IsZero() {
		received = s.now()
		if d, err := mail.ParseDate(headerValue(fields, "Date")); err == nil {
			received = d
		}
	}
	id := s.nextMessageID()
	ids := messageIDList(headerValue(fields, "Message-ID"))
	msgID := ""
	if len(ids) > 0 {
		msgID = ids[0]
	}
	return &message{
		id:           id,
		threadID:     id, // a new conversation's threadId equals its first message's id (observed)
		raw:          raw,
		internalDate: received.UnixMilli(),
		messageID:    msgID,
		snippet:      makeSnippet(raw),
	}
}

// AddMessage delivers raw to user's mailbox as if Gmail had received it,
// with the given labels, and records messageAdded in the history. Label
// names that are system ids (INBOX, UNREAD, SENT, CATEGORY_SOCIAL, ...) are
// used as ids. Any other name is a user label, created on first use. The
// message joins the thread of a known message named in its In-Reply-To or
// References header, else starts a new thread. A zero internalDate means the
// Date header, or now. raw is copied.
func (s *Server) AddMessage(user string, raw []byte, labelNames []string, internalDate time.Time) (id, threadID string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	box := s.mailboxFor(user)
	if box == nil {
		return "", "", fmt.Errorf("adding message for %s: no such user", user)
	}
	return s.addMessageLocked(box, slices.Clone(raw), labelNames, internalDate)
}

func (s *Server) addMessageLocked(box *mailbox, raw []byte, labelNames []string, internalDate time.Time) (string, string, error) {
	var labelIDs []string
	for _, name := range labelNames {
		id, err := box.resolveLabel(name)
		if err != nil {
			return "", "", fmt.Errorf("adding message for %s: label %q: %w", box.address, name, err)
		}
		if !slices.Contains(labelIDs, id) {
			labelIDs = append(labelIDs, id)
		}
	}
	m := s.newMessage(raw, internalDate)
	header, _ := splitHeader(raw)
	fields := parseHeader(header)
	refs := messageIDList(headerValue(fields, "References") + " " + headerValue(fields, "In-Reply-To"))
	if t := box.threadOf(refs); t != "" {
		m.threadID = t
	}
	m.labels = labelIDs
	box.insert(m, s.opts.HistoryRetention)
	return m.id, m.threadID, nil
}

// SeedDir adds every *.eml file in dir, in name order, to user's mailbox and
// returns how many it added. labelsFile, when not empty, is a JSON object
// from file name to label names ({"a.eml": ["INBOX", "Work/Projects"]}); a
// file without an entry gets ["INBOX"]. Received times follow each
// message's Date header.
func (s *Server) SeedDir(user, dir, labelsFile string) (int, error) {
	labels := map[string][]string{}
	if labelsFile != "" {
		data, err := os.ReadFile(labelsFile)
		if err != nil {
			return 0, fmt.Errorf("reading seed labels %s: %w", labelsFile, err)
		}
		if err := json.Unmarshal(data, &labels); err != nil {
			return 0, fmt.Errorf("parsing seed labels %s: %w", labelsFile, err)
		}
	}
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return 0, fmt.Errorf("listing %s: %w", dir, err)
	}
	slices.Sort(paths)
	n := 0
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return n, fmt.Errorf("reading seed message %s: %w", p, err)
		}
		names, ok := labels[filepath.Base(p)]
		if !ok {
			names = []string{"INBOX"}
		}
		if _, _, err := s.AddMessage(user, raw, names, time.Time{}); err != nil {
			return n, fmt.Errorf("seeding %s: %w", p, err)
		}
		n++
	}
	return n, nil
}
