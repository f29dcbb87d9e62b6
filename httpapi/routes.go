package httpapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// route is one operation. The table is the single source for the mux, the
// permission checks and the OpenAPI document (a test keeps them in sync).
type route struct {
	Method  string
	Path    string           // ServeMux pattern without method, e.g. /api/v1/conversations/{id}
	Perm    authz.Permission // deny by default: every route names one (Z1)
	Summary string
	Request any // wire body type (nil: no body)
	// Response is the wire body type of a success; nil for 204.
	Response any
	Status   int
	Query    []queryParam
	// PreEnrollment marks the few operations a user who must still enrol
	// MFA may call (API-CORE.md, A2).
	PreEnrollment bool
	// ExpiredPassword marks the operations a session whose password
	// expired may call (A3): me, logout and the password change. Such a
	// session skips step-up on them, so mark no other sensitive route.
	ExpiredPassword bool
	Handle          func(c *call) error
}

type queryParam struct {
	Name, Type, Doc string // Type: "integer" or "string"
}

// call is one request being served.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	actor *parley.Actor // nil on public routes
	meta  parley.RequestMeta
	body  any // decoded request, of the route's Request type
	query map[string]string
}

func (a *API) routeTable() []*route {
	var rs []*route
	rs = append(rs, a.coreRoutes()...)
	rs = append(rs, a.passwordRoutes()...)
	rs = append(rs, a.webauthnRoutes()...)
	rs = append(rs, a.otpRoutes()...)
	rs = append(rs, a.stepUpRoutes()...)
	rs = append(rs, a.policyRoutes()...)
	rs = append(rs, a.isolationRoutes()...)
	rs = append(rs, a.directoryRoutes()...)
	rs = append(rs, a.systemRoutes()...)
	rs = append(rs, a.accessRoutes()...)
	rs = append(rs, a.supervisionRoutes()...)
	rs = append(rs, a.lifecycleRoutes()...)
	rs = append(rs, a.userRoutes()...)
	return rs
}

// openapiPath serves the OpenAPI document of the listener asked (I6).
const openapiPath = "/api/v1/openapi.json"

