package crypt

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func testKey(t testing.TB, fill byte) *Key {
	t.Helper()
	k, err := KeyFromBytes(bytes.Repeat([]byte{fill}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestKeyRedaction checks that no fmt verb, JSON or slog handler prints key
// material (DESIGN.md §4, D6).
func TestKeyRedaction(t *testing.T) {
	k := NewKey()
	secretHex := hex.EncodeToString(k.Bytes())
	type exported struct{ K *Key }
	type byValue struct{ K Key }
	type hidden struct {
		k  Key
		kp *Key
	}
	values := map[string]any{
		"ptr":            k,
		"value":          *k,
		"exported field": exported{k},
		"value field":    byValue{*k},
		"hidden fields":  hidden{*k, k},
	}
	leaks := func(s string) bool {
		return strings.Contains(strings.ToLower(s), secretHex[:16]) ||
			bytes.Contains([]byte(s), k.Bytes()[:8]) ||
			strings.Contains(s, fmt.Sprint(k.Bytes()[:4])[1:8])
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
			out := fmt.Sprintf(verb, v)
			if leaks(out) {
				t.Errorf("%s %s leaks key: %s", name, verb, out)
			}
			if name != "hidden fields" && !strings.Contains(out, redacted) {
				t.Errorf("%s %s = %q, want REDACTED", name, verb, out)
			}
		}
	}
	for _, v := range []any{k, *k, exported{k}, byValue{*k}} {
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if leaks(string(j)) || !strings.Contains(string(j), redacted) {
			t.Errorf("json %s", j)
		}
	}
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("key", "k", k, "v", *k, "s", exported{k})
		if leaks(buf.String()) || strings.Count(buf.String(), redacted) < 3 {
			t.Errorf("slog: %s", buf.String())
		}
	}
}

func TestKeyUnmarshalRefuses(t *testing.T) {
	var s struct{ K *Key }
	if err := json.Unmarshal([]byte(`{"K":"AAAA"}`), &s); err == nil {
		t.Fatal("JSON decoded into a key")
	}
	if err := new(Key).UnmarshalText([]byte("x")); err == nil {
		t.Fatal("text decoded into a key")
	}
}

func TestKeyFromBytes(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := KeyFromBytes(make([]byte, n)); !errors.Is(err, ErrInvalidKey) {
			t.Errorf("len %d: err = %v", n, err)
		}
	}
	b := bytes.Repeat([]byte{7}, KeySize)
	k, err := KeyFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 8 // the key must hold a copy
	if k.Bytes()[0] != 7 {
		t.Fatal("KeyFromBytes did not copy")
	}
}

func TestKeyEqual(t *testing.T) {
	a, b, c := testKey(t, 1), testKey(t, 1), testKey(t, 2)
	var nilKey *Key
	tests := []struct {
		name string
		x, y *Key
		want bool
	}{
		{"same bytes", a, b, true},
		{"same key", a, a, true},
		{"different", a, c, false},
		{"nil left", nilKey, a, false},
		{"nil right", a, nilKey, false},
		{"both nil", nilKey, nilKey, false},
	}
	for _, tt := range tests {
		if got := tt.x.Equal(tt.y); got != tt.want {
			t.Errorf("%s: Equal = %v", tt.name, got)
		}
	}
	if NewKey().Equal(NewKey()) {
		t.Fatal("two random keys are equal")
	}
}

func TestKeyZero(t *testing.T) {
	k := testKey(t, 9)
	copyOf := *k
	sealed, err := Seal(k, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	k.Zero()
	if k.Bytes() != nil || copyOf.Bytes() != nil {
		t.Fatal("Bytes of a wiped key")
	}
	if bytes.IndexByte(copyOf.m().b[:], 9) >= 0 {
		t.Fatal("material not wiped")
	}
	if _, err := Seal(k, []byte("x"), nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Seal with wiped key: %v", err)
	}
	if _, err := Seal(&copyOf, []byte("x"), nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Seal with a copy of a wiped key: %v", err)
	}
	if _, err := Open(k, sealed, nil); !errors.Is(err, ErrInvalidKey) {
		t.Fatalf("Open with wiped key: %v", err)
	}
	if k.Equal(testKey(t, 0)) {
		t.Fatal("wiped key equals the zero key")
	}
	var nilKey *Key
	nilKey.Zero() // must not panic
}
