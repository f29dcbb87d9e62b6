package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley/wire"
)

// sendArgs are the parsed arguments of "parley send".
type sendArgs struct {
	conv      string
	text      []string // words to join; nil when fromStdin
	fromStdin bool
	json      bool
}

// parseSendArgs takes flags only before the conversation ID: everything
// after it is message text, which may well start with "-".
func parseSendArgs(e *env, args []string) (*sendArgs, error) {
	var a sendArgs
	fs := e.newFlags("send")
	fs.BoolVar(&a.json, "json", false, "print the result as JSON")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	rest := fs.Args()
	if len(rest) < 2 {
		return nil, usagef("expected a conversation ID and the text (or - to read it from stdin)")
	}
	a.conv = rest[0]
	if len(rest) == 2 && rest[1] == "-" {
		a.fromStdin = true
	} else {
		a.text = rest[1:]
	}
	return &a, nil
}

func runSend(ctx context.Context, e *env, args []string) error {
	a, err := parseSendArgs(e, args)
	if err != nil {
		return err
	}
	body, err := messageBody(a, e.stdin)
	if err != nil {
		return err
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	id, err := newClientMsgID()
	if err != nil {
		return err
	}
	// One retry with the same client_msg_id is safe (the server returns the
	// first result), so a dropped connection does not lose the message. An
	// answer from the server (APIError) is final.
	resp, err := c.Send(ctx, a.conv, id, body)
	if err != nil && ctx.Err() == nil && !isAPIError(err) {
		resp, err = c.Send(ctx, a.conv, id, body)
	}
	if err != nil {
		return err
	}
	if a.json {
		return printJSON(e.stdout, resp)
	}
	fmt.Fprintf(e.stdout, "Sent #%d (%s).\n", resp.Seq, cleanLine(resp.MessageID))
	return nil
}

// messageBody joins the words or reads stdin (one trailing newline, as
// echo and editors add, is dropped).
func messageBody(a *sendArgs, stdin io.Reader) (string, error) {
	var body string
	if a.fromStdin {
		data, err := io.ReadAll(io.LimitReader(stdin, wire.MaxMessageLen+2))
		if err != nil {
			return "", fmt.Errorf("reading stdin: %w", err)
		}
		body = strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r")
	} else {
		body = strings.Join(a.text, " ")
	}
	switch {
	case strings.TrimSpace(body) == "":
		return "", errors.New("empty message")
	case len(body) > wire.MaxMessageLen:
		return "", fmt.Errorf("message longer than %d bytes (too_large)", wire.MaxMessageLen)
	case !utf8.ValidString(body):
		return "", errors.New("message is not valid UTF-8 (invalid)")
	}
	return body, nil
}

// newClientMsgID returns 128 random bits: unique per message, so that
// retries are idempotent and different messages never collide.
func newClientMsgID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "cli-" + hex.EncodeToString(b[:]), nil
}
