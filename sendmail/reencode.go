package sendmail

import (
	"bytes"
	"errors"
	"mime"
	"strings"
)

// Users of senders built on the Gmail API report that recipients get long
// plain-text lines re-wrapped near 72 columns, which breaks patches (the
// report "sendgmail: wrapping lines incorrectly at 72 chars" in the
// google/gmail-oauth2-tools tracker, 2024). Quoted-printable lines are at
// most 76 characters long, so re-encoding leaves no long line to re-wrap,
// and decoders restore the original lines.
// NOTE: Gmail does not document this re-wrapping, so whether it also
// touches 76-character lines is unknown. Quoted-printable is the workaround
// suggested in that report.

// maxNesting is the maximum depth of nested multipart entities that
// reencodeLongLines walks. Deeper parts are left as they are.
const maxNesting = 50

// signedWarning is the Prepare warning for long lines that a signature
// keeps from being re-encoded.
const signedWarning = "the message is signed (multipart/signed) and has plain-text lines over 76 characters; " +
	"they are sent as they are, because re-encoding them would break the signature, so Gmail may re-wrap them"

// reencoding is the result of reencodeLongLines.
type reencoding struct {
	edits []edit
	// header holds the fields to add at the end of the top-level header:
	// MIME-Version, and Content-Transfer-Encoding when the top-level entity
	// is re-encoded and has no such field.
	header []byte
	// parts is the number of parts re-encoded.
	parts int
	// signed is set when a signed part has long lines that were left alone.
	signed bool
}

// reencodeLongLines returns the edits that re-encode text/plain entities of
// msg as quoted-printable. An entity is re-encoded when it has a line over
// maxEncodedLine bytes and a Content-Transfer-Encoding of 7bit, 8bit or
// none, at the top level or in a multipart entity at any depth. Each such
// entity gets a Content-Transfer-Encoding: quoted-printable field (the
// value of an existing field is replaced), and the message gets
// MIME-Version: 1.0 when it has none. A message without header fields is all body, because Prepare
// puts its added fields and a blank line above it. eol is the line ending
// of those added fields.
//
// Anything whose meaning is in doubt is left alone: parts already encoded
// (base64, quoted-printable, binary, unknown encodings), media types other
// than text/plain, message/rfc822 parts, entities with several
// Content-Type or Content-Transfer-Encoding fields or an unparsable
// Content-Type, multipart bodies without a closing boundary, header fields
// that no blank line ends, and every part under multipart/signed (RFC
// 1847), whose signature covers the part's bytes.
//
// The line length counts bytes, so a line of non-ASCII UTF-8 text may count
// as long with fewer than 76 characters. Its content is kept all the same.
func reencodeLongLines(msg []byte, block headerBlock, eol string) reencoding {
	var r reencoding
	w := walker{msg: msg, eol: eol, result: &r}
	switch {
	case len(block.fields) == 0 && !block.separated:
		w.textPart(block, 0, len(msg), 0, false)
	case !block.separated:
		return r
	default:
		w.entity(block, len(msg), "text/plain", 0, false)
		eol = lineEnding(msg[block.end:])
	}
	if r.parts > 0 && countFields(block, "MIME-Version") == 0 {
		r.header = append([]byte("MIME-Version: 1.0"+eol), r.header...)
	}
	return r
}

// walker walks the MIME structure of msg by byte offsets.
type walker struct {
	msg []byte
	// eol is the line ending of header fields added to a top-level header
	// that has no blank line to take it from.
	eol    string
	result *reencoding
}

// entity handles the entity whose header is block and whose body ends at
// end. defaultType is the media type without a Content-Type field: text/plain,
// or message/rfc822 inside multipart/digest (RFC 2046 section 5.1.5). The
// top-level entity has depth 0.
func (w walker) entity(block headerBlock, end int, defaultType string, depth int, signed bool) {
	bodyStart := block.end + len(nextLine(w.msg[:end], block.end))
	mediaType, params, ok := w.contentType(block, defaultType)
	if !ok {
		return
	}
	switch {
	case mediaType == "multipart/signed":
		w.multipart(params["boundary"], bodyStart, end, "text/plain", depth, true)
	case mediaType == "multipart/encrypted":
		return
	case mediaType == "multipart/digest":
		w.multipart(params["boundary"], bodyStart, end, "message/rfc822", depth, signed)
	case strings.HasPrefix(mediaType, "multipart/"):
		w.multipart(params["boundary"], bodyStart, end, "text/plain", depth, signed)
	case mediaType == "text/plain":
		w.textPart(block, bodyStart, end, depth, signed)
	}
}

