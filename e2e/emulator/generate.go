package emulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"math/rand/v2"
	"strings"
	"time"
	"unicode/utf8"
)

// Sizes of generated messages in bytes, headers included. Sizes are drawn
// uniformly between the two, so the mean is about 11 KiB.
const (
	generatedMinSize = 2 << 10
	generatedMaxSize = 20 << 10
)

// generatedStart is the received time of the first generated message. Later
// ones follow at steps of 5 to 9 minutes, so 50,000 messages span about a
// year.
var generatedStart = time.Date(2025, time.January, 6, 7, 0, 0, 0, time.UTC)

// generatedUserLabels are the user labels that generated messages may carry.
var generatedUserLabels = []string{"Projects/gmsync", "Receipts", "Lists/golang-nuts", "Travel"}

var generatedSenders = []string{
	"Bob Builder <bob@example.org>",
	"Carol Danvers <carol@example.net>",
	"gmsync CI <ci@builds.example.com>",
	"Example Shop <news@shop.example.com>",
	"Go Nuts <golang-nuts@lists.example.com>",
	"Dave Null <dave@example.com>",
}

var generatedWords = strings.Fields(`the a of to and in is it that for on with as was
at by be this from or have an they which one you had not but what all were when we
there can said use each she do how their if will up other about out many then them
these so some her would make like him into time has look two more write go see number
no way could people my than first water been call who oil its now find long down day
did get come made may part sync mail label thread folder quota history token message
inbox archive draft reply review patch build release deploy branch commit merge test`)

// generatedLinePool is how many distinct body lines one Generate call
// draws; bodies are runs of consecutive pool lines.
const generatedLinePool = 512

// generatedMail is what later messages of the same run need to reply to an
// earlier one.
type generatedMail struct {
	subject, messageID, threadID string
}

// Generate adds n messages of generated mail to user's mailbox, for
// benchmarks that need a large mailbox fast. The content is a function of
// seed and n: the same seed gives the same raw messages, labels and received
// times, though the Gmail ids differ between servers. Messages are 2 to 20
// KiB of plain text, one in ten is multipart with a small attachment, and
// about a third reply to a recent message and join its thread. Labels mimic
// a real account: INBOX, SENT, archived mail, UNREAD, STARRED, IMPORTANT,
// two categories and four user labels (Projects/gmsync, Receipts,
// Lists/golang-nuts, Travel). Each message records messageAdded in the
// history. Message-ID headers are <gen-SEED-I@gmsync.example>, so a second
// call with the same seed repeats them.
func (s *Server) Generate(user string, n int, seed int64) error {
	if n < 0 {
		return fmt.Errorf("generating %d messages for %s: the count must be 0 or more", n, user)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	box := s.mailboxFor(user)
	if box == nil {
		return fmt.Errorf("generating messages for %s: no such user", user)
	}
	return s.generateLocked(box, n, seed)
}

// generateLocked is Generate for a mailbox already found. The caller holds
// s.mu.
func (s *Server) generateLocked(box *mailbox, n int, seed int64) error {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x676d73796e63))
	userLabels := make([]string, len(generatedUserLabels))
	for i, name := range generatedUserLabels {
		id, err := box.resolveLabel(name)
		if err != nil {
			return fmt.Errorf("generating messages for %s: label %q: %w", box.address, name, err)
		}
		userLabels[i] = id
	}
	lines := generatedLines(rng)
	earlier := make([]generatedMail, 0, n)
	when := generatedStart
	for i := range n {
		when = when.Add(time.Duration(5+rng.IntN(5)) * time.Minute)
		g := generatedMail{
			subject:   fmt.Sprintf("%s %s report %d", generatedWords[rng.IntN(len(generatedWords))], generatedWords[rng.IntN(len(generatedWords))], i),
			messageID: fmt.Sprintf("<gen-%d-%d@gmsync.example>", seed, i),
		}
		var parent *generatedMail
		if i > 0 && rng.IntN(3) == 0 {
			parent = &earlier[i-1-rng.IntN(min(i, 50))]
			g.subject = "Re: " + strings.TrimPrefix(parent.subject, "Re: ")
		}
		sent := rng.IntN(10) == 0
		raw, snippet := generatedRaw(rng, lines, box.address, g, parent, sent, when)

		m := &message{
			id:           s.nextMessageID(),
			raw:          raw,
			internalDate: when.UnixMilli(),
			messageID:    g.messageID,
			snippet:      snippet,
			labels:       generatedLabels(rng, userLabels, sent),
		}
		m.threadID = m.id
		if parent != nil {
			m.threadID = parent.threadID
		}
		g.threadID = m.threadID
		box.insert(m, s.opts.HistoryRetention)
		earlier = append(earlier, g)
	}
	return nil
}

