package historysync

import (
	"context"
	"fmt"

	"google.golang.org/api/gmail/v1"

	"github.com/gmsync/gmsync/gmailapi"
)

// fullSync lists every message and fetches those the state lacks. It
// records the profile's historyId durably before listing, so a full sync
// that is interrupted and resumed later still replays every change made
// since it began. At the end it replays them at once.
func (e *Engine) fullSync(ctx context.Context, sum *Summary) error {
	sum.Mode = "full"
	start, err := e.State.FullSyncStart()
	if err != nil {
		return err
	}
	if start == 0 {
		profile, err := e.Client.Profile(ctx)
		if err != nil {
			return err
		}
		start = profile.HistoryId
		if !e.DryRun {
			if err := e.State.SetFullSyncStart(start); err != nil {
				return fmt.Errorf("recording the start of the full sync: %w", err)
			}
		}
	}

	labels, err := e.readLabels(ctx)
	if err != nil {
		return err
	}
	ids, err := e.listAll(ctx)
	if err != nil {
		return err
	}
	sum.Listed = len(ids)

	p := newPlan()
	for _, id := range ids {
		has, err := e.State.Has(id)
		if err != nil {
			return err
		}
		if has {
			sum.Present++
			continue
		}
		p.fetch = append(p.fetch, id)
	}
	if err := e.execute(ctx, sum, labels, p); err != nil {
		return err
	}
	if e.DryRun {
		sum.HistoryTo = start
		return nil
	}

	if err := e.State.SetHistoryID(start); err != nil {
		return fmt.Errorf("storing historyId %d: %w", start, err)
	}
	if err := e.State.SetFullSyncStart(0); err != nil {
		return err
	}
	sum.HistoryTo = start
	return e.catchUp(ctx, sum, start, labels)
}

// catchUp applies the changes made while a full sync ran.
func (e *Engine) catchUp(ctx context.Context, sum *Summary, from uint64, labels *labelSet) error {
	changes, last, err := e.walkHistory(ctx, from)
	if gmailapi.IsNotFound(err) {
		e.logger().Warn("history since the start of the full sync is gone; reconciling", "historyId", from)
		return e.reconcile(ctx, sum, false)
	}
	if err != nil {
		return err
	}
	return e.applyChanges(ctx, sum, changes, last, labels)
}

// listAll returns every message id, INBOX first in Gmail's (roughly newest
// first) order, so new mail is readable early in a long first sync.
func (e *Engine) listAll(ctx context.Context) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	collect := func(page []*gmail.Message) error {
		for _, m := range page {
			if !seen[m.Id] {
				seen[m.Id] = true
				ids = append(ids, m.Id)
			}
		}
		return nil
	}
	if err := e.Client.ListIDs(ctx, gmailapi.ListQuery{LabelIDs: []string{"INBOX"}}, collect); err != nil {
		return nil, err
	}
	if err := e.Client.ListIDs(ctx, gmailapi.ListQuery{IncludeSpamTrash: true}, collect); err != nil {
		return nil, err
	}
	return ids, nil
}
