package maildir

import "slices"

// AllMail is the id that MapperOptions.FolderNames and MapperOptions.Ignore
// use for the All Mail folder, which no Gmail label backs.
const AllMail = "ALL"

// Label is a Gmail label as the mapper needs it.
type Label struct {
	ID   string // immutable id: "INBOX", "Label_12"
	Name string // display name, '/' separating hierarchy levels
	Type string // "system" or "user"; anything else counts as "user"
}

// MapperOptions selects the layout and which folders exist under which names.
type MapperOptions struct {
	Layout Layout

	// FolderNames maps a label id (a system id such as "SENT", AllMail, or a
	// user label id) to its folder name, '/' separating levels. An entry for
	// a system label that has no folder by default, such as
	// "CATEGORY_PERSONAL", creates one. An empty value keeps the default.
	// In the Maildir++ layout the INBOX is always the root, whatever its name.
	FolderNames map[string]string

	// Ignore lists label ids or label names that get no folder; AllMail
	// removes the All Mail folder.
	Ignore []string

	// IncludeImportant creates the Important folder for the IMPORTANT label.
	IncludeImportant bool
}

// Target is one folder that a message is delivered into, with the flags of
// that folder's copy.
type Target struct {
	Dir   string // relative to the Maildir root, as Mapper returns it
	Flags Flags
}

// Mapper maps label ids to folder directories. It computes every directory
// once, in NewMapper, so the mapping is stable for its lifetime; build a new
// Mapper when labels are added or renamed. A Mapper is safe for concurrent use
// because its methods only read.
type Mapper struct {
	layout  Layout
	folders []*folder // in rank order: system folders, then user labels by id
	byID    map[string]*folder
}

// NewMapper computes the directory of every folder, resolving collisions as
// the package comment describes.
func NewMapper(labels []Label, opts MapperOptions) *Mapper {
	folders := collectFolders(labels, opts)
	for _, f := range folders {
		f.comps = escapeComponents(opts.Layout, f.name)
	}
	if opts.Layout == MaildirPlusPlus {
		resolveFlat(opts.Layout, folders)
	} else {
		resolveNested(opts.Layout, folders)
	}
	slices.SortFunc(folders, compareFolders)

	m := &Mapper{layout: opts.Layout, folders: folders, byID: make(map[string]*folder, len(folders))}
	for _, f := range folders {
		m.byID[f.id] = f
	}
	return m
}

// Layout returns the layout the directories were computed for.
func (m *Mapper) Layout() Layout { return m.layout }

// Folders returns the directories, relative to the root, of a message that
// carries labelIDs: one per label that has a folder, plus All Mail; or only
// the Trash or Spam folder for a message in TRASH or SPAM. Label ids without a folder are skipped. The
// order is the mapper's folder order (INBOX first), with no duplicates.
func (m *Mapper) Folders(labelIDs []string) []string {
	var dirs []string
	for _, f := range m.matching(labelIDs) {
		dirs = append(dirs, f.dir)
	}
	return dirs
}

// Targets returns Folders with the flags of each copy: FlagsFor(labelIDs),
// with Trashed set only on the copy in the Trash folder.
func (m *Mapper) Targets(labelIDs []string) []Target {
	flags := FlagsFor(labelIDs)
	var targets []Target
	for _, f := range m.matching(labelIDs) {
		t := Target{Dir: f.dir, Flags: flags}
		t.Flags.Trashed = flags.Trashed && f.id == labelTrash
		targets = append(targets, t)
	}
	return targets
}

// Dir returns the directory, relative to the root, of the folder for a label
// id or AllMail, and false when that label has no folder.
func (m *Mapper) Dir(labelID string) (string, bool) {
	f, ok := m.byID[labelID]
	if !ok {
		return "", false
	}
	return f.dir, true
}

// AllDirs returns every folder's directory in the mapper's folder order.
func (m *Mapper) AllDirs() []string {
	dirs := make([]string, len(m.folders))
	for i, f := range m.folders {
		dirs[i] = f.dir
	}
	return dirs
}

func (m *Mapper) matching(labelIDs []string) []*folder {
	has := make(map[string]bool, len(labelIDs))
	for _, id := range labelIDs {
		has[id] = true
	}
	has[AllMail] = !has[labelSpam] && !has[labelTrash]

	// Gmail shows a message in Spam or Trash in that folder alone: label
	// views and All Mail leave it out, in the web interface and in IMAP
	// alike. TRASH wins when both are present, because trashing is newer.
	only := ""
	switch {
	case has[labelTrash]:
		only = labelTrash
	case has[labelSpam]:
		only = labelSpam
	}

	var out []*folder
	for _, f := range m.folders {
		if has[f.id] && (only == "" || f.id == only) {
			out = append(out, f)
		}
	}
	return out
}
