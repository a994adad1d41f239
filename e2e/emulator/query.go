package emulator

import (
	"bytes"
	"strings"
)

// searchQuery is a parsed Gmail search-box query. It supports the operators
// clients use to find messages: rfc822msgid:, in:, label:, is:, from:, to:,
// subject:, a leading "-" to negate a term, and bare words matched against
// the raw message. Other operators are matched as bare words.
type searchQuery struct {
	terms []searchTerm
	// spamTrash is set by in:spam, in:trash and in:anywhere, which search
	// those labels whatever includeSpamTrash is.
	spamTrash bool
}

type searchTerm struct {
	negate    bool
	op, value string
}

func parseQuery(q string) searchQuery {
	var out searchQuery
	for _, word := range splitQuery(q) {
		t := searchTerm{}
		if strings.HasPrefix(word, "-") && len(word) > 1 {
			t.negate, word = true, word[1:]
		}
		if op, value, ok := strings.Cut(word, ":"); ok && value != "" {
			t.op, t.value = strings.ToLower(op), strings.Trim(value, `"`)
		} else {
			t.value = strings.Trim(word, `"`)
		}
		if t.op == "in" && !t.negate {
			switch strings.ToLower(t.value) {
			case "spam", "trash", "anywhere":
				out.spamTrash = true
			}
		}
		out.terms = append(out.terms, t)
	}
	return out
}

// splitQuery splits on spaces outside double quotes.
func splitQuery(q string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case (r == ' ' || r == '\t') && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func (q searchQuery) matches(b *mailbox, m *message) bool {
	for _, t := range q.terms {
		if t.matches(b, m) == t.negate {
			return false
		}
	}
	return true
}

func (t searchTerm) matches(b *mailbox, m *message) bool {
	switch t.op {
	case "rfc822msgid":
		// Gmail accepts the id with or without angle brackets.
		return strings.Trim(m.messageID, "<>") == strings.Trim(t.value, "<>")
	case "in", "is":
		return matchesIn(m, strings.ToLower(t.value))
	case "label":
		return matchesLabelName(b, m, t.value)
	case "from", "to", "cc", "bcc", "subject":
		header, _ := splitHeader(m.raw)
		for _, v := range headerValues(parseHeader(header), t.op) {
			if strings.Contains(strings.ToLower(v), strings.ToLower(t.value)) {
				return true
			}
		}
		return false
	default:
		word := t.value
		if t.op != "" {
			word = t.op + ":" + t.value
		}
		return bytes.Contains(bytes.ToLower(m.raw), []byte(strings.ToLower(word)))
	}
}

func matchesIn(m *message, v string) bool {
	switch v {
	case "anywhere":
		return true
	case "read":
		return !m.hasLabel("UNREAD")
	case "drafts":
		return m.hasLabel("DRAFT")
	case "chats":
		return m.hasLabel("CHAT")
	default:
		return m.hasLabel(strings.ToUpper(v))
	}
}

// matchesLabelName compares as Gmail's label: operator does: case-insensitive,
// with "/" and spaces in the label name also matching "-".
func matchesLabelName(b *mailbox, m *message, v string) bool {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("/", "-", " ", "-").Replace(s))
	}
	for _, id := range m.labels {
		l := b.labels[id]
		if l == nil {
			continue
		}
		if strings.EqualFold(l.name, v) || norm(l.name) == norm(v) || strings.EqualFold(l.id, v) {
			return true
		}
	}
	return false
}
