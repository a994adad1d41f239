package sendmail

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// MaxMessageSize is the largest prepared message in bytes that Gmail's
// media upload for users.messages.send takes: 36700160 bytes (35 MiB), the
// maxSize of that method in the Gmail API discovery document.
const MaxMessageSize = 36700160

// Env is the context of a Prepare call that the message does not contain.
type Env struct {
	// Now is the time for an added Date field; the zero value means
	// time.Now(). Its location sets the zone offset written.
	Now time.Time
	// Domain is the domain of added Message-IDs, such as the domain of the
	// account's address. When empty, the domain of Address is used.
	Domain string
	// Address is the account's address. Prepare never writes a From field
	// from it: Gmail fills a missing From with the account's address.
	Address string
	// Random is the source of Message-ID randomness; nil means crypto/rand.
	Random io.Reader
}

// Prepared is a message ready for users.messages.send.
type Prepared struct {
	// Raw is the message to upload: the input with leading mbox "From "
	// lines removed, the added header lines at the top, and the envelope
	// recipients missing from the header appended to an existing Bcc field.
	Raw []byte
	// Recipients are all addresses Gmail will send to, for logging: the
	// To, Cc and Bcc addresses after the additions, without duplicates.
	Recipients []string
	// MessageID is the Message-ID without angle brackets, the existing one
	// or the one added. Gmail may replace it on sending.
	MessageID string
	// From is the addr-spec of the From field, the field's value as written
	// when it does not parse, or "" without a From field.
	From string
	// InReplyTo is the first message id of In-Reply-To, without angle
	// brackets, or "".
	InReplyTo string
	// References are the message ids of References, without angle brackets,
	// oldest first as written.
	References []string
	// Warnings are notes for the user that do not stop the send, such as
	// header recipients that are not on the command line.
	Warnings []string
	// Reencoded is the number of plain-text parts re-encoded as
	// quoted-printable because of lines over 76 characters.
	Reencoded int
}

// Prepare turns the message a mail client piped in into the message for
// Gmail. Gmail sends to the To, Cc and Bcc addresses of the message, so
// every envelope recipient (opts.Recipients) that those fields do not name
// is added as Bcc. With opts.ExtractRecipients (-t) the header addresses are
// recipients as well; without it they still receive the message, which
// Prepare reports in Warnings.
//
// The message bytes are kept as they are: LF, CRLF or mixed line endings,
// 8-bit and binary content, and lines holding only ".". Added lines use the
// line ending of the first line. Prepare adds Date (RFC 5322 format) and
// Message-ID when missing, at the top of the header block, and removes
// leading mbox "From " lines as Postfix does. A message whose first line is
// not a header field gets a blank line after the added fields, so that its
// first line stays in the body.
//
// Unless opts.NoReencode is set, text/plain parts with a line over 76 bytes
// and a 7bit, 8bit or missing Content-Transfer-Encoding are re-encoded as
// quoted-printable, because Gmail is reported to re-wrap long lines of
// API-sent mail. Their decoded content and line endings stay the same, and
// Prepared.Reencoded counts them. Parts whose meaning is in doubt (other
// encodings, attached messages, malformed multipart structure) are left
// alone. So are signed parts, because re-encoding would break the
// signature, and a warning reports it when they have long lines.
//
// Prepare accepts what Gmail accepts: a missing blank line between header
// and body, a header-only message, a message without header fields,
// unparsable Date or Message-ID values, and 8-bit header values.
//
// Prepare returns a *DataError for input with nothing but blank lines or
// "From " lines, and for a NUL byte in a header field. An address in To, Cc,
// Bcc or the arguments that does not parse is a *DataError too, because
// Gmail would reject or misroute it. So is a bounce (a message with Resent-
// fields) whose header names recipients missing from the command line,
// because Gmail would send it to them again. More than MaxRecipients
// distinct recipients, or a prepared message over MaxMessageSize, is a
// *DataError. No recipient at all is a *UsageError.
func Prepare(raw []byte, opts *Options, env Env) (*Prepared, error) {
	if opts == nil {
		opts = &Options{}
	}
	msg := stripFromLines(raw)
	if len(bytes.Trim(msg, " \t\r\n")) == 0 {
		return nil, emptyMessageError(raw)
	}
	block, err := scanHeader(msg)
	if err != nil {
		return nil, err
	}
	fields, err := readFields(msg, block)
	if err != nil {
		return nil, err
	}
	plan, err := planRecipients(fields, opts)
	if err != nil {
		return nil, err
	}

	eol := lineEnding(msg)
	added, err := addedFields(fields, plan, env, eol)
	if err != nil {
		return nil, err
	}
	edits := bccEdit(msg, fields.bcc, plan.bccAdditions, eol)
	var reencoded reencoding
	if !opts.NoReencode {
		reencoded = reencodeLongLines(msg, block, eol)
		edits = append(edits, reencoded.edits...)
	}
	if reencoded.signed {
		plan.warnings = append(plan.warnings, signedWarning)
	}
	if len(block.fields) == 0 && !block.separated {
		added = append(added, reencoded.header...)
		added = append(added, eol...)
	} else if len(reencoded.header) > 0 {
		edits = append(edits, edit{start: block.end, end: block.end, text: reencoded.header})
	}
	out := assemble(msg, added, edits)
	if len(out) > MaxMessageSize {
		return nil, &DataError{Message: fmt.Sprintf(
			"message is %d bytes, over Gmail's limit of %d bytes (35 MiB)", len(out), MaxMessageSize)}
	}

	messageID := fields.messageID
	if messageID == "" {
		messageID = plan.newMessageID
	}
	return &Prepared{
		Raw:        out,
		Recipients: plan.all,
		MessageID:  messageID,
		From:       fields.from,
		InReplyTo:  fields.inReplyTo,
		References: fields.references,
		Warnings:   plan.warnings,
		Reencoded:  reencoded.parts,
	}, nil
}