// generatedLines returns the pool of body lines, each 50 to 76 characters
// of words and a CRLF.
func generatedLines(rng *rand.Rand) []string {
	lines := make([]string, generatedLinePool)
	var b strings.Builder
	for i := range lines {
		b.Reset()
		limit := 50 + rng.IntN(27)
		for b.Len() < limit-8 {
			if b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(generatedWords[rng.IntN(len(generatedWords))])
		}
		b.WriteString(".\r\n")
		lines[i] = b.String()
	}
	return lines
}

// generatedRaw renders one message and returns it with its snippet.
func generatedRaw(rng *rand.Rand, lines []string, me string, g generatedMail, parent *generatedMail, sent bool, when time.Time) (raw []byte, snippet string) {
	size := generatedMinSize + rng.IntN(generatedMaxSize-generatedMinSize+1)
	var buf bytes.Buffer
	buf.Grow(size + 1024)

	from, to := generatedSenders[rng.IntN(len(generatedSenders))], "Alice Example <"+me+">"
	if sent {
		from, to = to, from
	}
	fmt.Fprintf(&buf, "From: %s\r\nTo: %s\r\nSubject: %s\r\n", from, to, g.subject)
	fmt.Fprintf(&buf, "Date: %s\r\nMessage-ID: %s\r\n", when.Format(time.RFC1123Z), g.messageID)
	if parent != nil {
		fmt.Fprintf(&buf, "In-Reply-To: %s\r\nReferences: %s\r\n", parent.messageID, parent.messageID)
	}
	buf.WriteString("MIME-Version: 1.0\r\n")

	attach := rng.IntN(10) == 0
	const boundary = "gmsync-generated-boundary"
	if attach {
		buf.WriteString("Content-Type: multipart/mixed; boundary=\"" + boundary + "\"\r\n\r\n--" + boundary + "\r\n")
	}
	buf.WriteString("Content-Type: text/plain; charset=utf-8\r\n\r\n")

	bodyStart := buf.Len()
	for next := rng.IntN(len(lines)); buf.Len() < size; next = (next + 1) % len(lines) {
		buf.WriteString(lines[next])
	}
	snippet = generatedSnippet(buf.Bytes()[bodyStart:])
	if attach {
		data := make([]byte, 256+rng.IntN(768))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		fmt.Fprintf(&buf, "--%s\r\nContent-Type: application/octet-stream\r\n", boundary)
		fmt.Fprintf(&buf, "Content-Disposition: attachment; filename=\"data-%d.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", rng.IntN(1000))
		buf.WriteString(base64.StdEncoding.EncodeToString(data))
		fmt.Fprintf(&buf, "\r\n--%s--\r\n", boundary)
	}
	return buf.Bytes(), snippet
}

// generatedLabels picks the label ids of one message: received mail is in
// INBOX (seven in ten) or archived, sent mail carries SENT.
func generatedLabels(rng *rand.Rand, userLabels []string, sent bool) []string {
	var labels []string
	switch {
	case sent:
		labels = append(labels, "SENT")
	case rng.IntN(10) < 7:
		labels = append(labels, "INBOX")
	}
	if !sent {
		if rng.IntN(10) < 3 {
			labels = append(labels, "UNREAD")
		}
		switch rng.IntN(10) {
		case 0:
			labels = append(labels, "CATEGORY_PROMOTIONS")
		case 1:
			labels = append(labels, "CATEGORY_UPDATES")
		}
	}
	if rng.IntN(20) == 0 {
		labels = append(labels, "STARRED")
	}
	if rng.IntN(7) == 0 {
		labels = append(labels, "IMPORTANT")
	}
	if rng.IntN(4) == 0 {
		labels = append(labels, userLabels[rng.IntN(len(userLabels))])
	}
	return labels
}

// generatedSnippet is makeSnippet for a plain ASCII body, without parsing
// the message.
func generatedSnippet(body []byte) string {
	text := strings.Join(strings.Fields(string(body[:min(len(body), 4*snippetRunes)])), " ")
	if utf8.RuneCountInString(text) > snippetRunes {
		text = string([]rune(text)[:snippetRunes])
	}
	return html.EscapeString(text)
}
