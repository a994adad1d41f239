package historysync

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/maildir"
	"github.com/gmsync/gmsync/threadindex"
)

// ErrTooManyDeletions stops a run that would delete a larger share of the
// mirror than Engine.MaxDeletePercent allows, until the user confirms with
// --force.
var ErrTooManyDeletions = errors.New("too many deletions")

// minGuardedDeletions is the smallest number of deletions the share guard
// stops: deleting 2 of 5 messages is ordinary housekeeping, not a sign of
// an account mix-up.
const minGuardedDeletions = 10

// A batch of message records is committed in one state transaction, one
// fsync per batch instead of one per message, when it reaches batchSize
// records or batchAge, whichever comes first. The age bounds what a crash
// makes the next run download again to about batchAge of work.
const (
	batchSize = 64
	batchAge  = 250 * time.Millisecond
)

// plan is the work of one run.
type plan struct {
	fetch   []string            // download and deliver
	relabel map[string][]string // stored messages moved to the folders of new labels
	remove  []string            // stored messages Gmail no longer has
	// adopt lists new messages whose labels the history gave: if a run
	// that was killed delivered them but did not commit their records,
	// their files are taken over instead of downloaded again.
	adopt map[string]*change
}

func newPlan() *plan { return &plan{relabel: map[string][]string{}, adopt: map[string]*change{}} }

// execute carries out p: the deletion guard, then moves, deletions and
// downloads, committing state in batches after the files they describe are
// durable. With DryRun it only reports.
func (e *Engine) execute(ctx context.Context, sum *Summary, labels *labelSet, p *plan) error {
	if err := e.addLabelMoves(labels, p); err != nil {
		return err
	}
	if err := e.guardDeletions(len(p.remove)); err != nil {
		return err
	}
	if e.DryRun {
		e.report(sum, labels, p)
		return nil
	}
	if _, err := e.Store.CleanOwnTmp(labels.mapper.AllDirs()); err != nil {
		e.logger().Warn("cleaning leftover temporary files failed", "err", err)
	}
	if err := e.Store.CreateFolders(labels.mapper.AllDirs()); err != nil {
		return fmt.Errorf("creating Maildir folders: %w", err)
	}
	if err := e.relabel(sum, labels, p); err != nil {
		return err
	}
	if err := e.removeAll(sum, p.remove); err != nil {
		return err
	}
	if err := e.adopt(sum, labels, p); err != nil {
		return err
	}
	if err := e.fetch(ctx, sum, labels, p.fetch); err != nil {
		return err
	}
	e.removeStaleFolders(labels)
	if err := e.State.SetLabels(labels.snap, e.clock()); err != nil {
		return fmt.Errorf("storing the label list: %w", err)
	}
	if sum.UnknownLabels > 0 {
		e.logger().Info("label ids unknown to labels.list got no folder", "count", sum.UnknownLabels)
	}
	return nil
}

// addLabelMoves adds to p every stored message that carries a label whose
// folder moved or that Gmail deleted.
func (e *Engine) addLabelMoves(labels *labelSet, p *plan) error {
	if len(labels.moved) == 0 {
		return nil
	}
	return e.State.ForEach(func(id string, rec *Record) error {
		if _, planned := p.relabel[id]; planned {
			return nil
		}
		if slices.ContainsFunc(rec.LabelIDs, func(l string) bool { return labels.moved[l] }) {
			p.relabel[id] = labels.withoutDeleted(rec.LabelIDs)
		}
		return nil
	})
}

func (e *Engine) guardDeletions(n int) error {
	if e.Force || n < minGuardedDeletions {
		return nil
	}
	stored, err := e.State.Count()
	if err != nil {
		return err
	}
	percent := e.MaxDeletePercent
	if percent <= 0 {
		percent = 25
	}
	if n*100 > percent*stored {
		return fmt.Errorf("%w: this run would delete %d of the %d stored messages, more than max_delete_percent (%d%%); check that the account is the right one, then run again with --force", ErrTooManyDeletions, n, stored, percent)
	}
	return nil
}