func (a *API) coreRoutes() []*route {
	const v1 = "/api/v1"
	return []*route{
		{Method: "GET", Path: "/healthz", Perm: authz.PermPublic, Summary: "Liveness: 200 while the process is up", Status: 200, Handle: a.healthz},
		{Method: "GET", Path: "/readyz", Perm: authz.PermPublic, Summary: "Readiness: 200 when the database and broker answer", Status: 200, Handle: a.readyz},
		{Method: "GET", Path: openapiPath, Perm: authz.PermPublic, Summary: "This OpenAPI 3.1 document", Status: 200, Handle: a.openapi},

		{Method: "POST", Path: v1 + "/setup", Perm: authz.PermPublic, Summary: "Create the first administrator with the one-time setup token (A4)",
			Request: &wire.SetupRequest{}, Response: &wire.UserIDResponse{}, Status: 201, Handle: a.setup},
		{Method: "POST", Path: v1 + "/auth/login", Perm: authz.PermPublic, Summary: "Log in with username and password; may answer an MFA challenge",
			Request: &wire.LoginRequest{}, Response: &wire.LoginResponse{}, Status: 200, Handle: a.login},
		{Method: "POST", Path: v1 + "/auth/mfa", Perm: authz.PermPublic, Summary: "Complete a login with a second factor",
			Request: &wire.MFARequest{}, Response: &wire.TokenResponse{}, Status: 200, Handle: a.mfa},
		{Method: "POST", Path: v1 + "/auth/totp/enroll", Perm: authz.PermSelf, PreEnrollment: true, Summary: "Start TOTP enrolment (RFC 6238, SHA-1, 6 digits, 30 s)",
			Request: &wire.Empty{}, Response: &wire.TOTPEnrollResponse{}, Status: 200, Handle: a.totpEnroll},
		{Method: "POST", Path: v1 + "/auth/totp/confirm", Perm: authz.PermSelf, PreEnrollment: true, Summary: "Confirm TOTP enrolment; returns recovery codes and a replacement session",
			Request: &wire.TOTPConfirmRequest{}, Response: &wire.TOTPConfirmResponse{}, Status: 200, Handle: a.totpConfirm},
		{Method: "POST", Path: v1 + "/auth/logout", Perm: authz.PermSelf, PreEnrollment: true, ExpiredPassword: true, Summary: "End this session (REST and WebSocket)",
			Status: 204, Handle: a.logout},
		{Method: "GET", Path: v1 + "/me", Perm: authz.PermSelf, PreEnrollment: true, ExpiredPassword: true, Summary: "The caller's account",
			Response: &wire.Me{}, Status: 200, Handle: a.me},
		{Method: "GET", Path: v1 + "/sessions", Perm: authz.PermSelf, Summary: "The caller's sessions",
			Response: &wire.SessionList{}, Status: 200, Handle: a.sessions},
		{Method: "DELETE", Path: v1 + "/sessions/{id}", Perm: authz.PermSelf, Summary: "Revoke one of the caller's sessions",
			Status: 204, Handle: a.revokeSession},

		{Method: "POST", Path: v1 + "/users", Perm: authz.PermUsersCreate, Summary: "Create a user (roles follow separation of duties, Z9/Z10)",
			Request: &wire.CreateUserRequest{}, Response: &wire.UserIDResponse{}, Status: 201, Handle: a.createUser},
		{Method: "GET", Path: v1 + "/users", Perm: authz.PermDirectoryRead, Summary: "Search the directory by username or display name, optionally within a department",
			Response: &wire.UserList{}, Status: 200, Handle: a.users,
			Query: []queryParam{{"q", "string", "substring of username or display name"}, {"limit", "integer", "1 to 200"},
				{"department_id", "string", "only users of this department and its sub-departments (404 if unknown)"}}},
		{Method: "POST", Path: v1 + "/departments", Perm: authz.PermDepartmentsManage, Summary: "Create a department",
			Request: &wire.CreateDepartmentRequest{}, Response: &wire.Department{}, Status: 201, Handle: a.createDepartment},
		{Method: "GET", Path: v1 + "/departments", Perm: authz.PermDirectoryRead, Summary: "The department tree",
			Response: &wire.DepartmentList{}, Status: 200, Handle: a.departments},

		{Method: "POST", Path: v1 + "/conversations", Perm: authz.PermConversationsCreate, Summary: "Create a direct conversation or a group",
			Request: &wire.CreateConversationRequest{}, Response: &wire.ConversationIDResponse{}, Status: 201, Handle: a.createConversation},
		{Method: "GET", Path: v1 + "/conversations", Perm: authz.PermConversationsRead, Summary: "The caller's conversations",
			Response: &wire.ConversationList{}, Status: 200, Handle: a.conversations},
		{Method: "POST", Path: v1 + "/conversations/{id}/messages", Perm: authz.PermMessagesSend, Summary: "Send a message; idempotent on client_msg_id",
			Request: &wire.SendRequest{}, Response: &wire.SendResponse{}, Status: 201, Handle: a.send},
		{Method: "GET", Path: v1 + "/conversations/{id}/messages", Perm: authz.PermMessagesRead, Summary: "History, ordered by seq (cursor pagination)",
			Response: &wire.MessageList{}, Status: 200, Handle: a.history,
			Query: []queryParam{{"after_seq", "integer", "messages with seq greater than this"}, {"before_seq", "integer", "the newest page below this seq"}, {"limit", "integer", "1 to 200, default 50"}}},
		{Method: "POST", Path: v1 + "/conversations/{id}/read", Perm: authz.PermMessagesRead, Summary: "Move the caller's read marker",
			Request: &wire.ReadRequest{}, Status: 204, Handle: a.markRead},
		{Method: "GET", Path: v1 + "/conversations/{id}/read", Perm: authz.PermMessagesRead, Summary: "Members' read markers",
			Response: &wire.ReadMarkerList{}, Status: 200, Handle: a.readMarkers},
		{Method: "GET", Path: v1 + "/audit", Perm: authz.PermAuditRead, Summary: "The audit trail (auditors)",
			Response: &wire.AuditList{}, Status: 200, Handle: a.auditList,
			Query: []queryParam{{"after_seq", "integer", "records with seq greater than this"}, {"limit", "integer", "1 to 1000, default 100"}}},
		{Method: "GET", Path: v1 + "/ws", Perm: authz.PermConversationsRead, Summary: "WebSocket upgrade (see docs/websocket.md)",
			Status: 101, Handle: a.websocket},
	}
}

