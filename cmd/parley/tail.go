package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

func runTail(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("tail")
	asJSON := fs.Bool("json", false, "print one JSON object per message (JSON Lines)")
	convs, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	t := newTailer(c, e.stdout, e.stderr)
	t.json = *asJSON
	if len(convs) > 0 {
		t.only = map[string]bool{}
		for _, id := range convs {
			t.only[id] = true
		}
	}
	return t.run(ctx)
}

// tailer prints new messages from a WebSocket and survives disconnects
// without losing or repeating any: it remembers the last seq printed per
// conversation, sends those cursors in a sync after every (re)connect,
// drops anything at or below a cursor (duplicates), and fills a gap above
// a cursor from REST history before printing. It runs in one goroutine.
type tailer struct {
	c         *client.Client
	out, errw io.Writer
	json      bool
	only      map[string]bool // conversations to follow; nil means all
	names     *names

	cursors map[string]int64  // last seq printed (or seen at start)
	titles  map[string]string // for display
	started bool              // the first conversation list is loaded

	minDelay, maxDelay time.Duration // reconnect backoff
	pageSize           int           // history page when filling a gap
}

func newTailer(c *client.Client, out, errw io.Writer) *tailer {
	return &tailer{c: c, out: out, errw: errw, names: newNames(c),
		cursors: map[string]int64{}, titles: map[string]string{},
		minDelay: 500 * time.Millisecond, maxDelay: 30 * time.Second, pageSize: 100}
}

// run follows until ctx ends (Ctrl-C: not an error) or a failure that
// reconnecting cannot cure (the session ended, the certificate is wrong).
func (t *tailer) run(ctx context.Context) error {
	if err := t.refresh(ctx); err != nil {
		return err
	}
	attempt := 0
	for {
		err := t.follow(ctx, &attempt)
		if ctx.Err() != nil {
			return nil
		}
		if fatal(err) {
			return err
		}
		d := t.backoff(attempt)
		attempt++
		var apiErr *client.APIError
		if errors.As(err, &apiErr) && apiErr.RetryAfter > d {
			d = apiErr.RetryAfter
		}
		fmt.Fprintf(t.errw, "parley: connection lost (%s); reconnecting in %s\n", cleanLine(err.Error()), d.Round(100*time.Millisecond))
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
		// Learn conversations created meanwhile; failing here is retried
		// by the next round.
		if err := t.refresh(ctx); err != nil && fatal(err) {
			return err
		}
	}
}

