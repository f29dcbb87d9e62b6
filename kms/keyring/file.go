package keyring

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/crypt"
)

const (
	fileVersion = 1
	maxFileSize = 1 << 20
	maxIDLen    = 64
)

// fileJSON is the keyring file:
//
//	{"version":1,"current":"kek-1-…","keys":[{"id":"kek-1-…","created_at":"2026-01-02T03:04:05Z","key":"<base64>"}]}
type fileJSON struct {
	Version int       `json:"version"`
	Current string    `json:"current"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID        string `json:"id"`
	CreatedAt string `json:"created_at"`
	Key       []byte `json:"key"` // standard base64 in JSON
}

// Create makes a new keyring file at path with one fresh KEK. It refuses to
// replace an existing file: overwriting a keyring destroys every key it held.
func Create(path string) (*Keyring, error) {
	return create(path, time.Now())
}

func create(path string, now time.Time) (*Keyring, error) {
	k := newKEK(1, now)
	if err := writeFile(path, []*kek{k}, k.id, true); err != nil {
		k.key.Zero()
		return nil, err
	}
	return &Keyring{path: path, current: k.id, keys: map[string]*kek{k.id: k}, order: []*kek{k}}, nil
}

// Open reads the keyring file at path. It refuses a file that group or
// others may access (fix: chmod 600 path), anything but a regular file, and
// any malformed content.
func Open(path string) (*Keyring, error) {
	f, err := os.Open(path) // #nosec G304 -- the keyring path comes from the operator's configuration, not from requests
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat() // of the opened file: no race with a swapped path
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring: %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("keyring: %s has mode %04o, so other users may read the master keys; "+
			"it must be readable by its owner only: run chmod 600 %s", path, perm, path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	defer clear(data) // D6: the file holds key material in base64
	if err != nil {
		return nil, fmt.Errorf("keyring: %w", err)
	}
	r, err := parse(data)
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", path, err)
	}
	r.path = path
	return r, nil
}

// OpenOrCreate opens the keyring at path, creating it if it does not exist.
// created tells which happened, so that the caller can log it.
func OpenOrCreate(path string) (r *Keyring, created bool, err error) {
	r, err = Open(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return r, false, err
	}
	r, err = Create(path)
	if errors.Is(err, fs.ErrExist) { // another process created it meanwhile
		r, err = Open(path)
		return r, false, err
	}
	return r, err == nil, err
}

var errMalformed = errors.New("malformed keyring file")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errMalformed}, args...)...)
}

// parse decodes and validates a keyring file strictly: no unknown fields,
// no trailing data, version 1, unique well-formed IDs, 256-bit keys, and a
// current key that exists.
func parse(data []byte) (*Keyring, error) {
	if len(data) > maxFileSize {
		return nil, malformed("larger than %d bytes", maxFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f fileJSON
	defer func() {
		for _, k := range f.Keys {
			clear(k.Key)
		}
	}()
	if err := dec.Decode(&f); err != nil {
		return nil, malformed("%s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("data after the JSON object")
	}
	if f.Version != fileVersion {
		return nil, malformed("version %d, want %d", f.Version, fileVersion)
	}
	if len(f.Keys) == 0 {
		return nil, malformed("no keys")
	}
	r := &Keyring{keys: make(map[string]*kek, len(f.Keys))}
	for i, fk := range f.Keys {
		if !validID(fk.ID) {
			return nil, malformed("key %d: bad id", i)
		}
		if r.keys[fk.ID] != nil {
			return nil, malformed("key %q appears twice", fk.ID)
		}
		created, err := time.Parse(time.RFC3339, fk.CreatedAt)
		// The year bound keeps the time writable as RFC 3339 in UTC: an
		// offset can push year 0000 to year -1 (found by FuzzParse).
		if err != nil || created.UTC().Year() < 1 || created.UTC().Year() > 9999 {
			return nil, malformed("key %q: bad created_at", fk.ID)
		}
		key, err := crypt.KeyFromBytes(fk.Key)
		if err != nil {
			return nil, malformed("key %q: not a 256-bit key", fk.ID)
		}
		k := &kek{id: fk.ID, createdAt: created.UTC(), key: key}
		r.keys[k.id] = k
		r.order = append(r.order, k)
	}
	if r.keys[f.Current] == nil {
		return nil, malformed("current key %q is not in the file", f.Current)
	}
	r.current = f.Current
	return r, nil
}

// jsonReason keeps decoder errors short and free of file content: a syntax
// error message can quote bytes of the input, which may be key material.
func jsonReason(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return fmt.Sprintf("wrong type for %s", typ.Field)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "truncated JSON"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return err.Error()[len("json: "):] // a field name, not a value
	default:
		return "invalid content" // unknown fields, bad base64, …
	}
}

// validID accepts the IDs this package generates and similar ones: 1–64
// characters of a–z, 0–9 and '-'.
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// writeFile writes the keyring atomically: a 0600 temp file in the same
// directory, fsync, then rename over path (or hard-link to it when exclusive,
// which fails if path exists), then fsync of the directory. A crash leaves
// either the old file or the new one, never a torn one.
func writeFile(path string, keys []*kek, current string, exclusive bool) (err error) {
	f := fileJSON{Version: fileVersion, Current: current, Keys: make([]fileKey, len(keys))}
	for i, k := range keys {
		// Key aliases the live key material: it is read here, never wiped.
		f.Keys[i] = fileKey{ID: k.id, CreatedAt: k.createdAt.UTC().Format(time.RFC3339), Key: k.key.Bytes()}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	defer clear(data)
	if err != nil {
		return fmt.Errorf("keyring: encode: %w", err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".keyring-*.tmp") // created 0600
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmpName != "" {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("keyring: write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("keyring: sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if exclusive {
		if err := os.Link(tmpName, path); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("keyring: %s already exists; refusing to overwrite a keyring: %w", path, fs.ErrExist)
			}
			return fmt.Errorf("keyring: %w", err)
		}
		os.Remove(tmpName)
	} else if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	tmpName = ""
	return syncDir(dir)
}

// syncDir makes the rename durable.
func syncDir(dir string) error {
	d, err := os.Open(dir) // #nosec G304 -- the keyring's own directory, opened only to fsync it
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("keyring: sync %s: %w", dir, err)
	}
	return nil
}