// buildMux registers each path once and dispatches on the method itself,
// so that a wrong method or unknown path still gets the JSON error shape.
// An operation of the other listener's plane answers as an unknown path
// (I6, mgmt.go).
func (a *API) buildMux(pl plane) *http.ServeMux {
	mux := http.NewServeMux()
	byPath := map[string][]*route{}
	var paths []string
	for _, rt := range a.routes {
		if _, ok := byPath[rt.Path]; !ok {
			paths = append(paths, rt.Path)
		}
		byPath[rt.Path] = append(byPath[rt.Path], rt)
	}
	for _, p := range paths {
		routes := byPath[p]
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) {
			for _, rt := range routes {
				if rt.Method == r.Method || (rt.Method == "GET" && r.Method == "HEAD") {
					if !onPlane(pl, rt) {
						a.offPlane(pl, rt, w, r)
						return
					}
					if rt.Path == openapiPath {
						r = r.WithContext(context.WithValue(r.Context(), planeKey{}, pl))
					}
					a.serve(rt, w, r)
					return
				}
			}
			allow := make([]string, 0, len(routes))
			for _, rt := range routes {
				if onPlane(pl, rt) {
					allow = append(allow, rt.Method)
				}
			}
			if len(allow) == 0 {
				a.writeError(w, r, errNoEndpoint())
				return
			}
			w.Header().Set("Allow", strings.Join(allow, ", "))
			a.writeError(w, r, parley.Errorf(parley.CodeInvalid, "method %s not allowed", r.Method))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, errNoEndpoint())
	})
	return mux
}

// serve runs the common steps of every operation: authenticate, check the
// enrolment gate and the permission, parse the query and body strictly,
// then call the handler.
func (a *API) serve(rt *route, w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, meta: parley.RequestMeta{SourceIP: a.clientIP(r), UserAgent: cleanHeader(r.UserAgent())}}
	if err := a.prepare(rt, c); err != nil {
		a.writeError(w, r, err)
		return
	}
	if err := rt.Handle(c); err != nil {
		a.writeError(w, r, err)
	}
}

func (a *API) prepare(rt *route, c *call) error {
	r := c.r
	if rt.Perm != authz.PermPublic {
		token, ok := bearer(r)
		if !ok {
			return parley.Errorf(parley.CodeUnauthenticated, "missing, invalid or expired session")
		}
		actor, err := a.svc.Auth.Authenticate(r.Context(), token, c.meta, true)
		if err != nil {
			return err
		}
		// An expired password is changed first (A3); the MFA enrolment
		// gate then applies as usual, so a user held by both is not stuck.
		expiredOK := actor.PasswordChangeRequired && rt.ExpiredPassword
		if actor.PasswordChangeRequired && !rt.ExpiredPassword {
			return parley.Errorf(parley.CodePasswordChangeRequired, "your password has expired; change it first (POST /api/v1/auth/password)")
		}
		if actor.MFAEnrollmentPending && !rt.PreEnrollment && !expiredOK {
			return parley.Errorf(parley.CodeMFAEnrollmentRequired, "enrol a second factor first (POST /api/v1/auth/totp/enroll)")
		}
		if err := authz.Check(actor, rt.Perm); err != nil {
			a.deny(c, actor, rt, err)
			return err
		}
		// A session limited to changing its expired password skips
		// step-up for that change: it was opened with the password (and
		// second factor) moments ago, and the change re-checks the
		// current password (auth.ChangePassword).
		if authz.NeedsStepUp(rt.Perm) && !expiredOK {
			if err := a.svc.Auth.RequireStepUp(actor); err != nil {
				return err
			}
		}
		c.actor = actor
		if a.svc.Access != nil {
			// Last use per grant, for the access review (Z8).
			a.svc.Access.NoteUse(r.Context(), actor, string(rt.Perm))
		}
	}
	if err := checkPathValues(rt, r); err != nil {
		return err
	}
	q, err := parseQuery(r, rt.Query)
	if err != nil {
		return err
	}
	c.query = q
	proto := rt.Request
	if proto == nil {
		proto = &wire.Empty{}
	}
	if rt.Method == "GET" || rt.Method == "HEAD" {
		if r.ContentLength > 0 {
			return parley.Errorf(parley.CodeInvalid, "this operation takes no body")
		}
		return nil
	}
	body := newOf(proto)
	if err := decodeBody(r, body); err != nil {
		return err
	}
	c.body = body
	return nil
}

