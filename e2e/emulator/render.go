package emulator

import (
	"encoding/base64"
	"html"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// messageJSON is the Message resource. historyId and internalDate are int64
// fields and so JSON strings; sizeEstimate is an int32 and so a number
// (discovery document gmail:v1, "format": "int64").
type messageJSON struct {
	ID           string    `json:"id"`
	ThreadID     string    `json:"threadId"`
	LabelIDs     []string  `json:"labelIds,omitempty"`
	Snippet      string    `json:"snippet,omitempty"`
	Payload      *partJSON `json:"payload,omitempty"`
	SizeEstimate int       `json:"sizeEstimate,omitempty"`
	HistoryID    string    `json:"historyId,omitempty"`
	InternalDate string    `json:"internalDate,omitempty"`
	Raw          string    `json:"raw,omitempty"`
}

type partJSON struct {
	PartID   string        `json:"partId"`
	MimeType string        `json:"mimeType"`
	Filename string        `json:"filename"`
	Headers  []headerField `json:"headers"`
	Body     *bodyJSON     `json:"body,omitempty"`
	Parts    []*partJSON   `json:"parts,omitempty"`
}

type bodyJSON struct {
	AttachmentID string `json:"attachmentId,omitempty"`
	Size         int    `json:"size"`
	Data         string `json:"data,omitempty"`
}

// Message formats of users.messages.get.
const (
	formatMinimal  = "minimal"
	formatFull     = "full"
	formatRaw      = "raw"
	formatMetadata = "metadata"
)

// renderMessage builds the Message resource in the given format. minimal
// still carries threadId, snippet, historyId, internalDate and sizeEstimate,
// as real responses do (observed).
func renderMessage(m *message, format string, metadataHeaders []string) messageJSON {
	out := messageJSON{
		ID:           m.id,
		ThreadID:     m.threadID,
		LabelIDs:     m.labels,
		Snippet:      m.snippet,
		SizeEstimate: len(m.raw),
		HistoryID:    strconv.FormatUint(m.historyID, 10),
		InternalDate: strconv.FormatInt(m.internalDate, 10),
	}
	switch format {
	case formatRaw:
		// Padded base64url, as Gmail sends it (observed: Go programs decode
		// raw with base64.URLEncoding).
		out.Raw = base64.URLEncoding.EncodeToString(m.raw)
	case formatFull:
		out.Payload = renderPart(parseMIME(m.raw), "", m.id)
	case formatMetadata:
		root := parseMIME(m.raw)
		out.Payload = &partJSON{MimeType: root.mediaType, Headers: filterHeaders(root.headers, metadataHeaders)}
	}
	return out
}

func filterHeaders(h []headerField, names []string) []headerField {
	if len(names) == 0 {
		return h
	}
	out := []headerField{}
	for _, f := range h {
		for _, n := range names {
			if strings.EqualFold(f.Name, n) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// renderPart builds the MessagePart tree of format=full. The root's partId is
// "", its children "0", "1", and their children "0.0" and so on. A part with
// a file name gets an attachmentId instead of inline data.
func renderPart(p *mimePart, partID, messageID string) *partJSON {
	out := &partJSON{PartID: partID, MimeType: p.mediaType, Filename: p.filename(), Headers: p.headers}
	if out.Headers == nil {
		out.Headers = []headerField{}
	}
	if len(p.children) > 0 {
		out.Body = &bodyJSON{}
		for i, c := range p.children {
			childID := strconv.Itoa(i)
			if partID != "" {
				childID = partID + "." + childID
			}
			out.Parts = append(out.Parts, renderPart(c, childID, messageID))
		}
		return out
	}
	data := p.decodedBody()
	out.Body = &bodyJSON{Size: len(data)}
	if out.Filename != "" {
		out.Body.AttachmentID = attachmentID(messageID, partID)
	} else if len(data) > 0 {
		out.Body.Data = base64.URLEncoding.EncodeToString(data)
	}
	return out
}

// attachmentID is stable for a message part. Real ids are longer opaque
// strings; clients must treat both as opaque.
func attachmentID(messageID, partID string) string {
	return "ANGjdJ" + base64.RawURLEncoding.EncodeToString([]byte(messageID+"/"+partID))
}

// findPart returns the part with the given partId, or nil.
func findPart(p *mimePart, partID string) *mimePart {
	if partID == "" {
		return p
	}
	head, rest, _ := strings.Cut(partID, ".")
	i, err := strconv.Atoi(head)
	if err != nil || i < 0 || i >= len(p.children) {
		return nil
	}
	return findPart(p.children[i], rest)
}

var (
	tagPattern   = regexp.MustCompile(`(?s)<[^>]*>`)
	stylePattern = regexp.MustCompile(`(?is)<(style|script)[^>]*>.*?</(style|script)>`)
)

const snippetRunes = 200

// makeSnippet returns the start of the first text part, whitespace collapsed
// and HTML-escaped as Gmail's snippets are.
func makeSnippet(raw []byte) string {
	root := parseMIME(raw)
	text := ""
	if p := firstText(root, "text/plain"); p != nil {
		text = p.text()
	} else if p := firstText(root, "text/html"); p != nil {
		text = html.UnescapeString(tagPattern.ReplaceAllString(stylePattern.ReplaceAllString(p.text(), " "), " "))
	}
	text = strings.Join(strings.Fields(text), " ")
	if utf8.RuneCountInString(text) > snippetRunes {
		text = string([]rune(text)[:snippetRunes])
	}
	return html.EscapeString(text)
}

func firstText(p *mimePart, mediaType string) *mimePart {
	if len(p.children) == 0 {
		if p.mediaType == mediaType && p.filename() == "" {
			return p
		}
		return nil
	}
	for _, c := range p.children {
		if found := firstText(c, mediaType); found != nil {
			return found
		}
	}
	return nil
}
