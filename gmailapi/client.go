package gmailapi

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strings"

	"google.golang.org/api/gmail/v1"
)

// Client makes metered, retried calls for one Gmail user.
type Client struct {
	svc   *gmail.Service
	meter *Meter
	retry RetryPolicy
	user  string
	inv   TokenInvalidator
}

// TokenInvalidator is a token source that can drop an access token which
// Gmail rejected with 401 before its expiry, so the next request refreshes.
type TokenInvalidator interface {
	Invalidate()
}

// SetTokenInvalidator makes the client retry a call once after a 401,
// with a freshly refreshed token. Google's error guide prescribes exactly
// this for "Invalid Credentials".
func (c *Client) SetTokenInvalidator(inv TokenInvalidator) { c.inv = inv }

// NewClient wraps svc. A nil meter means NewMeter(Regime2024, 0);
// user is "me" unless a caller needs the address.
func NewClient(svc *gmail.Service, meter *Meter, logger *slog.Logger) *Client {
	if meter == nil {
		meter = NewMeter(Regime2024, 0)
	}
	return &Client{svc: svc, meter: meter, retry: DefaultRetryPolicy(logger), user: "me"}
}

// SetRetryPolicy replaces the default retry policy. Call it before the
// client is used.
func (c *Client) SetRetryPolicy(p RetryPolicy) { c.retry = p }

// Meter returns the client's quota meter, for usage reports.
func (c *Client) Meter() *Meter { return c.meter }

// Profile returns the mailbox's address and current historyId.
func (c *Client) Profile(ctx context.Context) (*gmail.Profile, error) {
	var profile *gmail.Profile
	err := c.call(ctx, callSpec{method: "getProfile"}, func(ctx context.Context) error {
		var err error
		profile, err = c.svc.Users.GetProfile(c.user).Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading Gmail profile: %w", err)
	}
	return profile, nil
}

// Labels returns every label of the mailbox, system labels included. List
// entries carry no counts.
func (c *Client) Labels(ctx context.Context) ([]*gmail.Label, error) {
	var labels []*gmail.Label
	err := c.call(ctx, callSpec{method: "labels.list"}, func(ctx context.Context) error {
		resp, err := c.svc.Users.Labels.List(c.user).Context(ctx).Do()
		if err != nil {
			return err
		}
		labels = resp.Labels
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("listing Gmail labels: %w", err)
	}
	return labels, nil
}

// ListQuery selects the messages ListIDs pages through.
type ListQuery struct {
	LabelIDs         []string // a message must carry all of them
	IncludeSpamTrash bool
	Query            string // Gmail search syntax, e.g. "rfc822msgid:<id>"
}

// ListIDs pages through messages.list, 500 ids a page (5 units a page), and
// calls page with each page's entries, which carry only id and threadId.
// Gmail's order is roughly newest first, but nothing may depend on it.
func (c *Client) ListIDs(ctx context.Context, q ListQuery, page func([]*gmail.Message) error) error {
	token := ""
	for {
		var resp *gmail.ListMessagesResponse
		err := c.call(ctx, callSpec{method: "messages.list"}, func(ctx context.Context) error {
			req := c.svc.Users.Messages.List(c.user).Context(ctx).MaxResults(500).IncludeSpamTrash(q.IncludeSpamTrash)
			if len(q.LabelIDs) > 0 {
				req = req.LabelIds(q.LabelIDs...)
			}
			if q.Query != "" {
				req = req.Q(q.Query)
			}
			if token != "" {
				req = req.PageToken(token)
			}
			var err error
			resp, err = req.Do()
			return err
		})
		if err != nil {
			return fmt.Errorf("listing messages (labels %s): %w", strings.Join(q.LabelIDs, ","), err)
		}
		if err := page(resp.Messages); err != nil {
			return err
		}
		if resp.NextPageToken == "" {
			return nil
		}
		token = resp.NextPageToken
	}
}

// GetRaw fetches one message in format raw, which also carries labelIds,
// threadId and internalDate, so one call per new message is enough.
func (c *Client) GetRaw(ctx context.Context, id string) (*RawMessage, error) {
	return c.getRaw(ctx, id, nil)
}

// getRaw is GetRaw with each attempt counted against lim.
func (c *Client) getRaw(ctx context.Context, id string, lim *concurrencyLimit) (*RawMessage, error) {
	var msg *gmail.Message
	spec := callSpec{method: "messages.get", what: "messages.get " + id, limit: lim}
	err := c.call(ctx, spec, func(ctx context.Context) error {
		var err error
		msg, err = c.svc.Users.Messages.Get(c.user, id).Format("raw").Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching message %s: %w", id, err)
	}
	raw, err := DecodeRaw(msg.Raw)
	if err != nil {
		return nil, fmt.Errorf("decoding message %s: %w", id, err)
	}
	return &RawMessage{Message: msg, Raw: raw}, nil
}

// RawMessage is a message fetched in format raw, with its bytes decoded.
type RawMessage struct {
	*gmail.Message
	Raw []byte
}

// DecodeRaw decodes Gmail's base64url raw field. Gmail pads it with '=',
// but the unpadded form is accepted too.
func DecodeRaw(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		if b, err := base64.URLEncoding.DecodeString(s); err == nil {
			return b, nil
		}
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, fmt.Errorf("invalid base64url in raw message: %w", err)
	}
	return b, nil
}
