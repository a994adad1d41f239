package emulator

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"time"
)

// demoStart is the received time of the first demo message. Later ones
// follow at fixed steps, so the mailbox is the same on every run.
var demoStart = time.Date(2024, time.March, 4, 8, 30, 0, 0, time.UTC)

type demoAttachment struct {
	name, mediaType string
	data            []byte
}

// demoMail is one generated message. replyTo is the index of the message
// it replies to, or -1.
type demoMail struct {
	from, to   *mail.Address
	subject    string
	body       string
	encoding   string // "7bit", "quoted-printable" or "base64"
	html       bool   // add a text/html alternative
	attachment *demoAttachment
	replyTo    int
	labels     []string
}

var (
	demoBob     = &mail.Address{Name: "Bob Builder", Address: "bob@example.org"}
	demoJuergen = &mail.Address{Name: "Jürgen Müller", Address: "juergen@example.de"}
	demoTanaka  = &mail.Address{Name: "田中 太郎", Address: "tanaka@example.jp"}
	demoCarol   = &mail.Address{Name: "Carol Danvers", Address: "carol@example.net"}
	demoCI      = &mail.Address{Name: "gmsync CI", Address: "ci@builds.example.com"}
	demoShop    = &mail.Address{Name: "Example Shop", Address: "news@shop.example.com"}
	demoList    = &mail.Address{Name: "Go Nuts", Address: "golang-nuts@lists.example.com"}
	demoSpammer = &mail.Address{Name: "Prize Desk", Address: "winner@prize.example"}
)

// SeedDemo fills user's mailbox with 39 generated messages that are the
// same on every run. They include reply threads with In-Reply-To and
// References, attachments, RFC 2047 subjects and UTF-8 bodies, and nested
// user labels (Projects/gmsync, Projects/gmsync/Releases, Reisen/Köln, 日本語).
// Some are unread, starred or sent, and one each is a draft, spam and in the
// trash. It returns how many messages it added.
func (s *Server) SeedDemo(user string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	box := s.mailboxFor(user)
	if box == nil {
		return 0, fmt.Errorf("seeding demo mailbox for %s: no such user", user)
	}
	me := &mail.Address{Name: "Alice Example", Address: box.address}
	mails := demoMails(me)
	ids := make([]string, len(mails))
	for i, dm := range mails {
		when := demoStart.Add(time.Duration(i) * 97 * time.Minute)
		ids[i] = demoMessageID(i)
		raw := renderDemo(dm, mails, i, when)
		if _, _, err := s.addMessageLocked(box, raw, dm.labels, when); err != nil {
			return i, fmt.Errorf("seeding demo mailbox for %s: %w", user, err)
		}
	}
	return len(mails), nil
}

func demoMessageID(i int) string {
	return fmt.Sprintf("<demo-%03d@gmsync.example>", i)
}

