package historysync

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gmsync/gmsync/gmailapi"
	"github.com/gmsync/gmsync/maildir"
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

	// Full rebuilds the state from the Maildir and the API: what is on disk
	// is kept and relinked, and only what is missing is downloaded.
	Full bool
	// DryRun computes the changes and reports them through Plan without
	// writing anything or advancing the historyId.
	DryRun bool
	// Force lets a run delete more than MaxDeletePercent of the mailbox.
	Force bool
	// Deletion decides what happens to the local copy of a message deleted in
	// Gmail.
	Deletion DeletionPolicy
	// MaxDeletePercent stops a run that would delete more than this share of
	// the stored messages (and at least minGuardedDeletions of them); 0
	// means the default, 25.
	MaxDeletePercent int
	// LabelCheckInterval is how long a run with no history changes trusts
	// the stored label list before reading it again to notice renames,
	// which the history API does not report; 0 means one hour.
	LabelCheckInterval time.Duration

	// Progress, when set, is called after each fetched message with the
	// number done and the number to fetch.
	Progress func(done, total int)
	// Plan, when set, receives one line per change of a dry run.
	Plan func(line string)

	now func() time.Time
	// sentIDs caches the Message-IDs of the mail client's files in Sent,
	// read once under sentOnce.
	sentIDs  map[string]bool
	sentOnce sync.Mutex
	// mu guards the Summary counters that concurrent deliverers update.
	mu sync.Mutex
}

// DeletionPolicy is the mirror's handling of messages that Gmail deletes.
type DeletionPolicy struct {
	// KeepFolder, when set, receives a copy of every message deleted in
	// Gmail before its other copies go; empty mirrors the deletion.
	KeepFolder string
}

// Summary describes what a run did.
type Summary struct {
	Mode        string `json:"mode"` // "full", "incremental" or "reconcile"
	Listed      int    `json:"listed"`
	New         int    `json:"new"`     // messages fetched and stored
	Changed     int    `json:"changed"` // stored messages moved between folders or given new flags
	Deleted     int    `json:"deleted"` // stored messages removed because Gmail no longer has them
	Present     int    `json:"present"` // listed messages already stored, not fetched again
	Vanished    int    `json:"vanished"`
	HistoryFrom uint64 `json:"historyFrom,string"`
	HistoryTo   uint64 `json:"historyTo,string"`
	// UnknownLabels counts label ids on messages that labels.list did not
	// return; they get no folder.
	UnknownLabels int            `json:"unknownLabels"`
	Foreign       int            `json:"foreignFiles"` // files of other programs seen in the folders read
	Usage         gmailapi.Usage `json:"-"`
	Units         int            `json:"units"`
	Calls         map[string]int `json:"calls"`
	Elapsed       time.Duration  `json:"-"`
	ElapsedMS     int64          `json:"elapsedMs"`
	DryRun        bool           `json:"dryRun,omitempty"`
}

// Run syncs the account: a full sync when no historyId is stored, an
// incremental sync through users.history.list otherwise, and a
// reconciliation when Gmail no longer keeps the history from the stored
// historyId (404) or when Full is set.
//
// The historyId advances only after every change it covers is durable, and
// never moves backwards. A run interrupted at any point leaves the mirror
// consistent, and the next run completes it without duplicating files.
func (e *Engine) Run(ctx context.Context) (*Summary, error) {
	start := e.clock()
	from, err := e.State.HistoryID()
	if err != nil {
		return nil, err
	}
	sum := &Summary{HistoryFrom: from, DryRun: e.DryRun}

	switch {
	case e.Full:
		err = e.reconcile(ctx, sum, true)
	case from == 0:
		err = e.fullSync(ctx, sum)
	default:
		err = e.incremental(ctx, sum, from)
	}
	if err != nil {
		return nil, err
	}

	sum.Usage = e.Client.Meter().Usage()
	sum.Units = sum.Usage.TotalUnits()
	sum.Calls = sum.Usage.Calls
	sum.Elapsed = e.clock().Sub(start)
	sum.ElapsedMS = sum.Elapsed.Milliseconds()
	return sum, nil
}

func (e *Engine) clock() time.Time {
	if e.now != nil {
		return e.now()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger != nil {
		return e.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// advance stores the historyId the mirror is now current to, unless it
// would move backwards or the run is dry.
func (e *Engine) advance(sum *Summary, id uint64) error {
	sum.HistoryTo = max(id, sum.HistoryFrom)
	if e.DryRun || sum.HistoryTo == sum.HistoryFrom {
		return nil
	}
	if err := e.State.SetHistoryID(sum.HistoryTo); err != nil {
		return fmt.Errorf("storing historyId %d: %w", sum.HistoryTo, err)
	}
	return nil
}

// String is the one-line summary printed after a run.
func (s *Summary) String() string {
	prefix := ""
	if s.DryRun {
		prefix = "dry run, nothing written: "
	}
	return fmt.Sprintf("%s%s sync: %d new, %d changed, %d deleted, %d already present; historyId %s; %d API units in %s",
		prefix, s.Mode, s.New, s.Changed, s.Deleted, s.Present, historyText(s.HistoryFrom, s.HistoryTo), s.Units, s.Elapsed.Round(time.Millisecond))
}

func historyText(from, to uint64) string {
	switch {
	case from == 0:
		return strconv.FormatUint(to, 10) + " (first sync)"
	case from == to:
		return strconv.FormatUint(to, 10) + " (unchanged)"
	}
	return strconv.FormatUint(from, 10) + " to " + strconv.FormatUint(to, 10)
}
