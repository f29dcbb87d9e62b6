package breached

import (
	"sort"
	"testing"
)

// TestList: the list has the size A3 asks for (≥100,000), is sorted and
// free of duplicates (binary search depends on it), and matches
// case-insensitively.
func TestList(t *testing.T) {
	if n := Len(); n < 100_000 {
		t.Fatalf("list has %d entries, want at least 100,000", n)
	}
	if !sort.SliceIsSorted(offsets, func(i, j int) bool { return entry(i) < entry(j) }) {
		t.Fatal("list is not sorted")
	}
	for i := 1; i < len(offsets); i++ {
		if entry(i) == entry(i-1) {
			t.Fatalf("duplicate entry at %d", i)
		}
	}
	for pw, want := range map[string]bool{
		"password1234": true, "PassWord1234": true, "p@ssw0rd": true, "#ImNotAHacker69": true,
		"a day to remember": true, "Correct-Horse-9-Battery": false, "": false, "zzzzzzzzzzzzzzzzzzzzzzzzzzzz-9": false,
	} {
		if got := Contains(pw); got != want {
			t.Errorf("Contains(%q) = %v, want %v", pw, got, want)
		}
	}
	if !Contains(entry(0)) || !Contains(entry(len(offsets)-1)) {
		t.Error("first or last entry not found")
	}
}

func BenchmarkContains(b *testing.B) {
	Len()
	for b.Loop() {
		Contains("Correct-Horse-9-Battery")
	}
}
