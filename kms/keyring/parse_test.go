package keyring

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var key32 = base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))

func validFile() string {
	return `{"version":1,"current":"kek-1-aa","keys":[{"id":"kek-1-aa","created_at":"2026-01-02T03:04:05Z","key":"` + key32 + `"}]}`
}

func TestParseMalformed(t *testing.T) {
	if _, err := parse([]byte(validFile())); err != nil {
		t.Fatalf("valid file refused: %v", err)
	}
	rep := func(old, new string) string { return strings.Replace(validFile(), old, new, 1) }
	bad := map[string]string{
		"empty":           "",
		"not json":        "kek",
		"truncated":       validFile()[:40],
		"trailing data":   validFile() + "{}",
		"unknown field":   rep(`"version":1`, `"version":1,"extra":true`),
		"version 2":       rep(`"version":1`, `"version":2`),
		"version string":  rep(`"version":1`, `"version":"1"`),
		"no keys":         `{"version":1,"current":"kek-1-aa","keys":[]}`,
		"current missing": rep(`"current":"kek-1-aa"`, `"current":"kek-2-bb"`),
		"current empty":   rep(`"current":"kek-1-aa"`, `"current":""`),
		"short key":       rep(key32, base64.StdEncoding.EncodeToString(make([]byte, 16))),
		"bad base64":      rep(key32, "!!!!"),
		"bad created_at":  rep("2026-01-02T03:04:05Z", "yesterday"),
		"uppercase id":    strings.ReplaceAll(validFile(), "kek-1-aa", "KEK-1-AA"),
		"id with slash":   strings.ReplaceAll(validFile(), "kek-1-aa", "kek/1"),
		"id too long":     strings.ReplaceAll(validFile(), "kek-1-aa", strings.Repeat("a", 65)),
		"duplicate id":    rep(`}]}`, `},{"id":"kek-1-aa","created_at":"2026-01-02T03:04:05Z","key":"`+key32+`"}]}`),
		"array":           "[]",
		"too large":       validFile() + strings.Repeat(" ", maxFileSize),
	}
	for name, s := range bad {
		_, err := parse([]byte(s))
		if !errors.Is(err, errMalformed) {
			t.Errorf("%s: err = %v", name, err)
			continue
		}
		if strings.Contains(err.Error(), key32[:8]) {
			t.Errorf("%s: error reveals key material: %v", name, err)
		}
	}
}

func TestOpenCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.json")
	if err := os.WriteFile(path, []byte(`{"version":1,`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path); !errors.Is(err, errMalformed) || !strings.Contains(err.Error(), path) {
		t.Fatalf("corrupt file: %v", err)
	}
}

// FuzzParse feeds arbitrary bytes to the keyring parser: it must never
// panic, and what it accepts must survive a write and re-read unchanged.
func FuzzParse(f *testing.F) {
	f.Add([]byte(validFile()))
	f.Add([]byte(`{"version":1,"current":"a","keys":[{"id":"a","created_at":"2026-01-02T03:04:05+08:00","key":"` + key32 + `"}]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"keys":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := parse(data)
		if err != nil {
			return
		}
		path := filepath.Join(t.TempDir(), "k.json")
		if err := writeFile(path, r.order, r.current, true); err != nil {
			t.Fatal(err)
		}
		o, err := Open(path)
		if err != nil {
			t.Fatalf("re-read of accepted file: %v", err)
		}
		if o.current != r.current || len(o.order) != len(r.order) {
			t.Fatal("round trip changed the keyring")
		}
		for i, k := range r.order {
			if o.order[i].id != k.id || !o.order[i].key.Equal(k.key) || !o.order[i].createdAt.Equal(k.createdAt.Truncate(1e9)) {
				t.Fatalf("key %d changed", i)
			}
		}
	})
}
