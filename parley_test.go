package parley

import (
	"strings"
	"testing"
)

func TestMessageIDsSortByCreation(t *testing.T) {
	prev := NewMessageID()
	seen := map[MessageID]bool{prev: true}
	for i := 0; i < 1000; i++ {
		id := NewMessageID()
		if seen[id] || !strings.HasPrefix(string(id), "m_") || len(id) != 2+26 {
			t.Fatalf("bad or repeated ID %q", id)
		}
		seen[id] = true
		// Same millisecond: random order; a later millisecond sorts later.
		if id[:10] < prev[:10] {
			t.Fatalf("%s sorts before the earlier %s", id, prev)
		}
		prev = id
	}
}

func TestErrorHelpers(t *testing.T) {
	e := Errorf(CodeNotFound, "conversation %s not found", "c_1")
	if ErrorCode(e) != CodeNotFound || ErrorMessage(e) != "conversation c_1 not found" || !IsNotFound(e) {
		t.Fatalf("%v", e)
	}
	in := Internal("op", errString("password=hunter2"))
	if ErrorCode(in) != CodeInternal || strings.Contains(ErrorMessage(in), "hunter2") {
		t.Fatalf("internal error leaks its cause: %q", ErrorMessage(in))
	}
	if ErrorCode(errString("x")) != CodeInternal || ErrorMessage(errString("secret")) != "internal error" {
		t.Fatal("foreign errors must be internal and silent")
	}
}

type errString string

func (e errString) Error() string { return string(e) }