// deny audits a refused operation (L1: denials are security-relevant).
func (a *API) deny(c *call, actor *parley.Actor, rt *route, err error) {
	if a.svc.Auditor == nil {
		return
	}
	_ = a.svc.Auditor.Record(c.r.Context(), parley.AuditRecord{ActorID: actor.UserID, ActorName: actor.Username,
		Action: "api.denied", Target: rt.Method + " " + rt.Path, SourceIP: c.meta.SourceIP,
		Result: parley.ResultDenied, Reason: parley.ErrorMessage(err)})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// checkPathValues refuses path parameters that no object has as its ID:
// longer than 128 bytes, not UTF-8, or holding a control character. A NUL
// (%00) would otherwise reach PostgreSQL, which refuses it in text with an
// error the client would see as a 500 (I2). The answer is the usual
// not_found, so nothing is revealed.
func checkPathValues(rt *route, r *http.Request) error {
	for _, seg := range strings.Split(rt.Path, "/") {
		name, ok := strings.CutPrefix(seg, "{")
		if !ok {
			continue
		}
		v := r.PathValue(strings.TrimSuffix(name, "}"))
		if len(v) > 128 || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return parley.Errorf(parley.CodeNotFound, "not found")
		}
	}
	return nil
}

// cleanHeader makes a header value safe to store and show: valid UTF-8
// (net/http lets any byte above 0x7f through, and PostgreSQL refuses invalid
// UTF-8 in text) without control characters.
func cleanHeader(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return '\uFFFD'
		}
		return r
	}, v)
}

// parseQuery accepts only the declared parameters, once each (I2).
func parseQuery(r *http.Request, params []queryParam) (map[string]string, error) {
	values := r.URL.Query()
	out := make(map[string]string, len(values))
	for name, vs := range values {
		i := slices.IndexFunc(params, func(p queryParam) bool { return p.Name == name })
		if i < 0 {
			return nil, parley.Errorf(parley.CodeInvalid, "unknown query parameter %q", truncateParam(name))
		}
		if len(vs) != 1 {
			return nil, parley.Errorf(parley.CodeInvalid, "query parameter %q given more than once", name)
		}
		if params[i].Type == "integer" {
			n, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || n < 0 {
				return nil, parley.Errorf(parley.CodeInvalid, "query parameter %q must be a non-negative integer", name)
			}
		}
		out[name] = vs[0]
	}
	return out, nil
}

func truncateParam(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

func (c *call) intQuery(name string) int64 {
	n, _ := strconv.ParseInt(c.query[name], 10, 64) // validated by parseQuery
	return n
}

// decodeBody strictly decodes the request body into v. Operations without
// a request type take no body; an empty JSON object is tolerated for them,
// since many clients send one by habit.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, wire.MaxBodyBytes+1))
	if err != nil {
		return parley.Errorf(parley.CodeInvalid, "could not read request body")
	}
	if len(data) > wire.MaxBodyBytes {
		return parley.Errorf(parley.CodeTooLarge, "body larger than %d bytes", wire.MaxBodyBytes)
	}
	if _, empty := v.(*wire.Empty); empty && len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := wire.DecodeBytes(data, v); err != nil {
		return decodeError(err)
	}
	return nil
}

func newOf(proto any) any { return reflect.New(reflect.TypeOf(proto).Elem()).Interface() }