func emptyMessageError(raw []byte) error {
	if len(raw) == 0 {
		return &DataError{Message: "empty message: standard input held no bytes"}
	}
	return &DataError{Message: fmt.Sprintf("empty message: the %d bytes on standard input hold no header field and no body text", len(raw))}
}

// edit replaces msg[start:end] with text. With start == end it inserts text.
type edit struct {
	start, end int
	text       []byte
}

// assemble builds the prepared message: added at the top, then msg with
// the edits applied. Edits must not overlap, and edits at the same offset
// are applied in slice order.
func assemble(msg, added []byte, edits []edit) []byte {
	slices.SortStableFunc(edits, func(a, b edit) int { return a.start - b.start })
	size := len(added) + len(msg)
	for _, e := range edits {
		size += len(e.text) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	out = append(out, added...)
	pos := 0
	for _, e := range edits {
		out = append(out, msg[pos:e.start]...)
		out = append(out, e.text...)
		pos = e.end
	}
	return append(out, msg[pos:]...)
}

// bccEdit returns the edit that appends bccAdditions to the existing Bcc
// field, if there is one and anything to add.
func bccEdit(msg []byte, bcc *headerField, bccAdditions []string, eol string) []edit {
	if bcc == nil || len(bccAdditions) == 0 {
		return nil
	}
	at, splice := appendToField(msg, *bcc, bccAdditions, eol)
	return []edit{{start: at, end: at, text: splice}}
}

// addedFields returns the header lines to put at the top of the message.
// It sets plan.newMessageID when it adds a Message-ID.
func addedFields(fields *messageFields, plan *recipientPlan, env Env, eol string) ([]byte, error) {
	var b strings.Builder
	if !fields.hasDate {
		now := env.Now
		if now.IsZero() {
			now = time.Now()
		}
		b.WriteString("Date: " + now.Format(time.RFC1123Z) + eol)
	}
	if !fields.hasMessageID {
		random := env.Random
		if random == nil {
			random = rand.Reader
		}
		id, err := newMessageID(random, messageIDDomain(env))
		if err != nil {
			return nil, err
		}
		plan.newMessageID = id
		b.WriteString("Message-ID: <" + id + ">" + eol)
	}
	if fields.bcc == nil && len(plan.bccAdditions) > 0 {
		b.WriteString(bccField(plan.bccAdditions, eol))
	}
	return []byte(b.String()), nil
}

// maxLineLength is the line length in bytes at which an added Bcc field
// folds, the limit that RFC 5322 section 2.1.1 recommends.
const maxLineLength = 78

// bccField returns a new Bcc field naming addrs, folded before an address
// that would make a line longer than maxLineLength.
func bccField(addrs []string, eol string) string {
	var b strings.Builder
	b.WriteString("Bcc:")
	lineLength := len("Bcc:")
	for k, addr := range addrs {
		if k > 0 {
			b.WriteString(",")
			lineLength++
		}
		width := 1 + len(addr) // the blank before the address
		if k < len(addrs)-1 {
			width++ // the comma after it
		}
		if k > 0 && lineLength+width > maxLineLength {
			b.WriteString(eol)
			lineLength = 0
		}
		b.WriteString(" " + addr)
		lineLength += 1 + len(addr)
	}
	return b.String() + eol
}

// appendToField returns where in msg to insert the addresses appended to an
// existing Bcc field, and the bytes to insert: before the line ending of the
// field's last line, each address on a continuation line of its own.
func appendToField(msg []byte, field headerField, addrs []string, eol string) (int, []byte) {
	at := field.end
	fieldEOL := eol
	switch {
	case bytes.HasSuffix(msg[:at], []byte("\r\n")):
		at -= 2
		fieldEOL = "\r\n"
	case bytes.HasSuffix(msg[:at], []byte("\n")):
		at--
		fieldEOL = "\n"
	}
	empty := field.value(msg) == ""
	var b strings.Builder
	for k, addr := range addrs {
		if k == 0 && empty {
			b.WriteString(" " + addr)
			continue
		}
		b.WriteString("," + fieldEOL + " " + addr)
	}
	return at, []byte(b.String())
}
