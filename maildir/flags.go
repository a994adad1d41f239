package maildir

import (
	"slices"

	"github.com/emersion/go-maildir"
)

// Flags are the Maildir flags gmsync derives from a message's labels.
type Flags struct {
	Seen    bool // 'S': the message lacks UNREAD
	Flagged bool // 'F': STARRED
	Draft   bool // 'D': DRAFT
	Trashed bool // 'T': TRASH; Mapper.Targets keeps it only on the Trash folder's copy
}

// FlagsFor returns the flags of a message that carries labelIDs.
func FlagsFor(labelIDs []string) Flags {
	f := Flags{Seen: true}
	for _, id := range labelIDs {
		switch id {
		case labelUnread:
			f.Seen = false
		case labelStarred:
			f.Flagged = true
		case labelDraft:
			f.Draft = true
		case labelTrash:
			f.Trashed = true
		}
	}
	return f
}

// subdir returns the Maildir subdirectory for a message with these flags:
// "new" for an unread message, which by Maildir convention has no info
// part and so keeps none of the other flags, and "cur" otherwise.
func (f Flags) subdir() string {
	if f.Seen {
		return "cur"
	}
	return "new"
}

// filename returns the file name of a message with key and these flags:
// the bare key in new/, and key + ":2," + flags in ASCII order in cur/.
func (f Flags) filename(key string) string {
	if !f.Seen {
		return key
	}
	return key + string(infoSeparator) + "2," + f.info()
}

func (f Flags) info() string {
	var flags []maildir.Flag
	for _, pair := range []struct {
		set  bool
		flag maildir.Flag
	}{
		{f.Seen, maildir.FlagSeen},
		{f.Flagged, maildir.FlagFlagged},
		{f.Draft, maildir.FlagDraft},
		{f.Trashed, maildir.FlagTrashed},
	} {
		if pair.set {
			flags = append(flags, pair.flag)
		}
	}
	slices.Sort(flags)

	b := make([]byte, len(flags))
	for i, fl := range flags {
		b[i] = byte(fl)
	}
	return string(b)
}
