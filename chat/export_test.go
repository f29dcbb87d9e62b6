package chat

import (
	"context"
	"log/slog"

	"github.com/parleyhq/parley"
)

// IsolationCheckForBench returns the send path's isolation check of a
// service wired to iso, for BenchmarkCheckWritable.
func IsolationCheckForBench(iso parley.Isolation, store parley.Store) func(context.Context, *parley.Conversation) error {
	cfg := DefaultConfig()
	cfg.Isolation = iso
	s := &Service{store: store, now: parley.SystemClock, log: slog.New(slog.DiscardHandler), cfg: cfg}
	return s.checkWritable
}
