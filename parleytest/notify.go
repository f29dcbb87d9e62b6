package parleytest

import (
	"path/filepath"
	"regexp"
	"testing"

	"github.com/parleyhq/parley/cmd/parleyd/node"
	"github.com/parleyhq/parley/notify"
)

// Outbox is a file-sink notifier for a test server: every e-mail and SMS
// the server sends (one-time codes, A1) lands in a file the test reads.
type Outbox struct {
	t    testing.TB
	Path string
}

// NewOutbox returns an outbox in a fresh temporary directory.
func NewOutbox(t testing.TB) *Outbox {
	t.Helper()
	return &Outbox{t: t, Path: filepath.Join(t.TempDir(), "outbox.jsonl")}
}

// WithOutbox makes the server deliver e-mail and SMS into ob.
func WithOutbox(ob *Outbox) ServerOption {
	return func(o *node.Options) {
		sink, err := notify.NewFileSink(ob.Path)
		if err != nil {
			ob.t.Fatalf("outbox: %v", err)
		}
		o.Notify = sink
	}
}

// Messages returns every message sent so far, oldest first.
func (ob *Outbox) Messages() []notify.Record {
	ob.t.Helper()
	recs, err := notify.ReadFile(ob.Path)
	if err != nil {
		ob.t.Fatalf("outbox: %v", err)
	}
	return recs
}

var codeRE = regexp.MustCompile(`\b[0-9]{6,8}\b`)

// LastCode returns the one-time code in the newest message sent to to,
// failing the test if there is none.
func (ob *Outbox) LastCode(to string) string {
	ob.t.Helper()
	msgs := ob.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == to {
			if code := codeRE.FindString(msgs[i].Body); code != "" {
				return code
			}
			ob.t.Fatalf("outbox: newest message to %s has no code: %q", to, msgs[i].Body)
		}
	}
	ob.t.Fatalf("outbox: no message to %s", to)
	return ""
}

// Count returns how many messages went to to.
func (ob *Outbox) Count(to string) int {
	n := 0
	for _, m := range ob.Messages() {
		if m.To == to {
			n++
		}
	}
	return n
}