func demoMails(me *mail.Address) []demoMail {
	in := func(labels ...string) []string { return append([]string{"INBOX"}, labels...) }
	sent := []string{"SENT"}
	m := []demoMail{
		// 0-4: a project thread, alternating inbound and sent replies.
		{from: demoBob, to: me, subject: "gmsync 0.1 release plan", replyTo: -1, labels: in("Projects/gmsync"),
			body: "Hi Alice,\n\nshall we cut 0.1 next week? The history sync is stable now.\n\nBob\n"},
		{from: me, to: demoBob, subject: "Re: gmsync 0.1 release plan", replyTo: 0, labels: sent,
			body: "Yes, after the outbox tests pass.\n\n> shall we cut 0.1 next week?\n"},
		{from: demoBob, to: me, subject: "Re: gmsync 0.1 release plan", replyTo: 1, labels: in("Projects/gmsync", "IMPORTANT"),
			body: "Great. I will write the changelog.\n"},
		{from: me, to: demoBob, subject: "Re: gmsync 0.1 release plan", replyTo: 2, labels: sent,
			body: "Thanks! Please mention the keyring setup.\n"},
		{from: demoBob, to: me, subject: "Re: gmsync 0.1 release plan", replyTo: 3, labels: in("Projects/gmsync", "UNREAD"),
			body: "Done, see the draft in the repo.\n"},
		// 5-7: release notifications, one with a PDF attachment.
		{from: demoCI, to: me, subject: "Release v0.1.0-rc1 built", replyTo: -1, labels: in("Projects/gmsync/Releases"),
			body: "All 214 tests passed.\n"},
		{from: demoCI, to: me, subject: "Release v0.1.0 built", replyTo: -1, labels: in("Projects/gmsync/Releases", "UNREAD"),
			body: "Release notes attached.\n", attachment: &demoAttachment{"release-notes.pdf", "application/pdf", demoPDF()}},
		{from: demoCI, to: me, subject: "Release v0.1.1 built", replyTo: -1, labels: []string{"Projects/gmsync/Releases"},
			body: "One fix: history pagination.\n"},
		// 8-11: a German thread with an image attachment.
		{from: demoJuergen, to: me, subject: "Reise nach Köln", replyTo: -1, labels: in("Reisen/Köln", "STARRED"), encoding: "quoted-printable",
			body: "Hallo Alice,\n\ndas Hotel am Dom ist gebucht. Grüße aus Düsseldorf!\n\nJürgen\n"},
		{from: me, to: demoJuergen, subject: "Re: Reise nach Köln", replyTo: 8, labels: sent, encoding: "quoted-printable",
			body: "Danke! Wann fährt der Zug ab?\n"},
		{from: demoJuergen, to: me, subject: "Re: Reise nach Köln", replyTo: 9, labels: in("Reisen/Köln"), encoding: "quoted-printable",
			body: "Um 9:12 Uhr, die Fahrkarte hängt an.\n", attachment: &demoAttachment{"fahrkarte.png", "image/png", demoPNG()}},
		{from: demoJuergen, to: me, subject: "Re: Reise nach Köln – Änderung", replyTo: 10, labels: in("Reisen/Köln", "UNREAD"), encoding: "quoted-printable",
			body: "Kleine Änderung: wir treffen uns am Gleis 5.\n"},
		// 12-14: a Japanese thread.
		{from: demoTanaka, to: me, subject: "会議の件", replyTo: -1, labels: in("日本語"), encoding: "base64",
			body: "アリスさん\n\n来週の会議は火曜日でよろしいでしょうか。\n\n田中\n"},
		{from: me, to: demoTanaka, subject: "Re: 会議の件", replyTo: 12, labels: sent, encoding: "base64",
			body: "田中さん\n\n火曜日で大丈夫です。\n"},
		{from: demoTanaka, to: me, subject: "Re: 会議の件", replyTo: 13, labels: in("日本語", "UNREAD"), encoding: "base64",
			body: "ありがとうございます。資料を送ります。\n"},
	}
	// 15-20: promotions with an HTML alternative.
	for i := range 6 {
		labels := []string{"CATEGORY_PROMOTIONS"}
		if i%2 == 0 {
			labels = append(labels, "UNREAD")
		}
		m = append(m, demoMail{from: demoShop, to: me, subject: fmt.Sprintf("Weekly deals #%d", i+1), replyTo: -1,
			labels: labels, html: true, body: fmt.Sprintf("This week: %d%% off keyboards & mice.\n", 10+5*i)})
	}
	// 21-24: a mailing list.
	for i := range 4 {
		m = append(m, demoMail{from: demoList, to: me, subject: fmt.Sprintf("[go-nuts] Question %d about generics", i+1),
			replyTo: -1, labels: in("CATEGORY_FORUMS"), body: "Why does the type inference fail here?\n"})
	}
	// 25-32: personal mail with stars, importance and a short thread.
	topics := []string{"Lunch on Friday?", "Book recommendation", "Photos from the hike", "Your parcel",
		"Quick question", "Re: Quick question", "Conference tickets", "Happy birthday!"}
	for i, t := range topics {
		dm := demoMail{from: demoCarol, to: me, subject: t, replyTo: -1, labels: in("CATEGORY_PERSONAL"),
			body: fmt.Sprintf("Hi Alice,\n\n%s\n\nCarol\n", strings.TrimPrefix(t, "Re: "))}
		switch i % 4 {
		case 0:
			dm.labels = append(dm.labels, "STARRED")
		case 1:
			dm.labels = append(dm.labels, "UNREAD", "IMPORTANT")
		}
		if t == "Re: Quick question" {
			dm.replyTo = 25 + i - 1
		}
		m = append(m, dm)
	}
	// 33-35: sent mail that starts new conversations.
	for i, to := range []*mail.Address{demoCarol, demoBob, demoJuergen} {
		m = append(m, demoMail{from: me, to: to, subject: fmt.Sprintf("Notes %d", i+1), replyTo: -1, labels: sent,
			body: "Here are my notes from today.\n"})
	}
	// 36-38: one draft, one spam, one trashed message.
	m = append(m,
		demoMail{from: me, to: demoBob, subject: "Draft: roadmap ideas", replyTo: -1, labels: []string{"DRAFT"},
			body: "1. batch requests\n2. push notifications\n"},
		demoMail{from: demoSpammer, to: me, subject: "You have won!!!", replyTo: -1, labels: []string{"SPAM", "UNREAD"},
			body: "Click here to claim your prize.\n"},
		demoMail{from: demoShop, to: me, subject: "Old invoice", replyTo: -1, labels: []string{"TRASH"},
			body: "Your invoice from last year.\n"},
	)
	return m
}

