package maildir

import (
	"path/filepath"
	"slices"
	"strconv"
)

// node is one directory of the nested layout: the folders whose escaped path
// ends here, and the directories below it. Several owners means several
// labels escaped to exactly the same path.
type node struct {
	comp     string
	owners   []*folder
	children map[string]*node
	best     *folder // cached by representative
}

// resolveNested sets every folder's dir for the nested layout. It walks the
// tree level by level so that a collision between parents (for example the
// implicit parent of "Projects/A" and the label "projects") is resolved
// before their children are placed.
func resolveNested(layout Layout, folders []*folder) {
	root := &node{children: map[string]*node{}}
	for _, f := range folders {
		n := root
		for _, c := range f.comps {
			child, ok := n.children[c]
			if !ok {
				child = &node{comp: c, children: map[string]*node{}}
				n.children[c] = child
			}
			n = child
		}
		n.owners = append(n.owners, f)
	}
	placeChildren(layout, "", root)
}

// placeChildren places the children of n, which lives at dir parent.
// Children whose names fold to the same key collide. Each group is resolved
// on its own: a suffix or shortening keeps the group's fold key as a prefix
// (or adds a hash of the name), so names from different groups stay apart.
func placeChildren(layout Layout, parent string, n *node) {
	groups := make(map[string][]*node)
	for _, c := range n.children {
		key := foldKey(c.comp)
		groups[key] = append(groups[key], c)
	}
	for _, group := range groups {
		placeGroup(layout, parent, group)
	}
}

// placeGroup gives the winner of a collision group the plain name and every
// other node and extra owner a collision suffix.
func placeGroup(layout Layout, parent string, group []*node) {
	slices.SortFunc(group, func(a, b *node) int {
		return compareFolders(representative(a), representative(b))
	})
	names := make(nameSet)
	for i, n := range group {
		rep := representative(n)
		suffix := ""
		if i > 0 {
			suffix = collisionSuffix(layout, rep.id)
		}
		dir := filepath.Join(parent, names.claim(n.comp, suffix, rep.id))

		for j, owner := range n.owners {
			if j == 0 {
				owner.dir = dir
				continue
			}
			name := names.claim(n.comp, collisionSuffix(layout, owner.id), owner.id)
			owner.dir = filepath.Join(parent, name)
		}
		placeChildren(layout, dir, n)
	}
}

// representative returns the folder whose precedence and id stand for n in a
// collision: its best owner, or for a directory that no label owns, the best
// folder below it. It sorts n.owners as a side effect.
func representative(n *node) *folder {
	if n.best != nil {
		return n.best
	}
	slices.SortFunc(n.owners, compareFolders)
	if len(n.owners) > 0 {
		n.best = n.owners[0]
		return n.best
	}
	for _, c := range n.children {
		if r := representative(c); n.best == nil || compareFolders(r, n.best) < 0 {
			n.best = r
		}
	}
	return n.best
}

// resolveFlat sets every folder's dir for the Maildir++ layout, where each
// folder is one directory name below the root and INBOX is the root itself.
func resolveFlat(layout Layout, folders []*folder) {
	groups := make(map[string][]*folder)
	for _, f := range folders {
		key := foldKey(flatKey(f))
		groups[key] = append(groups[key], f)
	}
	for _, group := range groups {
		slices.SortFunc(group, compareFolders)
		names := make(nameSet)
		for i, f := range group {
			if isInbox(f) {
				names.claim(flatKey(f), "", f.id)
				f.dir = "."
				continue
			}
			suffix := ""
			if i > 0 {
				suffix = collisionSuffix(layout, f.id)
			}
			f.dir = names.claim(flatName(f.comps), suffix, f.id)
		}
	}
}

// flatKey returns the Maildir++ name a folder competes for. INBOX competes
// for ".INBOX", so that a user label named "INBOX" does not look like the
// inbox to an IMAP server serving the Maildir.
func flatKey(f *folder) string {
	if isInbox(f) {
		return "." + labelInbox
	}
	return flatName(f.comps)
}

func isInbox(f *folder) bool { return f.system && f.id == labelInbox }

// nameSet holds the fold keys of the names already given out in one
// collision group.
type nameSet map[string]bool

// claim returns name plus suffix, shortened to NameMax, and records it. In
// the unlikely case that the result folds to a name already given out (two
// label ids that differ only in case), it adds a hash of the id and, if need
// be, a counter.
func (s nameSet) claim(name, suffix, id string) string {
	result := finishName(name, suffix)
	for attempt := 1; s[foldKey(result)]; attempt++ {
		extra := string(suffixMark) + shortHash(id)
		if attempt > 1 {
			extra += strconv.Itoa(attempt)
		}
		result = finishName(name, suffix+extra)
	}
	s[foldKey(result)] = true
	return result
}
