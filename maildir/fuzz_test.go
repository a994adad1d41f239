package maildir

import (
	"strings"
	"testing"
)

// FuzzEscapeLabel checks that escaping round-trips and that every directory,
// of a label alone or of colliding labels resolved by a Mapper, stays inside
// the root.
func FuzzEscapeLabel(f *testing.F) {
	for i, name := range trickyLabels {
		f.Add(name, trickyLabels[(i+1)%len(trickyLabels)], i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, name, other string, plusPlus bool) {
		layout := Nested
		if plusPlus {
			layout = MaildirPlusPlus
		}
		checkEscape(t, layout, name)

		labels := withUserLabels(
			"Label_1", name,
			"Label_2", other,
			"Label_3", strings.ToUpper(name),
			"Label_4", name+"/"+other,
			"Label_5", strings.ToLower(other)+"/x",
		)
		m := NewMapper(labels, MapperOptions{Layout: layout, FolderNames: map[string]string{"TRASH": other}})
		checkMapperDirs(t, m, len(m.AllDirs()))
		for _, id := range []string{"Label_1", "Label_2", "Label_3", "Label_4", "Label_5"} {
			if _, ok := m.Dir(id); !ok {
				t.Errorf("Dir(%q) = false, want a folder", id)
			}
		}
	})
}
