package securitytest

import (
	"net/http"
	"strings"
	"testing"

	"github.com/parleyhq/parley/wire"
)

func init() {
	register("Browser-facing: CSRF, CORS, clickjacking, cross-site WebSocket hijacking",
		scenario{ID: "I4", Name: "CSRF-cookie-only-request-is-401", Needs: accounts,
			Attack: "A cross-site form post and fetch carrying only cookies (a valid token as cookie, no Authorization): 401, nothing stored",
			Run:    csrfCookieOnly},
		scenario{ID: "I4", Name: "CORS-preflight-from-foreign-origin", Needs: 0,
			Attack: "CORS preflight (OPTIONS with Origin and Access-Control-Request-Method/Headers) from a foreign origin on every path: no Access-Control-Allow-* header",
			Run:    corsPreflight},
		scenario{ID: "I4", Name: "CORS-credentialed-read-from-foreign-origin", Needs: accounts,
			Attack: "A credentialed GET with a foreign, null or look-alike Origin: no Access-Control-Allow-Origin, so a browser never hands the answer to the page",
			Run:    corsSimple},
		scenario{ID: "I4", Name: "clickjacking-headers-on-every-route-and-error", Needs: 0,
			Attack: "Every operation of the OpenAPI document plus 404, 405, 401, 413 and 400 answers: X-Frame-Options DENY and CSP frame-ancestors 'none' (and nosniff, HSTS, no-store)",
			Run:    clickjacking},
		scenario{ID: "I4", Name: "CSWSH-foreign-Origin-refused-and-audited", Needs: accounts,
			Attack: "Open the WebSocket with a valid token and a foreign Origin: 403 before the upgrade, audited as api.denied",
			Run:    cswshForeign},
		scenario{ID: "I4", Name: "CSWSH-null-Origin-refused", Needs: accounts,
			Attack: "Open the WebSocket with Origin: null (sandboxed iframe, file:// page): 403",
			Run: func(t *testing.T, e *env) {
				e.refusedWS(t, e.user(t, "alice").Token(), http.Header{"Origin": {"null"}}, 403, "forbidden")
			}},
		scenario{ID: "I4", Name: "CSWSH-plain-http-Origin-refused", Needs: accounts,
			Attack: "Open the WebSocket with Origin http://<the server's own host> (a page served without TLS): 403",
			Run: func(t *testing.T, e *env) {
				e.refusedWS(t, e.user(t, "alice").Token(), http.Header{"Origin": {"http://" + e.host}}, 403, "forbidden")
			}},
		scenario{ID: "I4", Name: "CSWSH-look-alike-Origins-refused", Needs: accounts,
			Attack: "Origins that merely contain or resemble the server's (suffix, prefix, userinfo, other port, path, upper-case scheme tricks): 403; the server's own origin is accepted",
			Run:    cswshLookalike},
		scenario{ID: "I4", Name: "TRACE-and-unknown-methods-not-reflected", Needs: 0,
			Attack: "TRACE, TRACK, CONNECT-like and made-up methods with a secret header: error shape, the header never echoed",
			Run:    traceMethods},
	)
}

func csrfCookieOnly(t *testing.T, e *env) {
	alice, bob := e.user(t, "alice"), e.user(t, "bob")
	conv := e.conversation(t, "alice-bob")
	n := historyLen(t, e, bob, conv)
	cookie := "session=" + alice.Token() + "; parley_session=" + alice.Token() + "; token=" + alice.Token()
	for _, rq := range []req{
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", body: []byte(`{"client_msg_id":"csrf-1","body":"forged"}`),
			header: map[string]string{"Cookie": cookie, "Origin": "https://evil.example", "Content-Type": "text/plain"}},
		{method: "POST", path: "/api/v1/conversations/" + conv + "/messages", body: []byte(`{"client_msg_id":"csrf-2","body":"forged"}`),
			header: map[string]string{"Cookie": cookie, "Origin": "https://evil.example", "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": "x"}},
		{method: "POST", path: "/api/v1/auth/logout", body: []byte(`{}`), header: map[string]string{"Cookie": cookie}},
		{method: "GET", path: "/api/v1/conversations", header: map[string]string{"Cookie": cookie, "Sec-Fetch-Site": "cross-site"}},
	} {
		expect(t, e.do(t, rq), 401, "unauthenticated")
	}
	if got := historyLen(t, e, bob, conv); got != n {
		t.Fatalf("history grew from %d to %d", n, got)
	}
	if _, err := alice.Me(ctx(t)); err != nil {
		t.Fatalf("the cookie logout ended the session: %v", err)
	}
}