// contentType returns the lower-case media type and the parameters of the
// entity, and false when it is in doubt.
func (w walker) contentType(block headerBlock, defaultType string) (string, map[string]string, bool) {
	var field *headerField
	for k := range block.fields {
		if block.fields[k].is("Content-Type") {
			if field != nil {
				return "", nil, false
			}
			field = &block.fields[k]
		}
	}
	if field == nil {
		return defaultType, nil, true
	}
	mediaType, params, err := mime.ParseMediaType(field.value(w.msg))
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "", nil, false
	}
	return mediaType, params, true
}

// multipart walks the parts of a multipart body.
func (w walker) multipart(boundary string, bodyStart, end int, defaultType string, depth int, signed bool) {
	if boundary == "" || depth >= maxNesting {
		return
	}
	parts, closed := splitMultipart(w.msg[:end], bodyStart, boundary)
	if !closed {
		return
	}
	for _, part := range parts {
		block, err := scanHeader(w.msg[part.start:part.end])
		if err != nil || !block.separated {
			continue
		}
		w.entity(block.shift(part.start), part.end, defaultType, depth+1, signed)
	}
}

// textPart re-encodes a text/plain entity when it has a long line and an
// encoding that allows one, unless it is signed.
func (w walker) textPart(block headerBlock, bodyStart, end, depth int, signed bool) {
	var encoding *headerField
	for k := range block.fields {
		if block.fields[k].is("Content-Transfer-Encoding") {
			if encoding != nil {
				return
			}
			encoding = &block.fields[k]
		}
	}
	if encoding != nil {
		switch strings.ToLower(encoding.value(w.msg)) {
		case "", "7bit", "8bit":
		default:
			return
		}
	}
	body := w.msg[bodyStart:end]
	if !hasLongLine(body) {
		return
	}
	if signed {
		w.result.signed = true
		return
	}

	eol := w.eol
	if block.separated {
		eol = lineEnding(w.msg[block.end:end])
	}
	field := "Content-Transfer-Encoding: quoted-printable" + eol
	switch {
	case encoding != nil:
		valueEnd := encoding.end - len(fieldLineEnding(w.msg, *encoding))
		w.result.edits = append(w.result.edits, edit{start: encoding.valueStart, end: valueEnd, text: []byte(" quoted-printable")})
	case depth == 0:
		w.result.header = append(w.result.header, field...)
	default:
		w.result.edits = append(w.result.edits, edit{start: block.end, end: block.end, text: []byte(field)})
	}
	w.result.edits = append(w.result.edits, edit{start: bodyStart, end: end, text: encodeQuotedPrintable(body, eol)})
	w.result.parts++
}

// span is a range of offsets in a message.
type span struct{ start, end int }

// splitMultipart returns the parts of a multipart body that starts at
// bodyStart in msg, and whether a closing delimiter ends them. A delimiter
// line is "--" and the boundary, then "--" for the closing one, then
// optional blanks (RFC 2046 section 5.1.1). The line ending before a
// delimiter belongs to the delimiter, so a part ends before it.
func splitMultipart(msg []byte, bodyStart int, boundary string) ([]span, bool) {
	delimiter := []byte("--" + boundary)
	var parts []span
	partStart := -1
	for pos := bodyStart; pos < len(msg); {
		lineStart := pos
		line := nextLine(msg, pos)
		pos += len(line)
		content, _ := splitLineEnding(line)
		rest, found := bytes.CutPrefix(content, delimiter)
		if !found {
			continue
		}
		closing := bytes.HasPrefix(rest, []byte("--"))
		if closing {
			rest = rest[2:]
		}
		if len(bytes.Trim(rest, " \t")) != 0 {
			continue
		}
		if partStart >= 0 {
			parts = append(parts, span{start: partStart, end: trimLineEnding(msg, partStart, lineStart)})
		}
		if closing {
			return parts, true
		}
		partStart = pos
	}
	return parts, false
}

// trimLineEnding returns end moved back over the line ending that precedes
// it, but not before start.
func trimLineEnding(msg []byte, start, end int) int {
	if end > start && msg[end-1] == '\n' {
		end--
		if end > start && msg[end-1] == '\r' {
			end--
		}
	}
	return end
}

// fieldLineEnding returns the line ending of the last line of field.
func fieldLineEnding(msg []byte, field headerField) string {
	_, ending := splitLineEnding(msg[field.start:field.end])
	return ending
}

// countFields returns how many fields of block are named name.
func countFields(block headerBlock, name string) int {
	n := 0
	for _, field := range block.fields {
		if field.is(name) {
			n++
		}
	}
	return n
}