// refresh loads the conversation list. At start, cursors begin at each
// conversation's last seq (tail shows what is new); conversations that
// appear later begin at 0, since all of their messages are new.
func (t *tailer) refresh(ctx context.Context) error {
	convs, err := t.c.Conversations(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, cv := range convs {
		seen[cv.ConversationID] = true
		if t.only != nil && !t.only[cv.ConversationID] {
			continue
		}
		t.titles[cv.ConversationID] = cv.Title
		if _, ok := t.cursors[cv.ConversationID]; !ok {
			if t.started {
				t.cursors[cv.ConversationID] = 0
			} else {
				t.cursors[cv.ConversationID] = cv.LastSeq
			}
		}
	}
	if !t.started {
		for id := range t.only {
			if !seen[id] {
				return &client.APIError{Code: "not_found", Message: fmt.Sprintf("conversation %s is not one of yours", cleanLine(id))}
			}
		}
	}
	t.started = true
	return nil
}

// follow runs one connection: dial, sync, print until it breaks.
func (t *tailer) follow(ctx context.Context, attempt *int) error {
	conn, err := t.c.Dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Sync(ctx, maps.Clone(t.cursors)); err != nil {
		return err
	}
	for {
		f, err := conn.Next(ctx)
		if err != nil {
			return err
		}
		switch f.Type {
		case wire.FrameMessage:
			if err := t.handle(ctx, f); err != nil {
				return err
			}
		case wire.FrameSynced:
			if *attempt > 0 {
				fmt.Fprintln(t.errw, "parley: reconnected")
			} else if !t.json {
				fmt.Fprintln(t.errw, "parley: waiting for messages (Ctrl-C to stop)")
			}
			*attempt = 0
		case wire.FrameError:
			fmt.Fprintf(t.errw, "parley: server: %s (%s)\n", cleanLine(f.Message), cleanLine(f.Code))
		}
	}
}

// handle prints a message frame unless it is a duplicate, filling any gap
// before it first.
func (t *tailer) handle(ctx context.Context, f *wire.ServerFrame) error {
	conv := f.ConversationID
	if t.only != nil && !t.only[conv] {
		return nil
	}
	last := t.cursors[conv] // 0 for a conversation not seen before: all new
	if f.Seq <= last {
		return nil
	}
	if f.Seq > last+1 {
		err := t.fill(ctx, conv, f.Seq)
		switch {
		case isAPIError(err):
			// The server refused (say, we left the conversation): nothing
			// more to fetch, show what arrived.
			fmt.Fprintf(t.errw, "parley: could not fetch missed messages: %s\n", cleanLine(err.Error()))
		case err != nil:
			// Reconnecting syncs from the cursor, which fills the gap.
			return fmt.Errorf("fetching missed messages: %w", err)
		}
	}
	t.print(ctx, wire.MessageFrame{Type: wire.FrameMessage, ConversationID: conv, MessageID: f.MessageID,
		Seq: f.Seq, SenderID: f.SenderID, Body: f.Body, SentAt: f.SentAt})
	t.cursors[conv] = f.Seq
	return nil
}

// fill prints the stored messages between the cursor and upto (exclusive).
// Seqs the server no longer has (retention) are skipped, not waited for.
func (t *tailer) fill(ctx context.Context, conv string, upto int64) error {
	for {
		last := t.cursors[conv]
		msgs, err := t.c.History(ctx, conv, last, t.pageSize)
		if err != nil {
			return err
		}
		progressed := false
		for _, m := range msgs {
			if m.Seq >= upto {
				return nil
			}
			if m.Seq <= t.cursors[conv] {
				continue
			}
			t.print(ctx, wire.MessageFrame{Type: wire.FrameMessage, ConversationID: conv, MessageID: m.MessageID,
				Seq: m.Seq, SenderID: m.SenderID, Body: m.Body, SentAt: m.SentAt})
			t.cursors[conv] = m.Seq
			progressed = true
		}
		if !progressed || len(msgs) < t.pageSize {
			return nil
		}
	}
}

func (t *tailer) print(ctx context.Context, m wire.MessageFrame) {
	if t.json {
		data, _ := json.Marshal(m)
		fmt.Fprintf(t.out, "%s\n", data)
		return
	}
	title := t.titles[m.ConversationID]
	if title == "" {
		title = m.ConversationID
	}
	fmt.Fprintf(t.out, "[%s] %s %s: %s\n", cleanLine(title), m.SentAt.Local().Format("15:04:05"),
		t.names.name(ctx, m.SenderID), indentBody(m.Body))
}

// backoff grows exponentially with jitter, so that many clients cut off by
// one server restart do not reconnect in lockstep.
func (t *tailer) backoff(attempt int) time.Duration {
	d := t.maxDelay
	if attempt < 20 {
		d = min(t.maxDelay, t.minDelay<<attempt)
	}
	return d/2 + rand.N(d/2+1) // #nosec G404 -- reconnect jitter only spreads clients out; it needs no unpredictability
}

// fatal reports failures that reconnecting cannot cure.
func fatal(err error) bool {
	for _, code := range []string{"unauthenticated", "forbidden", "mfa_enrollment_required", "not_found", "invalid"} {
		if client.IsCode(err, code) {
			return true
		}
	}
	var certErr *tls.CertificateVerificationError
	return errors.As(err, &certErr)
}