func corsPreflight(t *testing.T, e *env) {
	_, ops := e.openAPI(t)
	for _, op := range ops {
		r := e.do(t, req{method: "OPTIONS", path: fillPath(op.Path, nil), header: map[string]string{
			"Origin": "https://evil.example", "Access-Control-Request-Method": op.Method,
			"Access-Control-Request-Headers": "authorization, content-type"}})
		for k := range r.Header {
			if strings.HasPrefix(strings.ToLower(k), "access-control-") {
				t.Errorf("OPTIONS %s: %s: %q", op.Path, k, r.Header.Get(k))
			}
		}
		if r.Status < 400 {
			t.Errorf("OPTIONS %s answered %s", op.Path, r)
		}
	}
}

func corsSimple(t *testing.T, e *env) {
	tok := e.user(t, "alice").Token()
	for _, origin := range []string{"https://evil.example", "null", "https://" + e.host + ".evil.example", "http://" + e.host} {
		r := e.do(t, req{method: "GET", path: "/api/v1/me", token: tok, header: map[string]string{"Origin": origin}})
		if r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Vary") == "*" {
			t.Errorf("Origin %s: %v", origin, r.Header)
		}
	}
}

func clickjacking(t *testing.T, e *env) {
	_, ops := e.openAPI(t)
	check := func(what string, r *reply) {
		t.Helper()
		if !strings.Contains(what, " /api") {
			return
		}
		if !strings.Contains(r.Header.Get("Strict-Transport-Security"), "max-age=") {
			t.Errorf("%s: no HSTS", what)
		}
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control %q", what, r.Header.Get("Cache-Control"))
		}
	}
	for _, op := range ops {
		var body []byte
		if op.Body != "" {
			body = []byte(`{}`)
		}
		path := fillPath(op.Path, nil)
		check(op.Method+" "+path, e.do(t, req{method: op.Method, path: path, body: body, http1: op.Path == "/api/v1/ws"}))
	}
	big := make([]byte, wire.MaxBodyBytes+10)
	for i := range big {
		big[i] = ' '
	}
	for _, rq := range []req{
		{method: "GET", path: "/api/v1/no-such-thing"},
		{method: "GET", path: "/"},
		{method: "DELETE", path: "/api/v1/openapi.json"},
		{method: "GET", path: "/api/v1/me"},
		{method: "POST", path: "/api/v1/auth/login", body: big},
		{method: "POST", path: "/api/v1/auth/login", body: []byte(`{`)},
	} {
		check(rq.method+" "+rq.path, e.do(t, rq)) // do checks XFO, CSP and nosniff
	}
}

func cswshForeign(t *testing.T, e *env) {
	alice := e.user(t, "alice")
	mark := e.auditMark(t)
	e.refusedWS(t, alice.Token(), http.Header{"Origin": {"https://evil.example"}}, 403, "forbidden")
	e.expectAudit(t, mark, "the refused Origin", func(r wire.AuditRecord) bool {
		return r.Action == "api.denied" && r.ActorID == alice.ID && strings.Contains(r.Reason, "Origin")
	})
}

func cswshLookalike(t *testing.T, e *env) {
	tok := e.user(t, "alice").Token()
	host, port := e.host, ""
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host, port = e.host[:i], e.host[i+1:]
	}
	for _, o := range []string{
		"https://" + e.host + ".evil.example", "https://evil." + e.host, "https://evil.example/" + e.host,
		"https://" + e.host + "@evil.example", "https://evil.example#" + e.host, "https://" + host + ":1" + port,
		"https://" + host, "wss://" + e.host, "HTTPS://evil.example", "https://" + e.host + "%2f.evil.example",
		"https://" + e.host + " https://evil.example", "*", "file://",
	} {
		if o == "https://"+host && port == "443" {
			continue
		}
		ws, resp, err := e.dialWS(t, tok, http.Header{"Origin": {o}})
		if err == nil || ws != nil || resp == nil || resp.StatusCode != 403 {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.Errorf("Origin %q: status %d, err %v", o, status, err)
		}
	}
	ws, _, err := e.dialWS(t, tok, http.Header{"Origin": {"https://" + e.host}})
	if err != nil {
		t.Fatalf("the server's own origin is refused: %v", err)
	}
	_ = ws.CloseNow()
}

func traceMethods(t *testing.T, e *env) {
	for _, m := range []string{"TRACE", "TRACK", "PROPFIND", "DEBUG", "FOO"} {
		r := e.do(t, req{method: m, path: "/api/v1/me", header: map[string]string{"X-Secret-Echo": "echo-me-4411", "Cookie": "c=echo-me-4412"}})
		if r.Status < 400 || strings.Contains(string(r.Body), "echo-me") {
			t.Errorf("%s: %s", m, r)
		}
	}
}
