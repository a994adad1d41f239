package gmailapi

import (
	"bytes"
	"context"
	"fmt"

	"google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
)

// MaxSendSize is Gmail's cap on a message sent through the media upload
// endpoint: 35 MiB (maxSize 36700160 in the discovery document).
const MaxSendSize = 36700160

// Send hands raw, an RFC 5322 message, to users.messages.send through the
// media upload endpoint with content type message/rfc822, in one request.
// The JSON raw form fails with 413 above about 6.5 MiB, so the upload form
// is the only one that reaches the 35 MiB limit.
//
// Send is not idempotent, so it is not retried: once the request body has
// been written, Gmail may have sent the message even if the response is
// lost. The one exception is a single repeat with a fresh token after a
// 401, which means Gmail did nothing. threadID may be empty.
func (c *Client) Send(ctx context.Context, raw []byte, threadID string) (*gmail.Message, error) {
	if len(raw) > MaxSendSize {
		return nil, fmt.Errorf("message is %d bytes, over Gmail's limit of %d bytes (35 MiB)", len(raw), MaxSendSize)
	}
	var sent *gmail.Message
	err := c.call(ctx, callSpec{method: "messages.send", once: true}, func(ctx context.Context) error {
		meta := &gmail.Message{ThreadId: threadID}
		var err error
		sent, err = c.svc.Users.Messages.Send(c.user, meta).
			Media(bytes.NewReader(raw), googleapi.ContentType("message/rfc822"), googleapi.ChunkSize(0)).
			Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sending message: %w", err)
	}
	return sent, nil
}
