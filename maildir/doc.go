// Package maildir mirrors Gmail labels into a Maildir tree: it maps label ids
// to folder directories, derives Maildir flags from labels, and delivers each
// message once, hard-linked into every folder it belongs to. It takes plain
// label ids and names and does not import the Gmail API. It builds on
// github.com/emersion/go-maildir for Init, flag letters, walking and tmp
// cleaning, and adds what that library leaves out: fsync, modes 0600 and 0700,
// and hard links.
//
// # Folders
//
// Gmail's system labels get these folders by default: INBOX "INBOX", SENT
// "Sent", DRAFT "Drafts", STARRED "Starred", SPAM "Spam", TRASH "Trash", and
// IMPORTANT "Important" when MapperOptions.IncludeImportant is set. "All
// Mail" (id AllMail) holds every message outside SPAM and TRASH, as Gmail's
// All Mail does. Each user label gets one folder named after the label, '/'
// separating hierarchy levels. MapperOptions.FolderNames renames any of them,
// and naming another system label there (for example CATEGORY_PERSONAL)
// gives it a folder. Without that, UNREAD, CHAT, CATEGORY_* and system labels
// the package does not know (YELLOW_STAR, …) have no folder.
// MapperOptions.Ignore drops folders by label id or name. A message in SPAM
// or TRASH appears in that folder only, as in Gmail, whose label views and
// All Mail leave out spam and trash.
//
// # Layouts
//
// Nested (the default) keeps each folder in a directory of its own:
// root/INBOX/{cur,new,tmp}, and root/Work/Projects/{cur,new,tmp} for the label
// "Work/Projects". A label folder that has sub-labels is a Maildir and the
// parent of their directories at once. MaildirPlusPlus makes the root itself
// the INBOX and every other folder a directory root/.Work.Projects, '.'
// separating levels; each such folder also gets a "maildirfolder" file.
//
// # Escaping
//
// Label names are remote input. A name is split at each '/' that has text on
// both sides. A '/' at either end or next to another '/' stays inside its
// component and is escaped, so no component is empty. Within a component
// these bytes are percent-encoded as %XX, with upper-case hex:
//
//   - '%' itself, '/', '\', ':' and '~' (which marks suffixes, see below);
//   - control characters (C0, DEL, C1), the Unicode bidirectional embedding,
//     override and isolate characters, and bytes that are not UTF-8;
//   - a leading '.', so that no component is ".", ".." or hidden;
//   - every '.' in the Maildir++ layout, where '.' separates levels;
//   - the first letter of a component that is "cur", "new" or "tmp" in any
//     letter case, so a folder never hides a Maildir subdirectory.
//
// The empty name is written as "%". Everything else, including spaces and
// non-ASCII letters, stays as it is, in UTF-8 (not IMAP's modified UTF-7).
// UnescapeLabel reverses the encoding. Characters that only Windows forbids
// ('<', '>', '"', '|', '?', '*', trailing dots and spaces, names like CON)
// are not escaped.
//
// A directory name over NameMax (200) bytes is shortened: a prefix of the
// escaped name that splits no escape, then "~~" and 16 hex digits of the
// SHA-256 of the whole escaped name. In the nested layout this applies per
// component; in Maildir++ to the whole ".A.B" name. This is the one case that
// decoding cannot undo (UnescapeLabel returns ErrShortened), so the name must
// be recovered from the label id through Mapper.Dir.
//
// # Collisions
//
// Two folders collide when their directory names are equal after Unicode
// NFD normalization and simple case folding, because macOS and Windows
// filesystems would treat them as one directory. Examples are "Projects" and
// "projects", "Café" in NFC and NFD, and a user label "INBOX" beside the
// system INBOX. In the
// nested layout collisions are resolved level by level, so the parents of
// "Projects/A" and "projects/B" collide as well. The winner is a system
// folder (in the order listed above), then other system labels, then user
// labels, each by lower label id (shorter first, then bytewise, which orders
// "Label_9" before "Label_10"). The winner keeps the plain name; every other
// folder gets the suffix '~' plus its escaped label id, for example
// "INBOX~Label_7". A directory that no label owns takes the lowest label id
// below it. Escaping never produces a raw '~', so suffixed names cannot
// collide with plain ones. In Maildir++ the system INBOX, which is the root,
// competes for the name ".INBOX".
//
// Every directory a Mapper returns is relative, and stays inside the root
// after filepath.Clean; the tests and a fuzz target check this.
//
// # Files and flags
//
// A message file is named FormatKey(internalDate, gmailID),
// "<unix seconds>.<gmail id>.gmsync", so ParseKey recovers the Gmail id.
// Unread messages go into new/ with no info part, as the Maildir convention
// has it, so they carry no other flag there. Read messages go into cur/
// with ":2," and their flags in ASCII order: D for DRAFT, F for STARRED,
// S unless UNREAD, and T on the copy in the Trash folder only. Links share
// the file's inode but each has its own name and so its own flags. Every
// file's mtime is the message's internalDate.
//
// # Concurrency and durability
//
// A Mapper is immutable after NewMapper. A Store is safe for concurrent use
// and assumes it is the only gmsync process writing under its root. Deliver,
// SetFlags and Remove are durable when they return nil because files and
// directories are fsynced (except directories on Windows). Paths are
// checked lexically; a symbolic link that someone placed inside the root is
// followed.
package maildir
