package historysync

import (
	"context"
	"fmt"
	"slices"

	"google.golang.org/api/gmail/v1"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/maildir"
)

// flagLabels are the labels whose membership decides flags and placement
// even when they have no folder of their own.
var flagLabels = []string{"UNREAD", "STARRED", "DRAFT", "SPAM", "TRASH", "SENT", "INBOX"}

// reconcile rebuilds the mirror's view from Gmail's current state when the
// history cannot bridge the gap. It reads getProfile's historyId first,
// because that is the one it stores at the end. Then it reads label
// membership from paged messages.list per label, Spam and Trash included,
// at 5 units per 500 ids and never a get per message. It fetches only messages it does not hold,
// moves the ones whose labels differ, and removes the ones Gmail no longer
// lists. With rebuild, the stored records are rebuilt from the message
// files found in the Maildir first, so nothing on disk is downloaded again.
func (e *Engine) reconcile(ctx context.Context, sum *Summary, rebuild bool) error {
	sum.Mode = "reconcile"
	profile, err := e.Client.Profile(ctx)
	if err != nil {
		return err
	}
	labels, err := e.readLabels(ctx)
	if err != nil {
		return err
	}
	local, err := e.localRecords(labels, rebuild)
	if err != nil {
		return err
	}
	remote, listedLabels, err := e.membership(ctx, labels)
	if err != nil {
		return err
	}
	sum.Listed = len(remote)

	p := newPlan()
	for id, remoteLabels := range remote {
		rec, ok := local[id]
		if !ok {
			p.fetch = append(p.fetch, id)
			continue
		}
		sum.Present++
		merged := mergeLabels(rec.LabelIDs, remoteLabels, listedLabels)
		if rebuild || !sameSet(merged, rec.LabelIDs) {
			p.relabel[id] = merged
		}
	}
	for id := range local {
		if _, ok := remote[id]; !ok {
			p.remove = append(p.remove, id)
		}
	}
	slices.Sort(p.fetch)
	slices.Sort(p.remove)

	if rebuild && !e.DryRun {
		if err := e.State.Apply(local, nil); err != nil {
			return fmt.Errorf("storing the records rebuilt from the Maildir: %w", err)
		}
	}
	if err := e.execute(ctx, sum, labels, p); err != nil {
		return err
	}
	if !e.DryRun {
		if err := e.State.SetFullSyncStart(0); err != nil {
			return err
		}
	}
	return e.advance(sum, profile.HistoryId)
}

// localRecords returns the stored records, and with rebuild adds a record
// for every gmsync message file found in the folders of the mapping.
func (e *Engine) localRecords(labels *labelSet, rebuild bool) (map[string]*Record, error) {
	local := map[string]*Record{}
	err := e.State.ForEach(func(id string, rec *Record) error {
		local[id] = rec
		return nil
	})
	if err != nil || !rebuild {
		return local, err
	}
	dirs := labels.mapper.AllDirs()
	if e.Deletion.KeepFolder != "" {
		dirs = slices.DeleteFunc(dirs, func(d string) bool {
			return d == maildir.EscapeLabel(e.Mapping.Layout, e.Deletion.KeepFolder)
		})
	}
	for _, dir := range dirs {
		keys, err := e.Store.Keys(dir)
		if err != nil {
			return nil, err
		}
		for id, path := range keys {
			rec, ok := local[id]
			if !ok {
				rec = &Record{}
				local[id] = rec
			}
			if !slices.Contains(rec.Paths, path) {
				rec.Paths = append(rec.Paths, path)
			}
		}
	}
	return local, nil
}

// membership lists every message (Spam and Trash included) and, per label
// that matters for placement or flags, the messages carrying it. It
// returns each message's labels among those listed, and the listed labels.
func (e *Engine) membership(ctx context.Context, labels *labelSet) (map[string][]string, []string, error) {
	remote := map[string][]string{}
	err := e.Client.ListIDs(ctx, gmailapi.ListQuery{IncludeSpamTrash: true}, func(page []*gmail.Message) error {
		for _, m := range page {
			if _, ok := remote[m.Id]; !ok {
				remote[m.Id] = nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}

	var listed []string
	for _, id := range labels.ids {
		if _, hasFolder := labels.mapper.Dir(id); !hasFolder && !slices.Contains(flagLabels, id) {
			continue
		}
		listed = append(listed, id)
		err := e.Client.ListIDs(ctx, gmailapi.ListQuery{LabelIDs: []string{id}, IncludeSpamTrash: true}, func(page []*gmail.Message) error {
			for _, m := range page {
				if _, ok := remote[m.Id]; ok {
					remote[m.Id] = append(remote[m.Id], id)
				}
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	return remote, listed, nil
}

// mergeLabels returns the listed labels a message carries plus the labels
// it had that reconciliation did not list (categories, say), which keep
// their last known state.
func mergeLabels(stored, remote, listed []string) []string {
	out := slices.Clone(remote)
	for _, l := range stored {
		if !slices.Contains(listed, l) && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}
