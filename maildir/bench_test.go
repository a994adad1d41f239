package maildir

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDeliver measures storing one 4 KiB message into three folders:
// one fsync'd write and two hard links, each directory fsync'd.
func BenchmarkDeliver(b *testing.B) {
	s, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	raw := make([]byte, 4096)
	targets := []Target{
		{Dir: "INBOX", Flags: Flags{Seen: true}},
		{Dir: "Work", Flags: Flags{Seen: true}},
		{Dir: "All Mail", Flags: Flags{Seen: true}},
	}
	date := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		if _, err := s.Deliver(targets, fmt.Sprintf("%016x", i), raw, date); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkMapper measures building the folder mapping of 1,000 labels,
// collisions and escaping included, as each sync does once.
func BenchmarkMapper(b *testing.B) {
	labels := make([]Label, 0, 1000)
	for i := range 1000 {
		labels = append(labels, Label{ID: fmt.Sprintf("Label_%d", i), Name: fmt.Sprintf("Projects/Team %d/Sub.%d", i%37, i), Type: "user"})
	}
	for b.Loop() {
		NewMapper(labels, MapperOptions{})
	}
}
