package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// supTestAuth knows a token per actor; an actor without MFAAt needs a
// step-up, as auth.RequireStepUp would say.
type supTestAuth struct {
	parley.AuthService
	actors map[string]*parley.Actor
}

func (f *supTestAuth) Authenticate(_ context.Context, token string, _ parley.RequestMeta, _ bool) (*parley.Actor, error) {
	if a, ok := f.actors[token]; ok {
		return a, nil
	}
	return nil, parley.Errorf(parley.CodeUnauthenticated, "missing, invalid or expired session")
}

func (f *supTestAuth) RequireStepUp(a *parley.Actor) error {
	if a.MFAAt.IsZero() {
		return parley.Errorf(parley.CodeStepUpRequired, "step up first")
	}
	return nil
}

// supTestService answers History with fixed messages; other methods are
// not called.
type supTestService struct {
	parley.SupervisionService
	msgs []*parley.Message
}

func (f *supTestService) History(_ context.Context, _ *parley.Actor, id parley.SupervisionID, conv parley.ConversationID, _ int64, _ int) (*parley.SupervisedHistory, error) {
	return &parley.SupervisedHistory{Grant: &parley.SupervisionGrant{ID: id}, ConversationID: conv, Messages: f.msgs}, nil
}

func supTestAPI() (*API, *supTestService) {
	svc := &supTestService{}
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	auth := &supTestAuth{actors: map[string]*parley.Actor{
		"fresh":  {UserID: "u_da", Username: "da", DepartmentID: "d_a", Roles: []parley.Role{parley.RoleUser, parley.RoleDepartmentAdmin}, MFAAt: now},
		"stale":  {UserID: "u_da", Username: "da", DepartmentID: "d_a", Roles: []parley.Role{parley.RoleUser, parley.RoleDepartmentAdmin}},
		"sysadm": {UserID: "u_sys", Username: "sys", Roles: []parley.Role{parley.RoleUser, parley.RoleSystemAdmin}, MFAAt: now},
	}}
	return New(Services{Auth: auth, Supervision: svc}, DefaultConfig(), slog.New(slog.DiscardHandler)), svc
}

func supTestDo(a *API, method, path, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	w := httptest.NewRecorder()
	a.Handler().ServeHTTP(w, r)
	return w
}

// TestSupervisionRouteTable: the supervisor's operations name
// PermSupervise (sensitive: step-up, A6), the decisions
// PermSupervisionApprove, the policy PermSecurityPolicy; all are
// administrative (I6); the system admin holds none of them (Z4), and a
// stale second factor is refused before anything else.
func TestSupervisionRouteTable(t *testing.T) {
	a, _ := supTestAPI()
	n := 0
	for _, rt := range a.routes {
		if !strings.Contains(rt.Path, "supervision") {
			continue
		}
		n++
		switch rt.Perm {
		case authz.PermSupervise:
			if !authz.NeedsStepUp(rt.Perm) {
				t.Errorf("%s %s: no step-up", rt.Method, rt.Path)
			}
		case authz.PermSupervisionApprove:
			if !strings.HasSuffix(rt.Path, "/approve") && !strings.HasSuffix(rt.Path, "/deny") && !strings.HasSuffix(rt.Path, "/pending") {
				t.Errorf("%s %s names %s", rt.Method, rt.Path, rt.Perm)
			}
		case authz.PermSecurityPolicy:
			if !strings.HasPrefix(rt.Path, "/api/v1/policy/") {
				t.Errorf("%s %s names %s", rt.Method, rt.Path, rt.Perm)
			}
		default:
			t.Errorf("%s %s names %s", rt.Method, rt.Path, rt.Perm)
		}
		if !authz.Administrative(rt.Perm) {
			t.Errorf("%s %s is not on the management plane", rt.Method, rt.Path)
		}
		path := mgmtTestPath(rt.Path)
		body := ""
		if rt.Request != nil {
			body = "{}"
		}
		if w := supTestDo(a, rt.Method, path, "sysadm", body); w.Code != 403 || !strings.Contains(w.Body.String(), `"forbidden"`) {
			t.Errorf("system admin: %s %s = %d %s", rt.Method, rt.Path, w.Code, w.Body)
		}
		if rt.Perm == authz.PermSupervise {
			if w := supTestDo(a, rt.Method, path, "stale", body); w.Code != 403 || !strings.Contains(w.Body.String(), `"step_up_required"`) {
				t.Errorf("stale step-up: %s %s = %d %s", rt.Method, rt.Path, w.Code, w.Body)
			}
		}
	}
	if n != 12 {
		t.Errorf("%d supervision routes", n)
	}
	doc, _ := json.Marshal(a.OpenAPI())
	for _, want := range []string{`"/api/v1/supervision/{id}/conversations/{cid}/messages"`, `"SupervisedMessageList"`, `"x-permission":"supervision"`} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("OpenAPI document lacks %s", want)
		}
	}
}

// TestSupervisedHistoryShape: the answer is marked supervised with the
// grant; a recalled message has an empty body; an end-to-end encrypted one
// comes as ciphertext and never as a body (Z3).
func TestSupervisedHistoryShape(t *testing.T) {
	a, svc := supTestAPI()
	at := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	svc.msgs = []*parley.Message{
		{ID: "m_1", Seq: 1, SenderID: "u_1", Body: []byte("plain"), SentAt: at},
		{ID: "m_2", Seq: 2, SenderID: "u_1", SentAt: at, RecalledAt: at},
		{ID: "m_3", Seq: 3, SenderID: "u_2", SentAt: at, E2EE: true, Sealed: []byte{0, 1, 2, 0xff}},
	}
	w := supTestDo(a, "GET", "/api/v1/supervision/sv_1/conversations/c_1/messages?after_seq=0", "fresh", "")
	if w.Code != 200 {
		t.Fatalf("%d %s", w.Code, w.Body)
	}
	var out wire.SupervisedMessageList
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	if !out.Supervised || out.SupervisionID != "sv_1" || out.ConversationID != "c_1" || len(out.Messages) != 3 {
		t.Fatalf("%+v", out)
	}
	m := out.Messages
	if m[0].Body != "plain" || m[0].Recalled || m[0].E2EE || m[0].Ciphertext != "" {
		t.Errorf("plain: %+v", m[0])
	}
	if m[1].Body != "" || !m[1].Recalled {
		t.Errorf("recalled: %+v", m[1])
	}
	if m[2].Body != "" || !m[2].E2EE || m[2].Ciphertext != base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}) {
		t.Errorf("E2EE: %+v", m[2])
	}
	for _, seq := range []string{"abc", "0", "-1", "99999999999999999999"} {
		if w := supTestDo(a, "POST", "/api/v1/supervision/sv_1/conversations/c_1/messages/"+seq+"/recall", "fresh", "{}"); w.Code != 400 {
			t.Errorf("recall seq %q: %d %s", seq, w.Code, w.Body)
		}
	}
	for _, body := range []string{`{"user_id":"u_1","minutes":0}`, `{"user_id":"u_1","minutes":-5}`, `{"user_id":"u_1","minutes":5,"extra":1}`} {
		if w := supTestDo(a, "POST", "/api/v1/supervision/sv_1/conversations/c_1/mute", "fresh", body); w.Code != 400 {
			t.Errorf("mute %s: %d %s", body, w.Code, w.Body)
		}
	}
	if w := supTestDo(a, "POST", "/api/v1/supervision", "fresh", `{"department_id":"d_a","reason":"a good reason here","duration_minutes":-1}`); w.Code != 400 {
		t.Errorf("negative duration: %d %s", w.Code, w.Body)
	}
}
