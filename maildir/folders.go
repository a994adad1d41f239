package maildir

import "cmp"

// Gmail system label ids that the package treats specially.
const (
	labelInbox     = "INBOX"
	labelImportant = "IMPORTANT"
	labelSpam      = "SPAM"
	labelTrash     = "TRASH"
	labelUnread    = "UNREAD"
	labelStarred   = "STARRED"
	labelDraft     = "DRAFT"
)

// systemFolders are the folders that exist by default, in folder order.
var systemFolders = []struct{ id, name string }{
	{labelInbox, "INBOX"},
	{"SENT", "Sent"},
	{labelDraft, "Drafts"},
	{labelStarred, "Starred"},
	{labelImportant, "Important"},
	{labelSpam, "Spam"},
	{labelTrash, "Trash"},
	{AllMail, "All Mail"},
}

// folder is one label's folder while the mapper computes its directory.
type folder struct {
	id     string
	name   string   // folder name before escaping
	system bool     // a system label or All Mail
	rank   int      // position in systemFolders; len(systemFolders) for other system labels
	comps  []string // escaped hierarchy components
	dir    string   // final directory relative to the root
}

// compareFolders orders folders by precedence: system folders in
// systemFolders order, then other system labels, then user labels, each by
// label id. That order decides who wins a collision.
func compareFolders(a, b *folder) int {
	if a.system != b.system {
		if a.system {
			return -1
		}
		return 1
	}
	if c := cmp.Compare(a.rank, b.rank); c != 0 {
		return c
	}
	return compareIDs(a.id, b.id)
}

// compareIDs orders label ids shorter first, then bytewise, which orders
// Gmail's "Label_<n>" ids by n.
func compareIDs(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}

// collectFolders lists the folders that labels and opts call for, each label
// id once.
func collectFolders(labels []Label, opts MapperOptions) []*folder {
	ignored := make(map[string]bool, len(opts.Ignore))
	for _, s := range opts.Ignore {
		ignored[s] = true
	}
	gmailNames := make(map[string]string, len(labels))
	for _, l := range labels {
		gmailNames[l.ID] = l.Name
	}
	skip := func(id string) bool {
		name, ok := gmailNames[id]
		return ignored[id] || (ok && ignored[name])
	}

	var out []*folder
	seen := make(map[string]bool)
	for rank, sf := range systemFolders {
		seen[sf.id] = true
		if skip(sf.id) || (sf.id == labelImportant && !opts.IncludeImportant && opts.FolderNames[sf.id] == "") {
			continue
		}
		out = append(out, &folder{id: sf.id, name: folderName(opts, sf.id, sf.name), system: true, rank: rank})
	}

	for _, l := range labels {
		if l.ID == "" || seen[l.ID] || skip(l.ID) {
			continue
		}
		seen[l.ID] = true
		if l.Type != "system" {
			out = append(out, &folder{id: l.ID, name: folderName(opts, l.ID, l.Name), rank: len(systemFolders)})
			continue
		}
		if name := opts.FolderNames[l.ID]; name != "" {
			out = append(out, &folder{id: l.ID, name: name, system: true, rank: len(systemFolders)})
		}
	}
	return out
}

func folderName(opts MapperOptions, id, fallback string) string {
	if name := opts.FolderNames[id]; name != "" {
		return name
	}
	return fallback
}