// relabel moves stored messages to the folders of their new labels without
// downloading them; a message with no file left on disk is fetched instead.
func (e *Engine) relabel(sum *Summary, labels *labelSet, p *plan) error {
	ids := make([]string, 0, len(p.relabel))
	for id := range p.relabel {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	batch := newBatch(e)
	for _, id := range ids {
		rec, err := e.State.Get(id)
		if err != nil {
			return err
		}
		if rec == nil {
			p.fetch = append(p.fetch, id)
			continue
		}
		newLabels := p.relabel[id]
		sum.UnknownLabels += labels.unknown(newLabels)
		paths, err := e.Store.Relink(id, rec.Paths, labels.mapper.Targets(newLabels))
		if errors.Is(err, maildir.ErrNoCopy) {
			p.fetch = append(p.fetch, id)
			continue
		}
		if err != nil {
			return err
		}
		rec.LabelIDs, rec.Paths = newLabels, paths
		sum.Changed++
		if err := batch.put(id, rec); err != nil {
			return err
		}
	}
	return batch.flush()
}

// adopt takes over the files of new messages that an interrupted run
// delivered without committing their records; the others are fetched.
func (e *Engine) adopt(sum *Summary, labels *labelSet, p *plan) error {
	ids := make([]string, 0, len(p.adopt))
	for id := range p.adopt {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	batch := newBatch(e)
	for _, id := range ids {
		c := p.adopt[id]
		paths, err := e.Store.Relink(id, nil, labels.mapper.Targets(c.labels))
		if errors.Is(err, maildir.ErrNoCopy) {
			p.fetch = append(p.fetch, id)
			continue
		}
		if err != nil {
			return err
		}
		rec := &Record{ThreadID: c.threadID, LabelIDs: c.labels, Paths: paths}
		if len(paths) > 0 {
			rec.MessageID = e.Store.MessageIDOf(paths[0])
		}
		sum.New++
		if err := batch.put(id, rec); err != nil {
			return err
		}
	}
	return batch.flush()
}

// removeAll removes the local copies of messages Gmail deleted, or moves
// them to the keep folder.
func (e *Engine) removeAll(sum *Summary, ids []string) error {
	batch := newBatch(e)
	for _, id := range ids {
		rec, err := e.State.Get(id)
		if err != nil || rec == nil {
			if err != nil {
				return err
			}
			continue
		}
		if err := e.removeOne(id, rec); err != nil {
			return err
		}
		sum.Deleted++
		if err := batch.delete(id); err != nil {
			return err
		}
	}
	return batch.flush()
}

func (e *Engine) removeOne(id string, rec *Record) error {
	if e.Deletion.KeepFolder == "" {
		return e.Store.Remove(rec.Paths)
	}
	flags := maildir.FlagsFor(rec.LabelIDs)
	flags.Trashed = false
	keep := maildir.EscapeLabel(e.Mapping.Layout, e.Deletion.KeepFolder)
	_, err := e.Store.Relink(id, rec.Paths, []maildir.Target{{Dir: keep, Flags: flags}})
	if errors.Is(err, maildir.ErrNoCopy) {
		return nil
	}
	return err
}

// removeStaleFolders deletes folders of labels that were renamed or deleted
// once they are empty; a folder holding files of other programs stays.
func (e *Engine) removeStaleFolders(labels *labelSet) {
	// Deepest first, so a parent is empty by the time it is checked.
	dirs := slices.Clone(labels.staleDirs)
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, dir := range dirs {
		removed, err := e.Store.RemoveEmptyFolder(dir)
		if err != nil {
			e.logger().Warn("removing the folder of a renamed or deleted label failed", "folder", dir, "err", err)
		} else if !removed {
			e.logger().Warn("kept the folder of a renamed or deleted label because it still holds files", "folder", dir)
		}
	}
}

// fetch downloads messages and stores them. Downloads, deliveries (each
// fsync-bound) and state commits overlap: FetchRaw hands each message to a
// pool of deliverers, and one committer records what they stored, in
// batches, after the files are durable.
func (e *Engine) fetch(ctx context.Context, sum *Summary, labels *labelSet, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	type stored struct {
		id  string
		rec *Record // nil: gone before the download
	}
	jobs := make(chan *gmailapi.RawMessage)
	results := make(chan stored)
	var deliverers sync.WaitGroup
	for range max(e.Workers, 1) {
		deliverers.Add(1)
		go func() {
			defer deliverers.Done()
			for msg := range jobs {
				rec, err := e.store(sum, labels, msg)
				if err != nil {
					cancel(err)
					continue
				}
				results <- stored{id: msg.Id, rec: rec}
			}
		}()
	}

	committed := make(chan error, 1)
	go func() {
		batch := newBatch(e)
		done := 0
		var err error
		for res := range results {
			done++
			if e.Progress != nil {
				e.Progress(done, len(ids))
			}
			if err != nil || res.rec == nil {
				continue
			}
			e.count(func() { sum.New++ })
			if err = batch.put(res.id, res.rec); err != nil {
				cancel(err)
			}
		}
		if ferr := batch.flush(); err == nil {
			err = ferr
		}
		committed <- err
	}()

	err := e.Client.FetchRaw(ctx, ids, e.Workers, func(res gmailapi.FetchResult) error {
		switch {
		case res.Err != nil && gmailapi.IsNotFound(res.Err):
			e.count(func() { sum.Vanished++ })
			results <- stored{id: res.ID}
			return nil
		case res.Err != nil:
			return res.Err
		}
		select {
		case jobs <- res.Message:
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	})
	close(jobs)
	deliverers.Wait()
	close(results)
	commitErr := <-committed

	// A delivery or commit failure cancelled the fetch with its cause;
	// report that rather than the cancellation it produced.
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	if err != nil {
		return err
	}
	return commitErr
}

// count runs fn under the engine's lock, for counters that deliverers and
// the committer share.
func (e *Engine) count(fn func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	fn()
}

// store writes one fetched message into its folders and returns its record.
// A copy the mail client already saved into Sent (same Message-ID) stands
// for Gmail's: Sent gets no second file.
func (e *Engine) store(sum *Summary, labels *labelSet, msg *gmailapi.RawMessage) (*Record, error) {
	e.count(func() { sum.UnknownLabels += labels.unknown(msg.LabelIds) })
	messageID := messageID(msg.Raw)
	targets := labels.mapper.Targets(msg.LabelIds)
	if sentDir, ok := labels.mapper.Dir("SENT"); ok && messageID != "" && slices.Contains(msg.LabelIds, "SENT") {
		clientCopies, err := e.foreignSent(sum, sentDir)
		if err != nil {
			return nil, err
		}
		if clientCopies[messageID] {
			targets = slices.DeleteFunc(targets, func(t maildir.Target) bool { return t.Dir == sentDir })
		}
	}
	paths, err := e.Store.Deliver(targets, msg.Id, msg.Raw, time.UnixMilli(msg.InternalDate))
	if err != nil {
		return nil, fmt.Errorf("storing message %s: %w", msg.Id, err)
	}
	return &Record{
		ThreadID:     msg.ThreadId,
		LabelIDs:     msg.LabelIds,
		Paths:        paths,
		MessageID:    messageID,
		InternalDate: msg.InternalDate,
	}, nil
}

// foreignSent returns the Message-IDs of the mail client's own files in the
// Sent folder, read once per run.
func (e *Engine) foreignSent(sum *Summary, dir string) (map[string]bool, error) {
	e.sentOnce.Lock()
	defer e.sentOnce.Unlock()
	if e.sentIDs == nil {
		ids, count, err := e.Store.ForeignMessageIDs(dir)
		if err != nil {
			return nil, err
		}
		e.sentIDs = ids
		e.count(func() { sum.Foreign += count })
		if count > 0 {
			e.logger().Warn("left files that gmsync did not write alone", "folder", dir, "count", count)
		}
	}
	return e.sentIDs, nil
}

// report describes a dry run's plan.
func (e *Engine) report(sum *Summary, labels *labelSet, p *plan) {
	line := func(format string, args ...any) {
		if e.Plan != nil {
			e.Plan(fmt.Sprintf(format, args...))
		}
	}
	ids := make([]string, 0, len(p.relabel))
	for id := range p.relabel {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		line("move %s to %s", id, strings.Join(labels.mapper.Folders(p.relabel[id]), ", "))
	}
	for _, id := range p.remove {
		line("delete %s", id)
	}
	for _, id := range p.fetch {
		line("fetch %s", id)
	}
	for id := range p.adopt {
		line("fetch %s", id)
	}
	sum.Changed, sum.Deleted, sum.New = len(p.relabel), len(p.remove), len(p.fetch)+len(p.adopt)
}

// messageID returns the Message-ID header of raw without angle brackets,
// or "" when the header block cannot be parsed. Real mail is sometimes
// malformed, and such a message is still stored.
func messageID(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return threadindex.Normalize(m.Header.Get("Message-Id"))
}

// recordBatch commits records and deletions in groups of batchSize, and
// the Message-ID to thread pairs of new records with them.
type recordBatch struct {
	e       *Engine
	records map[string]*Record
	deleted []string
	threads map[string]string
	started time.Time // when the first uncommitted change arrived
}

func newBatch(e *Engine) *recordBatch {
	return &recordBatch{e: e, records: map[string]*Record{}, threads: map[string]string{}}
}

func (b *recordBatch) put(id string, rec *Record) error {
	b.records[id] = rec
	if rec.MessageID != "" {
		b.threads[rec.MessageID] = rec.ThreadID
	}
	return b.maybeFlush()
}

func (b *recordBatch) delete(id string) error {
	b.deleted = append(b.deleted, id)
	return b.maybeFlush()
}

func (b *recordBatch) maybeFlush() error {
	n := len(b.records) + len(b.deleted)
	if n == 1 {
		b.started = b.e.clock()
	}
	if n >= batchSize || b.e.clock().Sub(b.started) >= batchAge {
		return b.flush()
	}
	return nil
}

func (b *recordBatch) flush() error {
	if err := b.e.State.Apply(b.records, b.deleted); err != nil {
		return fmt.Errorf("committing sync state: %w", err)
	}
	if err := threadindex.Put(b.e.StateDir, b.threads); err != nil {
		return err
	}
	clear(b.records)
	clear(b.threads)
	b.deleted = b.deleted[:0]
	return nil
}
