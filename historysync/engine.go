package historysync

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/mail"
	"strconv"
	"time"

	"google.golang.org/api/gmail/v1"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/maildir"
	"github.com/gmsync/gmsync/threadindex"
)

// Engine runs one sync of one account.
type Engine struct {
	Client   *gmailapi.Client
	Store    *maildir.Store
	State    *State
	StateDir string // directory of the thread index
	Mapping  maildir.MapperOptions
	Workers  int // concurrent messages.get requests
	Logger   *slog.Logger
	// Progress, when set, is called after each fetched message with the
	// number done and the number to fetch.
	Progress func(done, total int)
}

// Summary describes what a run did.
type Summary struct {
	Listed      int // message ids Gmail listed
	New         int // messages fetched and stored
	Present     int // listed messages already stored, not fetched again
	Vanished    int // listed, then gone (404) before the fetch
	HistoryFrom uint64
	HistoryTo   uint64
	Usage       gmailapi.Usage
	Elapsed     time.Duration
}

// batchSize is how many message records are committed in one state
// transaction: one fsync per batch instead of one per message.
const batchSize = 64

// Run performs a full sync: it records the profile's historyId first, lists
// every message (INBOX first, then the rest, Spam and Trash included),
// fetches the ones the state does not hold, stores each once in the Maildir
// with a hard link per label folder, and finally stores the historyId.
//
// Run is resumable: an interrupted run leaves every committed message in
// place, and the next run fetches only what is still missing.
func (e *Engine) Run(ctx context.Context) (*Summary, error) {
	start := time.Now()
	sum := &Summary{}
	var err error
	if sum.HistoryFrom, err = e.State.HistoryID(); err != nil {
		return nil, err
	}
	profile, err := e.Client.Profile(ctx)
	if err != nil {
		return nil, err
	}
	mapper, err := e.mapper(ctx)
	if err != nil {
		return nil, err
	}
	// Every folder exists from the first run on, so a client configured
	// for +INBOX or +Sent finds it even while it is empty.
	if err := e.Store.CreateFolders(mapper.AllDirs()); err != nil {
		return nil, fmt.Errorf("creating Maildir folders: %w", err)
	}
	ids, err := e.listAll(ctx)
	if err != nil {
		return nil, err
	}
	sum.Listed = len(ids)

	missing := make([]string, 0, len(ids))
	for _, id := range ids {
		has, err := e.State.Has(id)
		if err != nil {
			return nil, err
		}
		if has {
			sum.Present++
			continue
		}
		missing = append(missing, id)
	}
	if err := e.fetch(ctx, missing, mapper, sum); err != nil {
		return nil, err
	}
	if err := e.State.SetHistoryID(profile.HistoryId); err != nil {
		return nil, fmt.Errorf("storing historyId %d: %w", profile.HistoryId, err)
	}
	sum.HistoryTo = profile.HistoryId
	sum.Usage = e.Client.Meter().Usage()
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func (e *Engine) mapper(ctx context.Context) (*maildir.Mapper, error) {
	labels, err := e.Client.Labels(ctx)
	if err != nil {
		return nil, err
	}
	mapped := make([]maildir.Label, 0, len(labels))
	for _, l := range labels {
		mapped = append(mapped, maildir.Label{ID: l.Id, Name: l.Name, Type: l.Type})
	}
	return maildir.NewMapper(mapped, e.Mapping), nil
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

// fetch downloads missing messages and stores them, committing state in
// batches after the files of the batch are durable.
func (e *Engine) fetch(ctx context.Context, ids []string, mapper *maildir.Mapper, sum *Summary) error {
	pending := map[string]*Record{}
	threads := map[string]string{}
	flush := func() error {
		if err := e.State.PutAll(pending); err != nil {
			return fmt.Errorf("committing sync state: %w", err)
		}
		if err := threadindex.Put(e.StateDir, threads); err != nil {
			return err
		}
		clear(pending)
		clear(threads)
		return nil
	}

	done := 0
	err := e.Client.FetchRaw(ctx, ids, e.Workers, func(res gmailapi.FetchResult) error {
		done++
		if e.Progress != nil {
			defer e.Progress(done, len(ids))
		}
		if res.Err != nil {
			if gmailapi.IsNotFound(res.Err) {
				sum.Vanished++
				return nil
			}
			return res.Err
		}
		rec, err := e.store(res.Message, mapper)
		if err != nil {
			return err
		}
		pending[res.ID] = rec
		if rec.MessageID != "" {
			threads[rec.MessageID] = rec.ThreadID
		}
		sum.New++
		if len(pending) >= batchSize {
			return flush()
		}
		return nil
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	return err
}

// store writes one fetched message into its folders and returns its record.
func (e *Engine) store(msg *gmailapi.RawMessage, mapper *maildir.Mapper) (*Record, error) {
	internal := time.UnixMilli(msg.InternalDate)
	targets := mapper.Targets(msg.LabelIds)
	paths, err := e.Store.Deliver(targets, msg.Id, msg.Raw, internal)
	if err != nil {
		return nil, fmt.Errorf("storing message %s: %w", msg.Id, err)
	}
	return &Record{
		ThreadID:     msg.ThreadId,
		LabelIDs:     msg.LabelIds,
		Paths:        paths,
		MessageID:    messageID(msg.Raw),
		InternalDate: msg.InternalDate,
	}, nil
}

// messageID returns the Message-ID header of raw, or "" when the header
// block cannot be parsed. Real mail is sometimes malformed, and such a
// message is still stored.
func messageID(raw []byte) string {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return ""
	}
	return threadindex.Normalize(m.Header.Get("Message-Id"))
}

// String is the one-line summary printed after a run.
func (s *Summary) String() string {
	return fmt.Sprintf("%d new, %d already present, %d gone before download; historyId %s; %d API units in %s",
		s.New, s.Present, s.Vanished, historyText(s.HistoryFrom, s.HistoryTo), s.Usage.TotalUnits(), s.Elapsed.Round(time.Millisecond))
}

func historyText(from, to uint64) string {
	if from == 0 {
		return strconv.FormatUint(to, 10) + " (first sync)"
	}
	return strconv.FormatUint(from, 10) + " to " + strconv.FormatUint(to, 10)
}
