package gmailapi

import (
	"context"
	"fmt"

	"google.golang.org/api/gmail/v1"
)

// History pages through users.history.list from startHistoryID, 500
// records a page (2 units a page), and calls page with each response in
// order. Every page repeats the same startHistoryId, as Gmail expects
// within one walk. The last page has no NextPageToken and its HistoryId is
// the one to store for the next walk.
//
// A startHistoryID too old for Gmail to list fails with an error for which
// IsNotFound is true; the caller then needs a full sync.
func (c *Client) History(ctx context.Context, startHistoryID uint64, page func(*gmail.ListHistoryResponse) error) error {
	token := ""
	for {
		var resp *gmail.ListHistoryResponse
		err := c.call(ctx, callSpec{method: "history.list"}, func(ctx context.Context) error {
			req := c.svc.Users.History.List(c.user).StartHistoryId(startHistoryID).MaxResults(500).Context(ctx)
			if token != "" {
				req = req.PageToken(token)
			}
			var err error
			resp, err = req.Do()
			return err
		})
		if err != nil {
			return fmt.Errorf("listing history after %d: %w", startHistoryID, err)
		}
		if err := page(resp); err != nil {
			return err
		}
		if resp.NextPageToken == "" {
			return nil
		}
		token = resp.NextPageToken
	}
}

// GetMinimal fetches one message in format minimal: id and labelIds, and in
// practice threadId, historyId and internalDate too, but no headers or
// body. It costs as much quota as GetRaw, so it only saves bandwidth, not
// quota, over fetching the message again.
func (c *Client) GetMinimal(ctx context.Context, id string) (*gmail.Message, error) {
	var msg *gmail.Message
	err := c.call(ctx, callSpec{method: "messages.get", what: "messages.get " + id}, func(ctx context.Context) error {
		var err error
		msg, err = c.svc.Users.Messages.Get(c.user, id).Format("minimal").Context(ctx).Do()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("fetching labels of message %s: %w", id, err)
	}
	return msg, nil
}
