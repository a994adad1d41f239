package emulator

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"unicode/utf8"
)

// headerField is one header line, unfolded, name and value as written.
type headerField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// mimePart is one node of a parsed message. body holds the part's bytes
// still in their Content-Transfer-Encoding.
type mimePart struct {
	headers   []headerField
	mediaType string
	params    map[string]string
	body      []byte
	children  []*mimePart
}

// splitHeader splits a message or part at the first empty line, accepting
// CRLF or bare LF line ends.
func splitHeader(raw []byte) (header, body []byte) {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\n' {
			continue
		}
		if i == 0 {
			return nil, raw[1:]
		}
		rest := raw[i+1:]
		if bytes.HasPrefix(rest, []byte("\r\n")) {
			return raw[:i+1], rest[2:]
		}
		if bytes.HasPrefix(rest, []byte("\n")) {
			return raw[:i+1], rest[1:]
		}
	}
	if bytes.HasPrefix(raw, []byte("\r\n")) {
		return nil, raw[2:]
	}
	return raw, nil
}

// parseHeader unfolds header lines (RFC 5322 section 2.2.3) and keeps their
// order and spelling. Lines without a colon are dropped.
func parseHeader(header []byte) []headerField {
	var out []headerField
	for _, line := range strings.Split(string(header), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.ContainsAny(name, " \t") {
			continue
		}
		out = append(out, headerField{Name: name, Value: strings.TrimLeft(value, " \t")})
	}
	return out
}

func headerValue(h []headerField, name string) string {
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

func headerValues(h []headerField, name string) []string {
	var out []string
	for _, f := range h {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value)
		}
	}
	return out
}

// parseMIME parses raw into a tree of parts. It never fails: a part whose
// Content-Type cannot be parsed is text/plain, following RFC 2045 section 5.2.
func parseMIME(raw []byte) *mimePart {
	return parsePart(raw, "text/plain", 0)
}

func parsePart(raw []byte, defaultType string, depth int) *mimePart {
	header, body := splitHeader(raw)
	p := &mimePart{headers: parseHeader(header), body: body, mediaType: defaultType}
	if ct := headerValue(p.headers, "Content-Type"); ct != "" {
		if mt, params, err := mime.ParseMediaType(ct); err == nil {
			p.mediaType, p.params = mt, params
		}
	}
	boundary := p.params["boundary"]
	if !strings.HasPrefix(p.mediaType, "multipart/") || boundary == "" || depth > 20 {
		return p
	}
	childType := "text/plain"
	if p.mediaType == "multipart/digest" {
		childType = "message/rfc822"
	}
	for _, chunk := range splitMultipart(body, boundary) {
		p.children = append(p.children, parsePart(chunk, childType, depth+1))
	}
	return p
}

// splitMultipart returns the body parts between boundary delimiter lines
// (RFC 2046 section 5.1.1). The line break before a delimiter belongs to it.
func splitMultipart(body []byte, boundary string) [][]byte {
	delim := []byte("--" + boundary)
	var parts [][]byte
	start := -1
	pos := 0
	for pos <= len(body) {
		end := bytes.IndexByte(body[pos:], '\n')
		lineEnd := len(body)
		if end >= 0 {
			lineEnd = pos + end
		}
		line := bytes.TrimRight(body[pos:lineEnd], " \t\r")
		if bytes.HasPrefix(line, delim) {
			rest := line[len(delim):]
			if start >= 0 {
				parts = append(parts, trimLineBreak(body[start:pos]))
			}
			if bytes.Equal(rest, []byte("--")) {
				return parts
			}
			start = -1
			if len(rest) == 0 {
				start = lineEnd + 1
			}
		}
		if end < 0 {
			break
		}
		pos = lineEnd + 1
	}
	if start >= 0 && start <= len(body) {
		parts = append(parts, body[start:]) // no closing delimiter
	}
	return parts
}

func trimLineBreak(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// decodedBody undoes the part's Content-Transfer-Encoding. Undecodable
// base64 or quoted-printable yields what could be decoded.
func (p *mimePart) decodedBody() []byte {
	switch strings.ToLower(strings.TrimSpace(headerValue(p.headers, "Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, p.body)
		clean = bytes.TrimRight(clean, "=")
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(p.body)))
		return out
	default:
		return p.body
	}
}

// filename returns the decoded attachment name from Content-Disposition or
// the Content-Type name parameter, or "".
func (p *mimePart) filename() string {
	name := ""
	if cd := headerValue(p.headers, "Content-Disposition"); cd != "" {
		if _, params, err := mime.ParseMediaType(cd); err == nil {
			name = params["filename"]
		}
	}
	if name == "" {
		name = p.params["name"]
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	if d, err := dec.DecodeHeader(name); err == nil {
		return d
	}
	return name
}

// text returns the part's decoded body as UTF-8, converting ISO-8859-1 and
// replacing invalid bytes of other charsets.
func (p *mimePart) text() string {
	b := p.decodedBody()
	switch strings.ToLower(p.params["charset"]) {
	case "iso-8859-1", "latin1", "windows-1252":
		return latin1ToUTF8(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func latin1ToUTF8(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// charsetReader lets mime.WordDecoder read ISO-8859-1 besides UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252":
		b, err := io.ReadAll(input)
		if err != nil {
			return nil, err
		}
		return strings.NewReader(latin1ToUTF8(b)), nil
	}
	return input, nil
}