// renderDemo renders mails[i] as an RFC 5322 message with CRLF line ends.
func renderDemo(dm demoMail, mails []demoMail, i int, when time.Time) []byte {
	var b bytes.Buffer
	hdr := func(name, value string) { fmt.Fprintf(&b, "%s: %s\r\n", name, value) }
	hdr("From", dm.from.String())
	hdr("To", dm.to.String())
	hdr("Subject", mime.QEncoding.Encode("UTF-8", dm.subject))
	hdr("Date", when.Format(time.RFC1123Z))
	hdr("Message-ID", demoMessageID(i))
	if dm.replyTo >= 0 {
		hdr("In-Reply-To", demoMessageID(dm.replyTo))
		hdr("References", strings.Join(demoReferences(mails, dm.replyTo), " "))
	}
	hdr("MIME-Version", "1.0")

	text := textPart(dm)
	switch {
	case dm.attachment != nil:
		boundary := fmt.Sprintf("mixed-%03d", i)
		hdr("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
		b.WriteString("\r\nThis is a multi-part message in MIME format.\r\n")
		fmt.Fprintf(&b, "--%s\r\n%s\r\n--%s\r\n", boundary, text, boundary)
		a := dm.attachment
		fmt.Fprintf(&b, "Content-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\n"+
			"Content-Transfer-Encoding: base64\r\n\r\n%s\r\n--%s--\r\n", a.mediaType, a.name, a.name, wrapBase64(a.data), boundary)
	case dm.html:
		boundary := fmt.Sprintf("alt-%03d", i)
		hdr("Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
		page := "<html><body><p>" + strings.ReplaceAll(strings.TrimSpace(dm.body), "&", "&amp;") + "</p></body></html>"
		fmt.Fprintf(&b, "\r\n--%s\r\n%s\r\n--%s\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n%s\r\n--%s--\r\n",
			boundary, text, boundary, page, boundary)
	default:
		b.WriteString(text)
	}
	return b.Bytes()
}

// textPart returns the header and body of the text/plain part.
func textPart(dm demoMail) string {
	body := strings.ReplaceAll(dm.body, "\n", "\r\n")
	switch dm.encoding {
	case "quoted-printable":
		var qp bytes.Buffer
		w := quotedprintable.NewWriter(&qp)
		_, _ = w.Write([]byte(body))
		_ = w.Close()
		return "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + qp.String()
	case "base64":
		return "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrapBase64([]byte(body))
	default:
		return "Content-Type: text/plain; charset=UTF-8\r\n\r\n" + body
	}
}

// demoReferences returns the Message-IDs from the thread root to mails[i].
func demoReferences(mails []demoMail, i int) []string {
	var chain []string
	for ; i >= 0; i = mails[i].replyTo {
		chain = append([]string{demoMessageID(i)}, chain...)
	}
	return chain
}

func wrapBase64(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var lines []string
	for len(enc) > 76 {
		lines = append(lines, enc[:76])
		enc = enc[76:]
	}
	return strings.Join(append(lines, enc), "\r\n")
}

// demoPDF returns a small file that starts like a PDF and has binary bytes.
func demoPDF() []byte {
	b := []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n")
	for i := range 600 {
		b = append(b, byte(i*37+11))
	}
	return append(b, "\n%%EOF\n"...)
}

// demoPNG returns a small file that starts with the PNG signature and an
// IHDR chunk, followed by binary bytes.
func demoPNG() []byte {
	b := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00")
	for i := range 400 {
		b = append(b, byte(i*13+7))
	}
	return b
}
