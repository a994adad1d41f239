package sendmail

import (
	"bytes"
)

// maxEncodedLine is the maximum length of a quoted-printable line in
// bytes, not counting its line ending (RFC 2045 section 6.7, rule 5).
const maxEncodedLine = 76

const hexDigits = "0123456789ABCDEF"

// encodeQuotedPrintable returns body encoded as quoted-printable (RFC 2045
// section 6.7). Every line ending of body becomes a hard line break written
// as it was, CRLF or LF, so a decoder such as mime/quotedprintable returns
// body unchanged. Soft line breaks use the line ending of the line they
// split, and eol on a last line that has none. No encoded line is longer
// than maxEncodedLine.
//
// Besides what the RFC requires (bytes outside printable US-ASCII, "=", and
// blanks at the end of a line), two first bytes of an encoded line are
// encoded: "-", so that no line can become a multipart boundary delimiter,
// and the "F" of "From ", so that mbox files cannot take the line for the
// start of a message.
func encodeQuotedPrintable(body []byte, eol string) []byte {
	out := make([]byte, 0, len(body)+len(body)/8)
	for pos := 0; pos < len(body); {
		line := nextLine(body, pos)
		pos += len(line)
		content, ending := splitLineEnding(line)
		softBreak := ending
		if softBreak == "" {
			softBreak = eol
		}
		out = appendEncodedLine(out, content, softBreak)
		out = append(out, ending...)
	}
	return out
}

// splitLineEnding returns line without its line ending, and the ending:
// "\r\n", "\n" or "".
func splitLineEnding(line []byte) ([]byte, string) {
	if content, ok := bytes.CutSuffix(line, []byte("\r\n")); ok {
		return content, "\r\n"
	}
	if content, ok := bytes.CutSuffix(line, []byte("\n")); ok {
		return content, "\n"
	}
	return line, ""
}

// appendEncodedLine appends the encoding of one line of content, without a
// line ending, splitting it with soft line breaks.
func appendEncodedLine(out, content []byte, softBreak string) []byte {
	width := 0
	for i, c := range content {
		last := i == len(content)-1
		literal := isLiteral(c, last)
		tokenWidth := 3
		if literal {
			tokenWidth = 1
		}
		// A line that goes on after this byte needs room for the "=" of
		// its soft line break.
		limit := maxEncodedLine - 1
		if last {
			limit = maxEncodedLine
		}
		if width+tokenWidth > limit {
			out = append(out, '=')
			out = append(out, softBreak...)
			width = 0
		}
		if width == 0 && (c == '-' || bytes.HasPrefix(content[i:], []byte("From "))) {
			literal, tokenWidth = false, 3
		}
		if literal {
			out = append(out, c)
		} else {
			out = append(out, '=', hexDigits[c>>4], hexDigits[c&0x0f])
		}
		width += tokenWidth
	}
	return out
}

// isLiteral reports whether c may be written as itself: printable US-ASCII
// other than "=", or a blank that does not end the line.
func isLiteral(c byte, endsLine bool) bool {
	switch {
	case c >= '!' && c <= '~' && c != '=':
		return true
	case c == ' ' || c == '\t':
		return !endsLine
	}
	return false
}

// hasLongLine reports whether a line of body is longer than maxEncodedLine
// bytes, not counting its line ending.
func hasLongLine(body []byte) bool {
	for pos := 0; pos < len(body); {
		line := nextLine(body, pos)
		pos += len(line)
		content, _ := splitLineEnding(line)
		if len(content) > maxEncodedLine {
			return true
		}
	}
	return false
}
