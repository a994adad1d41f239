package sendmail

import (
	"bytes"
	"fmt"
	"strings"
)

// headerField is one header field of a message, located by byte offsets so
// that the message can be copied around it unchanged.
type headerField struct {
	name       string // field name as written, without blanks before the colon
	start      int    // offset of the first byte of the field name
	valueStart int    // offset just after the colon
	end        int    // offset after the line ending of the last line, or len(msg)
}

// headerBlock is the result of scanHeader.
type headerBlock struct {
	fields []headerField
	// end is the offset of the blank line that ends the header block, or of
	// the first line of the body when no blank line separates them.
	end int
	// separated reports whether a blank line ends the header block.
	separated bool
}

// scanHeader locates the header fields at the start of msg. The header block
// ends at the first blank line. Without one, it ends at the first line that
// is neither a field nor a continuation line of a field. A field is
// "Name: value", with blanks allowed before the colon as the obsolete syntax
// of RFC 5322 allows. Gmail and most parsers read such a message the same way, so it is
// accepted: the first line that is not a header field starts the body.
//
// Header lines are text (RFC 5322 section 2.2), so a NUL byte in a field is
// a *DataError: it means binary data was piped in by mistake.
func scanHeader(msg []byte) (headerBlock, error) {
	var block headerBlock
	pos := 0
	for lineNumber := 1; pos < len(msg); lineNumber++ {
		line := nextLine(msg, pos)
		content := bytes.TrimRight(line, "\r\n")
		if len(content) == 0 {
			block.end, block.separated = pos, true
			return block, nil
		}
		continuation := content[0] == ' ' || content[0] == '\t'
		name, isField := fieldName(content)
		if (continuation && len(block.fields) == 0) || (!continuation && !isField) {
			break
		}
		if bytes.IndexByte(content, 0) >= 0 {
			return block, &DataError{Message: fmt.Sprintf("header line %d contains a NUL byte, which a header field cannot hold", lineNumber)}
		}
		if continuation {
			block.fields[len(block.fields)-1].end = pos + len(line)
		} else {
			block.fields = append(block.fields, headerField{
				name:       name,
				start:      pos,
				valueStart: pos + bytes.IndexByte(content, ':') + 1,
				end:        pos + len(line),
			})
		}
		pos += len(line)
	}
	block.end = pos
	return block, nil
}

// shift returns the block with every offset moved by offset, for a block
// that scanHeader found in a slice of the message starting at offset.
func (b headerBlock) shift(offset int) headerBlock {
	fields := make([]headerField, len(b.fields))
	for k, field := range b.fields {
		field.start += offset
		field.valueStart += offset
		field.end += offset
		fields[k] = field
	}
	b.fields = fields
	b.end += offset
	return b
}

// nextLine returns the line of msg that starts at pos, with its line ending.
func nextLine(msg []byte, pos int) []byte {
	if i := bytes.IndexByte(msg[pos:], '\n'); i >= 0 {
		return msg[pos : pos+i+1]
	}
	return msg[pos:]
}

// fieldName returns the field name of a line that starts a header field.
// Field names are printable US-ASCII except the colon (RFC 5322 section
// 2.2); blanks may follow the name before the colon.
func fieldName(line []byte) (string, bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return "", false
	}
	name := bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 {
		return "", false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return "", false
		}
	}
	return string(name), true
}

// value returns the field's value unfolded: line endings removed and
// surrounding blanks trimmed.
func (f headerField) value(msg []byte) string {
	raw := string(msg[f.valueStart:f.end])
	raw = strings.ReplaceAll(raw, "\r\n", "")
	raw = strings.ReplaceAll(raw, "\n", "")
	return strings.Trim(raw, " \t\r")
}

// is reports whether the field is named name, ignoring case.
func (f headerField) is(name string) bool {
	return strings.EqualFold(f.name, name)
}

// lineEnding returns the line ending of the first line of msg, "\r\n" or
// "\n", and "\n" when msg has a single line without one.
func lineEnding(msg []byte) string {
	i := bytes.IndexByte(msg, '\n')
	if i > 0 && msg[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// stripFromLines removes the mbox "From " lines at the start of msg,
// including ">From " variants, as Postfix's sendmail does.
func stripFromLines(msg []byte) []byte {
	for {
		rest := bytes.TrimLeft(msg, ">")
		if !bytes.HasPrefix(rest, []byte("From ")) {
			return msg
		}
		msg = msg[len(nextLine(msg, 0)):]
	}
}
