package historysync

import (
	"context"
	"slices"
	"time"

	"github.com/gmsync/gmsync/maildir"
)

// defaultLabelCheckInterval is how long a run without history changes
// trusts the stored label list. Gmail's history reports no label renames,
// so a rename alone shows up within this interval.
const defaultLabelCheckInterval = time.Hour

// labelSet is the label list of this run and what changed since the
// stored snapshot.
type labelSet struct {
	mapper *maildir.Mapper
	known  map[string]bool // every label id labels.list returned
	ids    []string        // the same ids, in Gmail's order
	snap   LabelSnapshot

	// moved lists label ids whose folder moved (rename, collision change)
	// or that were deleted; messages carrying them are relinked.
	moved map[string]bool
	// deleted lists label ids Gmail no longer has.
	deleted map[string]bool
	// staleDirs are folders of the old mapping that the new one lacks.
	staleDirs []string
}

// labelsDue reports whether the stored label list is older than the check
// interval, or missing.
func (e *Engine) labelsDue() bool {
	snap, checked, err := e.State.Labels()
	if err != nil || snap == nil {
		return true
	}
	interval := e.LabelCheckInterval
	if interval <= 0 {
		interval = defaultLabelCheckInterval
	}
	return e.clock().Sub(checked) >= interval
}

// readLabels reads labels.list and compares it with the stored snapshot.
func (e *Engine) readLabels(ctx context.Context) (*labelSet, error) {
	labels, err := e.Client.Labels(ctx)
	if err != nil {
		return nil, err
	}
	set := &labelSet{known: map[string]bool{}, snap: LabelSnapshot{}, moved: map[string]bool{}, deleted: map[string]bool{}}
	mapped := make([]maildir.Label, 0, len(labels))
	for _, l := range labels {
		mapped = append(mapped, maildir.Label{ID: l.Id, Name: l.Name, Type: l.Type})
		set.known[l.Id] = true
		set.ids = append(set.ids, l.Id)
		set.snap[l.Id] = SnapshotLabel{Name: l.Name, Type: l.Type}
	}
	set.mapper = maildir.NewMapper(mapped, e.Mapping)

	old, _, err := e.State.Labels()
	if err != nil {
		return nil, err
	}
	if old != nil {
		set.diff(old, e.Mapping)
	}
	return set, nil
}

// diff fills moved, deleted and staleDirs from the old snapshot.
func (s *labelSet) diff(old LabelSnapshot, opts maildir.MapperOptions) {
	oldLabels := make([]maildir.Label, 0, len(old))
	for id, l := range old {
		oldLabels = append(oldLabels, maildir.Label{ID: id, Name: l.Name, Type: l.Type})
	}
	oldMapper := maildir.NewMapper(oldLabels, opts)
	for id := range old {
		if !s.known[id] {
			s.deleted[id] = true
			s.moved[id] = true
			continue
		}
		oldDir, hadDir := oldMapper.Dir(id)
		newDir, hasDir := s.mapper.Dir(id)
		if hadDir != hasDir || oldDir != newDir {
			s.moved[id] = true
		}
	}
	current := s.mapper.AllDirs()
	for _, dir := range oldMapper.AllDirs() {
		if !slices.Contains(current, dir) {
			s.staleDirs = append(s.staleDirs, dir)
		}
	}
}

// withoutDeleted returns labels minus the ids Gmail no longer has.
func (s *labelSet) withoutDeleted(labels []string) []string {
	return slices.DeleteFunc(slices.Clone(labels), func(l string) bool { return s.deleted[l] })
}

// unknown counts label ids that labels.list did not return.
func (s *labelSet) unknown(labels []string) int {
	n := 0
	for _, l := range labels {
		if !s.known[l] {
			n++
		}
	}
	return n
}
