package authzmatrix

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/wire"
)

// clientFrameTypes lists the frame types a client may send, derived from
// package wire: every Frame* string constant that wire.CheckClientFrame
// does not refuse as unknown. A new client frame type is thereby in the
// matrix at once, and fails it until frameProbes knows its permission.
func clientFrameTypes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "wire", "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("wire sources: %v", err)
	}
	unknown := wire.CheckClientFrame(&wire.ClientFrame{Type: "x-matrix-unknown"}).Error()
	var types []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if !strings.HasPrefix(id.Name, "Frame") || i >= len(vs.Values) {
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, _ := strconv.Unquote(lit.Value)
					err := wire.CheckClientFrame(&wire.ClientFrame{Type: v})
					if err == nil || err.Error() != unknown {
						types = append(types, v)
					}
				}
			}
		}
	}
	slices.Sort(types)
	if len(types) == 0 {
		t.Fatal("found no client frame types in package wire")
	}
	return slices.Compact(types)
}

// frameProbe sends one frame type about a conversation and returns the
// error codes the server answered it with (none: it was carried out).
type frameProbe struct {
	// perms are the permissions the frame needs (chat's checks, Z1).
	perms []authz.Permission
	send  func(ctx context.Context, c *client.Conn, conv, msgID string) ([]string, error)
}

var frameProbes = map[string]frameProbe{
	wire.FrameSend: {[]authz.Permission{authz.PermMessagesSend}, probeSend}, // chat.Submit
	wire.FrameTyping: {[]authz.Permission{authz.PermMessagesSend}, fenced(func(ctx context.Context, c *client.Conn, conv string) error {
		return c.Typing(ctx, conv) // chat.Typing
	})},
	wire.FrameRead: {[]authz.Permission{authz.PermMessagesRead}, fenced(func(ctx context.Context, c *client.Conn, conv string) error {
		return c.MarkRead(ctx, conv, 0) // chat.MarkRead
	})},
	// chat.Conversations, then chat.History for each cursor.
	wire.FrameSync: {[]authz.Permission{authz.PermConversationsRead, authz.PermMessagesRead},
		func(ctx context.Context, c *client.Conn, conv, _ string) ([]string, error) {
			if err := c.Sync(ctx, map[string]int64{conv: 0}); err != nil {
				return nil, err
			}
			return untilSynced(ctx, c)
		}},
}

// probeSend waits for the ack or the error that echoes the message ID.
func probeSend(ctx context.Context, c *client.Conn, conv, msgID string) ([]string, error) {
	if err := c.Send(ctx, conv, msgID, "matrix"); err != nil {
		return nil, err
	}
	var codes []string
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return codes, err
		}
		switch {
		case f.Type == wire.FrameAck && f.ClientMsgID == msgID:
			return codes, nil
		case f.Type == wire.FrameError:
			codes = append(codes, f.Code)
			if f.ClientMsgID == msgID {
				return codes, nil
			}
		}
	}
}

// fenced sends a frame that has no answer of its own, then an empty sync:
// the server handles a connection's frames in order, so any error of the
// first arrives before the synced frame.
func fenced(send func(ctx context.Context, c *client.Conn, conv string) error) func(context.Context, *client.Conn, string, string) ([]string, error) {
	return func(ctx context.Context, c *client.Conn, conv, _ string) ([]string, error) {
		if err := send(ctx, c, conv); err != nil {
			return nil, err
		}
		if err := c.Sync(ctx, nil); err != nil {
			return nil, err
		}
		return untilSynced(ctx, c)
	}
}

func untilSynced(ctx context.Context, c *client.Conn) ([]string, error) {
	var codes []string
	for {
		f, err := c.Next(ctx)
		if err != nil {
			return codes, err
		}
		switch f.Type {
		case wire.FrameSynced:
			return codes, nil
		case wire.FrameError:
			codes = append(codes, f.Code)
		}
	}
}

// gateFrames opens p's WebSocket (the upgrade is GET /api/v1/ws and needs
// its permission) and sends every client frame type about a made-up
// conversation: a frame whose permission p lacks must be refused with
// forbidden, any other must get past the check (not_found here).
func (w *world) gateFrames(ctx context.Context, t *testing.T, p *principal) {
	t.Helper()
	conn := w.dial(ctx, t, p, "made-up")
	if conn == nil {
		return
	}
	defer conn.Close()
	for _, typ := range clientFrameTypes(t) {
		w.frame(ctx, t, p, conn, "made-up", typ, madeUpID, func(t *testing.T, held bool, codes []string) {
			switch {
			case !held && !slices.Contains(codes, "forbidden"):
				t.Errorf("answered %v, want forbidden", codes)
			case held && slices.Contains(codes, "forbidden"):
				t.Errorf("answered %v: refused a permitted frame", codes)
			}
		})
	}
}

// dial opens p's WebSocket, or checks that the upgrade is refused when p
// lacks its permission (and then returns nil).
func (w *world) dial(ctx context.Context, t *testing.T, p *principal, relation string) *client.Conn {
	t.Helper()
	upgrade := operation{Method: "GET", Path: "/api/v1/ws", Perm: authz.PermConversationsRead}
	var conn *client.Conn
	t.Run(p.label+"/"+relation+"/WS upgrade", func(t *testing.T) {
		c, err := p.c.Dial(ctx)
		if !p.held[upgrade.Perm] {
			if !client.IsCode(err, "forbidden") {
				t.Errorf("lacks %s: dial answered %v, want forbidden", upgrade.Perm, err)
			}
			if c != nil {
				_ = c.Close()
			}
			w.denied[p.userID+" "+upgrade.String()]++
			w.deniedTotal++
			return
		}
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		conn = c
	})
	return conn
}

// frame runs one frame subtest "<role>/<relation>/WS <type>".
func (w *world) frame(ctx context.Context, t *testing.T, p *principal, conn *client.Conn, relation, typ, conv string,
	check func(t *testing.T, held bool, codes []string)) {
	t.Helper()
	t.Run(p.label+"/"+relation+"/WS "+typ, func(t *testing.T) {
		probe, ok := frameProbes[typ]
		if !ok {
			t.Fatalf("client frame type %q has no probe: add its permission and a sender to frameProbes", typ)
		}
		held := true
		for _, perm := range probe.perms {
			held = held && p.held[perm]
		}
		fctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		codes, err := probe.send(fctx, conn, conv, w.msgID())
		if err != nil {
			t.Fatalf("frame %s: %v (codes so far %v)", typ, err, codes)
		}
		check(t, held, codes)
	})
}
