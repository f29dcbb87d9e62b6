package keyring

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/crypt"
)

var (
	ctx = context.Background()
	t0  = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
)

func newRing(t *testing.T) (*Keyring, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keyring.json")
	r, err := create(path, t0)
	if err != nil {
		t.Fatal(err)
	}
	return r, path
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCreateOpenRoundTrip(t *testing.T) {
	r, path := newRing(t)
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode %04o, want 0600", m)
	}
	id := r.CurrentID()
	if !strings.HasPrefix(id, "kek-1-") || len(id) != len("kek-1-")+16 || !validID(id) {
		t.Fatalf("id %q", id)
	}
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if o.CurrentID() != id || !o.keys[id].key.Equal(r.keys[id].key) || !o.keys[id].createdAt.Equal(t0) {
		t.Fatal("reopened keyring differs")
	}
	if l := o.List(); len(l) != 1 || l[0].ID != id || !l[0].Current {
		t.Fatalf("List = %+v", l)
	}
	kekID, wrapped, err := r.Wrap(ctx, []byte("data key"), []byte("aad"))
	if err != nil || kekID != id {
		t.Fatal(kekID, err)
	}
	got, err := o.Unwrap(ctx, kekID, wrapped, []byte("aad"))
	if err != nil || string(got) != "data key" {
		t.Fatalf("Unwrap = %q, %v", got, err)
	}
	raw, _ := os.ReadFile(path)
	for _, want := range []string{`"version": 1`, `"current": "` + id, `"created_at": "2026-01-02T03:04:05Z"`} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("file lacks %s:\n%s", want, raw)
		}
	}
}

func TestCreateRefusesOverwrite(t *testing.T) {
	r, path := newRing(t)
	before, _ := os.ReadFile(path)
	if _, err := Create(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create over existing: %v", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Fatal("existing keyring changed")
	}
	assertNoTempFiles(t, filepath.Dir(path))
	_ = r
}

func TestOpenRefusesLooseMode(t *testing.T) {
	_, path := newRing(t)
	for _, m := range []fs.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
		if err := os.Chmod(path, m); err != nil {
			t.Fatal(err)
		}
		_, err := Open(path)
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+path) {
			t.Errorf("mode %04o: err = %v", m, err)
		}
	}
	for _, m := range []fs.FileMode{0o600, 0o400} {
		os.Chmod(path, m)
		if _, err := Open(path); err != nil {
			t.Errorf("mode %04o refused: %v", m, err)
		}
	}
	if _, err := Open(filepath.Dir(path)); err == nil {
		t.Error("directory accepted")
	}
	if _, err := Open(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestWrapUnwrapFailures(t *testing.T) {
	r, _ := newRing(t)
	id, wrapped, err := r.Wrap(ctx, []byte("dek"), []byte("conv-1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Unwrap(ctx, "kek-9-0000000000000000", wrapped, []byte("conv-1")); !errors.Is(err, ErrUnknownKEK) {
		t.Errorf("unknown kek: %v", err)
	}
	cases := []struct {
		name    string
		wrapped []byte
		aad     []byte
	}{
		{"wrong aad", wrapped, []byte("conv-2")},
		{"no aad", wrapped, nil},
		{"tampered", append(bytes.Clone(wrapped[:len(wrapped)-1]), wrapped[len(wrapped)-1]^1), []byte("conv-1")},
		{"truncated", wrapped[:10], []byte("conv-1")},
	}
	for _, c := range cases {
		if _, err := r.Unwrap(ctx, id, c.wrapped, c.aad); !errors.Is(err, crypt.ErrDecrypt) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	// The KEK ID is bound: a wrap presented under another ID fails even if
	// that ID held the same key material.
	r.keys["kek-2-alias"] = &kek{id: "kek-2-alias", key: r.keys[id].key}
	if _, err := r.Unwrap(ctx, "kek-2-alias", wrapped, []byte("conv-1")); !errors.Is(err, crypt.ErrDecrypt) {
		t.Errorf("wrap opened under another KEK ID: %v", err)
	}
}

func TestRotate(t *testing.T) {
	r, path := newRing(t)
	oldID := r.CurrentID()
	_, oldWrap, _ := r.Wrap(ctx, []byte("old dek"), nil)
	newID, err := r.Rotate(t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if newID == oldID || r.CurrentID() != newID || !strings.HasPrefix(newID, "kek-2-") {
		t.Fatalf("rotate: old %s new %s current %s", oldID, newID, r.CurrentID())
	}
	id, newWrap, _ := r.Wrap(ctx, []byte("new dek"), nil)
	if id != newID {
		t.Fatalf("Wrap used %s after rotation", id)
	}
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("mode after rotate %04o", m)
	}
	assertNoTempFiles(t, filepath.Dir(path))
	o, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if o.CurrentID() != newID || len(o.List()) != 2 || o.List()[0].ID != oldID {
		t.Fatalf("reopened: %+v", o.List())
	}
	for _, w := range []struct {
		id   string
		blob []byte
		want string
	}{{oldID, oldWrap, "old dek"}, {newID, newWrap, "new dek"}} {
		got, err := o.Unwrap(ctx, w.id, w.blob, nil)
		if err != nil || string(got) != w.want {
			t.Errorf("unwrap under %s: %q %v", w.id, got, err)
		}
	}
}

func TestRotateFailureChangesNothing(t *testing.T) {
	r, path := newRing(t)
	id := r.CurrentID()
	r.path = filepath.Join(path, "not-a-dir", "keyring.json")
	if _, err := r.Rotate(t0); err == nil {
		t.Fatal("rotate to an impossible path succeeded")
	}
	if r.CurrentID() != id || len(r.List()) != 1 {
		t.Fatal("failed rotation changed the keyring")
	}
}

func TestOpenOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.json")
	r1, created, err := OpenOrCreate(path)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	r2, created, err := OpenOrCreate(path)
	if err != nil || created || r2.CurrentID() != r1.CurrentID() {
		t.Fatal(created, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := OpenOrCreate(path); err == nil {
		t.Fatal("OpenOrCreate accepted a loose file")
	}
}

func TestReloadAndClose(t *testing.T) {
	server, path := newRing(t)
	admin, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	newID, err := admin.Rotate(t0)
	if err != nil {
		t.Fatal(err)
	}
	_, wrapped, _ := admin.Wrap(ctx, []byte("x"), nil)
	if _, err := server.Unwrap(ctx, newID, wrapped, nil); !errors.Is(err, ErrUnknownKEK) {
		t.Fatalf("before reload: %v", err)
	}
	if err := server.Reload(); err != nil {
		t.Fatal(err)
	}
	if got, err := server.Unwrap(ctx, newID, wrapped, nil); err != nil || string(got) != "x" {
		t.Fatalf("after reload: %v", err)
	}
	// A file that lost a key the server holds is refused.
	other, _ := newRing(t)
	server.path = other.path
	if err := server.Reload(); err == nil {
		t.Fatal("reload accepted a file without our keys")
	}
	key := server.keys[newID].key
	server.Close()
	if key.Bytes() != nil {
		t.Fatal("Close did not wipe keys")
	}
	if _, _, err := server.Wrap(ctx, []byte("x"), nil); err == nil {
		t.Fatal("Wrap after Close")
	}
	if _, err := server.Rotate(t0); err == nil {
		t.Fatal("Rotate after Close")
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}
