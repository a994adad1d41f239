package historysync

import (
	"context"
	"slices"

	"google.golang.org/api/gmail/v1"

	"github.com/gmsync/gmsync/gmailapi"
)

// change is the net effect of the history records on one message since
// the stored historyId.
type change struct {
	deleted  bool
	labels   []string // the message's labels after the changes
	known    bool     // labels is complete
	threadID string
}

// history is the changes of one walk, by message id in order of first
// appearance.
type history struct {
	order   []string
	changes map[string]*change
}

// incremental applies the history since from. With no changes it costs one
// history.list call (plus labels.list when the label list is due for a
// check). A 404 means Gmail no longer keeps that history: the run
// reconciles instead.
func (e *Engine) incremental(ctx context.Context, sum *Summary, from uint64) error {
	sum.Mode = "incremental"
	changes, last, err := e.walkHistory(ctx, from)
	if gmailapi.IsNotFound(err) {
		e.logger().Warn("Gmail no longer keeps the history from the stored historyId; reconciling", "historyId", from)
		return e.reconcile(ctx, sum, false)
	}
	if err != nil {
		return err
	}
	// The history API reports no label renames or deletions. A mailbox
	// whose historyId moved without records that concern messages may have
	// had one, so the label list is read then, and otherwise once per
	// LabelCheckInterval. A quiet mailbox costs one call per run.
	// NOTE: whether Gmail advances the historyId on a label rename is not
	// documented; the interval bounds the delay when it does not.
	if len(changes.order) == 0 && last <= from && !e.labelsDue() {
		return e.advance(sum, last)
	}

	labels, err := e.readLabels(ctx)
	if err != nil {
		return err
	}
	return e.applyChanges(ctx, sum, changes, last, labels)
}

// applyChanges carries out the folded history and then stores last, the
// historyId it brings the mirror to.
func (e *Engine) applyChanges(ctx context.Context, sum *Summary, changes *history, last uint64, labels *labelSet) error {
	p, err := e.planChanges(changes)
	if err != nil {
		return err
	}
	if err := e.execute(ctx, sum, labels, p); err != nil {
		return err
	}
	return e.advance(sum, last)
}

// walkHistory reads every page of history since from and folds it into one
// change per message. It returns the mailbox's current historyId.
func (e *Engine) walkHistory(ctx context.Context, from uint64) (*history, uint64, error) {
	h := &history{changes: map[string]*change{}}
	var last uint64
	err := e.Client.History(ctx, from, func(resp *gmail.ListHistoryResponse) error {
		for _, record := range resp.History {
			if err := h.fold(record, e.State); err != nil {
				return err
			}
		}
		last = max(last, resp.HistoryId)
		return nil
	})
	return h, last, err
}

// get returns the change of message id, creating it.
func (h *history) get(id string) *change {
	c, ok := h.changes[id]
	if !ok {
		c = &change{}
		h.changes[id] = c
		h.order = append(h.order, id)
	}
	return c
}

// fold applies one history record. In practice the messages in the typed
// arrays carry their current labelIds, which Google does not document.
// Where they do, those labels win. Otherwise the label delta is applied to
// what is known.
func (h *history) fold(record *gmail.History, state *State) error {
	for _, added := range record.MessagesAdded {
		c := h.get(added.Message.Id)
		c.deleted = false
		c.threadID = added.Message.ThreadId
		c.labels, c.known = slices.Clone(added.Message.LabelIds), added.Message.LabelIds != nil
	}
	for _, la := range record.LabelsAdded {
		if err := h.delta(la.Message, la.LabelIds, nil, state); err != nil {
			return err
		}
	}
	for _, lr := range record.LabelsRemoved {
		if err := h.delta(lr.Message, nil, lr.LabelIds, state); err != nil {
			return err
		}
	}
	for _, deleted := range record.MessagesDeleted {
		h.get(deleted.Message.Id).deleted = true
	}
	return nil
}

func (h *history) delta(msg *gmail.Message, add, remove []string, state *State) error {
	c := h.get(msg.Id)
	if msg.LabelIds != nil {
		c.labels, c.known = slices.Clone(msg.LabelIds), true
		return nil
	}
	if !c.known {
		rec, err := state.Get(msg.Id)
		if err != nil {
			return err
		}
		if rec == nil {
			return nil // not stored: it is fetched whole anyway
		}
		c.labels, c.known = slices.Clone(rec.LabelIDs), true
	}
	for _, l := range add {
		if !slices.Contains(c.labels, l) {
			c.labels = append(c.labels, l)
		}
	}
	c.labels = slices.DeleteFunc(c.labels, func(l string) bool { return slices.Contains(remove, l) })
	return nil
}

// planChanges turns folded history into a plan: fetch what is new, move
// what changed labels, remove what Gmail deleted. A message added and
// deleted within the window is never fetched.
func (e *Engine) planChanges(h *history) (*plan, error) {
	p := newPlan()
	for _, id := range h.order {
		c := h.changes[id]
		rec, err := e.State.Get(id)
		if err != nil {
			return nil, err
		}
		switch {
		case c.deleted && rec != nil:
			p.remove = append(p.remove, id)
		case c.deleted:
		case rec == nil && c.known && c.threadID != "":
			p.adopt[id] = c
		case rec == nil:
			p.fetch = append(p.fetch, id)
		case c.known && !sameSet(c.labels, rec.LabelIDs):
			p.relabel[id] = c.labels
		}
	}
	return p, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}
