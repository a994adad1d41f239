package sendmail

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
)

// decodedParts returns the leaf entities of a message as the standard
// library decodes them, one string per leaf: its path, its media type and
// its body with the transfer encoding quoted-printable undone. Other
// encodings stay as they are. A parse error becomes a leaf of its own, so
// two messages with the same structure compare equal even when malformed.
// Tests use it to check that re-encoding keeps the decoded content.
func decodedParts(raw []byte) []string {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	var leaves []string
	collectLeaves(textproto.MIMEHeader(msg.Header), msg.Body, "1", 0, &leaves)
	return leaves
}

func collectLeaves(header textproto.MIMEHeader, body io.Reader, path string, depth int, leaves *[]string) {
	mediaType, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err == nil && strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" && depth < maxNesting {
		reader := multipart.NewReader(body, params["boundary"])
		for k := 1; ; k++ {
			part, err := reader.NextRawPart()
			if err != nil {
				if err != io.EOF {
					*leaves = append(*leaves, fmt.Sprintf("%s.%d error: %v", path, k, err))
				}
				return
			}
			collectLeaves(part.Header, part, fmt.Sprintf("%s.%d", path, k), depth+1, leaves)
		}
	}
	if strings.EqualFold(strings.TrimSpace(header.Get("Content-Transfer-Encoding")), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	content, err := io.ReadAll(body)
	leaf := fmt.Sprintf("%s %s: %q", path, mediaType, content)
	if err != nil {
		leaf += fmt.Sprintf(" error: %v", err)
	}
	*leaves = append(*leaves, leaf)
}
