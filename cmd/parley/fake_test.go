package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/parleyhq/parley/wire"
)

// fakeServer is just enough of parleyd for the CLI: a few users, one
// conversation "c1", and scripted WebSocket connections.
type fakeServer struct {
	t   *testing.T
	srv *httptest.Server
	ca  string // PEM file pinning the server's certificate

	mu      sync.Mutex
	tokens  map[string]string // token → user ID
	nextTok int
	logouts []string
	msgs    []wire.Message // of c1
	ws      chan func(*websocket.Conn)
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{t: t, tokens: map[string]string{}, ws: make(chan func(*websocket.Conn), 4)}
	for i := int64(1); i <= 4; i++ {
		f.addMessage(i, "u2", fmt.Sprintf("old %d", i))
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/auth/login", f.login)
	mux.HandleFunc("POST /api/v1/auth/mfa", f.mfa)
	mux.HandleFunc("POST /api/v1/auth/logout", f.auth(func(w http.ResponseWriter, r *http.Request, tok string) {
		f.mu.Lock()
		delete(f.tokens, tok)
		f.logouts = append(f.logouts, tok)
		f.mu.Unlock()
		w.WriteHeader(204)
	}))
	mux.HandleFunc("GET /api/v1/me", f.auth(func(w http.ResponseWriter, r *http.Request, tok string) {
		reply(w, 200, wire.Me{UserID: f.tokens[tok], Username: "ann", DisplayName: "Ann \x1b[31mRed", Roles: []string{"user"}})
	}))
	mux.HandleFunc("GET /api/v1/users", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, wire.UserList{Users: []wire.UserSummary{{UserID: "u1", Username: "ann"}, {UserID: "u2", Username: "bob"}}})
	}))
	mux.HandleFunc("GET /api/v1/conversations", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		f.mu.Lock()
		last := f.msgs[len(f.msgs)-1].Seq
		f.mu.Unlock()
		reply(w, 200, wire.ConversationList{Conversations: []wire.Conversation{{ConversationID: "c1", Type: "group", Title: "Ops", MemberIDs: []string{"u1", "u2"}, LastSeq: last}}})
	}))
	mux.HandleFunc("POST /api/v1/conversations/{id}/messages", f.auth(func(w http.ResponseWriter, r *http.Request, tok string) {
		var req wire.SendRequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil || r.PathValue("id") != "c1" || req.ClientMsgID == "" {
			replyErr(w, 400, "invalid", "bad send")
			return
		}
		f.mu.Lock()
		seq := f.msgs[len(f.msgs)-1].Seq + 1
		f.mu.Unlock()
		m := f.addMessage(seq, f.tokens[tok], req.Body)
		reply(w, 201, wire.SendResponse{MessageID: m.MessageID, Seq: m.Seq, SentAt: m.SentAt})
	}))
	mux.HandleFunc("GET /api/v1/conversations/{id}/messages", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.PathValue("id") != "c1" {
			replyErr(w, 404, "not_found", "no such conversation")
			return
		}
		after, _ := strconv.ParseInt(r.URL.Query().Get("after_seq"), 10, 64)
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		out := wire.MessageList{Messages: []wire.Message{}}
		f.mu.Lock()
		for _, m := range f.msgs {
			if m.Seq > after && (limit == 0 || len(out.Messages) < limit) {
				out.Messages = append(out.Messages, m)
			}
		}
		f.mu.Unlock()
		reply(w, 200, out)
	}))
	mux.HandleFunc("POST /api/v1/auth/totp/enroll", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, wire.TOTPEnrollResponse{Secret: "JBSWY3DPEHPK3PXP", OtpauthURL: "otpauth://totp/Parley:ann?secret=JBSWY3DPEHPK3PXP"})
	}))
	mux.HandleFunc("POST /api/v1/auth/totp/confirm", f.auth(func(w http.ResponseWriter, r *http.Request, tok string) {
		var req wire.TOTPConfirmRequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil || req.Code != "123456" {
			replyErr(w, 400, "invalid", "wrong code")
			return
		}
		f.mu.Lock()
		delete(f.tokens, tok) // the session is replaced (A5)
		f.mu.Unlock()
		reply(w, 200, wire.TOTPConfirmResponse{RecoveryCodes: []string{"RC-1", "RC-2"}, Token: f.newToken("u1"), ExpiresAt: time.Now().Add(time.Hour)})
	}))
	mux.HandleFunc("GET /api/v1/sessions", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		reply(w, 200, wire.SessionList{Sessions: []wire.Session{{SessionID: "s1", Current: true, SourceIP: "127.0.0.1", UserAgent: "parley-cli/1"}, {SessionID: "s2"}}})
	}))
	mux.HandleFunc("DELETE /api/v1/sessions/{id}", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.PathValue("id") != "s2" {
			replyErr(w, 404, "not_found", "no such session")
			return
		}
		w.WriteHeader(204)
	}))
	mux.HandleFunc("POST /api/v1/conversations", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		var req wire.CreateConversationRequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil || req.Type != "group" || len(req.MemberIDs) != 2 {
			replyErr(w, 400, "invalid", "bad conversation")
			return
		}
		reply(w, 201, wire.ConversationIDResponse{ConversationID: "c2"})
	}))
	mux.HandleFunc("POST /api/v1/users", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		var req wire.CreateUserRequest
		if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil || req.Password != "initial-pw" {
			replyErr(w, 400, "invalid", "bad user")
			return
		}
		reply(w, 201, wire.UserIDResponse{UserID: "u3"})
	}))
	mux.HandleFunc("GET /api/v1/ws", f.auth(func(w http.ResponseWriter, r *http.Request, _ string) {
		if r.Header.Get("Origin") != "" {
			replyErr(w, 403, "forbidden", "origin")
			return
		}
		var script func(*websocket.Conn)
		select {
		case script = <-f.ws:
		default:
			replyErr(w, 503, "unavailable", "no script")
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		script(c)
	}))
	f.srv = httptest.NewUnstartedServer(mux)
	f.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	f.srv.StartTLS()
	t.Cleanup(f.srv.Close)
	f.ca = filepath.Join(t.TempDir(), "cert.pem")
	pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	if err := os.WriteFile(f.ca, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeServer) addMessage(seq int64, sender, body string) wire.Message {
	m := wire.Message{MessageID: fmt.Sprintf("m%d", seq), Seq: seq, SenderID: sender, Body: body,
		SentAt: time.Date(2026, 1, 1, 12, 0, int(seq), 0, time.UTC)}
	f.mu.Lock()
	f.msgs = append(f.msgs, m)
	f.mu.Unlock()
	return m
}

func (f *fakeServer) newToken(user string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextTok++
	tok := fmt.Sprintf("tok-%d-secret", f.nextTok)
	f.tokens[tok] = user
	return tok
}

func (f *fakeServer) login(w http.ResponseWriter, r *http.Request) {
	var req wire.LoginRequest
	if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil {
		replyErr(w, 400, "invalid", err.Error())
		return
	}
	switch {
	case req.Username == "ann" && req.Password == "s3cret-pw":
		reply(w, 200, wire.TokenResponse{Token: f.newToken("u1"), ExpiresAt: time.Now().Add(time.Hour)})
	case req.Username == "mfa" && req.Password == "s3cret-pw":
		reply(w, 200, wire.LoginResponse{MFARequired: true, MFAToken: "mfa-1", Methods: []string{"totp", "recovery_code"}})
	default:
		replyErr(w, 401, "unauthenticated", "wrong user name or password")
	}
}

func (f *fakeServer) mfa(w http.ResponseWriter, r *http.Request) {
	var req wire.MFARequest
	if err := wire.Decode(r.Body, wire.MaxBodyBytes, &req); err != nil {
		replyErr(w, 400, "invalid", err.Error())
		return
	}
	ok := req.MFAToken == "mfa-1" && ((req.Method == "totp" && req.Code == "123456") || (req.Method == "recovery_code" && req.Code == "RC-1"))
	if !ok {
		replyErr(w, 401, "unauthenticated", "wrong code")
		return
	}
	reply(w, 200, wire.TokenResponse{Token: f.newToken("u1"), ExpiresAt: time.Now().Add(time.Hour)})
}

func (f *fakeServer) auth(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		f.mu.Lock()
		_, valid := f.tokens[tok]
		f.mu.Unlock()
		if !ok || !valid {
			replyErr(w, 401, "unauthenticated", "session expired")
			return
		}
		h(w, r, tok)
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func replyErr(w http.ResponseWriter, status int, code, msg string) {
	reply(w, status, wire.ErrorBody{Error: wire.ErrorDetail{Code: code, Message: msg}})
}

// syncBuffer is a bytes.Buffer safe to read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs parley commands against one config file.
type cli struct {
	t      *testing.T
	config string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, config: filepath.Join(t.TempDir(), "parley", "config.json")}
}

// run executes one command with the given stdin and returns exit code,
// stdout and stderr.
func (c *cli) run(stdin string, args ...string) (int, string, string) {
	var out, errb syncBuffer
	code := run(c.t.Context(), args, c.env(stdin, &out, &errb))
	return code, out.String(), errb.String()
}

func (c *cli) env(stdin string, out, errb *syncBuffer) *env {
	return &env{stdin: strings.NewReader(stdin), stdout: out, stderr: errb,
		getenv:       func(k string) string { return map[string]string{"PARLEY_CONFIG": c.config}[k] },
		readPassword: func(string) (string, error) { return "", errors.New("no terminal in tests") }}
}

func (c *cli) loadConfig() *config {
	cfg, err := loadConfig(c.config, &bytes.Buffer{})
	if err != nil {
		c.t.Fatal(err)
	}
	return cfg
}
