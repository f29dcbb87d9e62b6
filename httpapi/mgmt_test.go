package httpapi

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/authz"
	"github.com/parleyhq/parley/wire"
)

// mgmtTestAuth knows one token per actor; any other method is not called
// (the embedded nil interface would panic).
type mgmtTestAuth struct {
	parley.AuthService
	actors map[string]*parley.Actor

	mu          sync.Mutex
	userActions []bool // userAction of each Authenticate call
}

func (f *mgmtTestAuth) Authenticate(_ context.Context, token string, _ parley.RequestMeta, userAction bool) (*parley.Actor, error) {
	f.mu.Lock()
	f.userActions = append(f.userActions, userAction)
	f.mu.Unlock()
	if a, ok := f.actors[token]; ok {
		return a, nil
	}
	return nil, parley.Errorf(parley.CodeUnauthenticated, "missing, invalid or expired session")
}

func (f *mgmtTestAuth) RequireStepUp(*parley.Actor) error { return nil }

// mgmtTestAuditor collects audit records and signals each one.
type mgmtTestAuditor struct {
	mu   sync.Mutex
	recs []parley.AuditRecord
	ch   chan parley.AuditRecord
}

func newMgmtTestAuditor() *mgmtTestAuditor {
	return &mgmtTestAuditor{ch: make(chan parley.AuditRecord, 100)}
}

func (f *mgmtTestAuditor) Record(_ context.Context, r parley.AuditRecord) error {
	f.mu.Lock()
	f.recs = append(f.recs, r)
	f.mu.Unlock()
	f.ch <- r
	return nil
}

func (f *mgmtTestAuditor) records() []parley.AuditRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]parley.AuditRecord(nil), f.recs...)
}

func (f *mgmtTestAuditor) wait(t *testing.T) parley.AuditRecord {
	t.Helper()
	select {
	case r := <-f.ch:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("no audit record")
		return parley.AuditRecord{}
	}
}

// mgmtTestClock is a settable clock for the audit throttle.
type mgmtTestClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *mgmtTestClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *mgmtTestClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type mgmtTestEnv struct {
	api     *API
	auditor *mgmtTestAuditor
	auth    *mgmtTestAuth
	clock   *mgmtTestClock
}

const (
	mgmtTestAdminToken = "admin-token"
	mgmtTestUserToken  = "user-token"
)

// mgmtTestAPI builds an API whose management listener admits loopback and
// 10.0.0.0/8; m adjusts the management settings (nil m: none at all).
func mgmtTestAPI(t *testing.T, m func(*ManagementConfig)) *mgmtTestEnv {
	t.Helper()
	env := &mgmtTestEnv{auditor: newMgmtTestAuditor(), clock: &mgmtTestClock{t: time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)}}
	env.auth = &mgmtTestAuth{actors: map[string]*parley.Actor{
		mgmtTestAdminToken: {UserID: "u-admin", Username: "admin", Roles: []parley.Role{parley.RoleUser, parley.RoleSystemAdmin}},
		mgmtTestUserToken:  {UserID: "u-alice", Username: "alice", Roles: []parley.Role{parley.RoleUser}},
	}}
	cfg := DefaultConfig()
	if m != nil {
		cfg.Management = &ManagementConfig{
			Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128"), netip.MustParsePrefix("10.0.0.0/8")},
			Now:   env.clock.now,
		}
		m(cfg.Management)
	}
	// Every route group present; the stubs are never called: the tests
	// stop at authentication or at the plane check.
	env.api = New(Services{Auth: env.auth, Auditor: env.auditor,
		Chat: struct{ parley.ChatService }{}, Directory: struct{ parley.DirectoryService }{}, Audit: struct{ parley.AuditService }{},
		Passwords: struct{ parley.PasswordService }{}, WebAuthn: struct{ parley.WebAuthnService }{},
		OTP: struct{ parley.OTPService }{}, MFAPolicy: struct{ parley.MFAPolicyService }{},
	}, cfg, slog.New(slog.DiscardHandler))
	return env
}

// mgmtTestPath fills a route's path parameters.
func mgmtTestPath(p string) string {
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			return p
		}
		j := strings.IndexByte(p[i:], '}')
		p = p[:i] + "x" + p[i+j+1:]
	}
}

func mgmtTestDo(h http.Handler, method, path, token, remote string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = remote
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

func mgmtTestErrCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var body wire.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body %q: %v", rec.Body.String(), err)
	}
	return body.Error.Code
}

// TestManagementPlaneSplitsRouteTable walks the whole route table: with a
// management listener, every administrative route is answered as unknown
// by the user listener and served by the management listener, and every
// other route the other way round (health checks on both); without one,
// the user listener serves everything (API-CORE.md).
func TestManagementPlaneSplitsRouteTable(t *testing.T) {
	env := mgmtTestAPI(t, func(*ManagementConfig) {})
	main, mgmt := env.api.Handler(), env.api.ManagementHandler()
	single := mgmtTestAPI(t, nil).api
	if single.ManagementHandler() != nil {
		t.Fatal("a management handler without a management listener")
	}
	admin, user := 0, 0
	for _, rt := range env.api.routes {
		path := mgmtTestPath(rt.Path)
		health := rt.Path == "/healthz" || rt.Path == "/readyz"
		// No token: a served protected route answers 401, which proves
		// the router got as far as authentication. Public routes other
		// than the health checks are not called on the user listener:
		// their handlers would reach the stub services.
		onMain := httptest.NewRecorder()
		if rt.Perm != authz.PermPublic || health {
			onMain = mgmtTestDo(main, rt.Method, path, "", "192.0.2.1:5000")
		}
		onMgmt := mgmtTestDo(mgmt, rt.Method, path, "", "127.0.0.1:5000")
		onSingle := mgmtTestDo(single.Handler(), rt.Method, path, "", "192.0.2.1:5000")
		if authz.Administrative(rt.Perm) {
			admin++
			if onMain.Code != 404 || mgmtTestErrCode(t, onMain) != "not_found" || onMain.Header().Get("Allow") != "" {
				t.Errorf("user listener: %s %s = %d %s, want 404 not_found", rt.Method, rt.Path, onMain.Code, onMain.Body)
			}
			if onMgmt.Code != 401 {
				t.Errorf("management listener: %s %s = %d, want 401 (served)", rt.Method, rt.Path, onMgmt.Code)
			}
			if onSingle.Code != 401 {
				t.Errorf("single listener: %s %s = %d, want 401 (served)", rt.Method, rt.Path, onSingle.Code)
			}
			continue
		}
		user++
		if rt.Path == openapiPath {
			// Both listeners describe what they serve (I6): the user
			// listener's document has no administrative operation, the
			// management listener's only those (and health, the document).
			onMain = mgmtTestDo(main, rt.Method, path, "", "192.0.2.1:5000")
			if onMain.Code != 200 || onMgmt.Code != 200 {
				t.Fatalf("openapi: %d on the user listener, %d on the management listener", onMain.Code, onMgmt.Code)
			}
			for _, tc := range []struct {
				name  string
				body  string
				admin bool
			}{{"user", onMain.Body.String(), false}, {"management", onMgmt.Body.String(), true}} {
				for _, other := range env.api.routes {
					if other.Perm == authz.PermPublic {
						continue
					}
					want := authz.Administrative(other.Perm) == tc.admin
					if got := strings.Contains(tc.body, `"`+operationID(other)+`"`); got != want {
						t.Errorf("%s listener's OpenAPI lists %s %s: %v, want %v", tc.name, other.Method, other.Path, got, want)
					}
				}
			}
			continue
		}
		if health {
			if onMain.Code != 200 || onMgmt.Code != 200 {
				t.Errorf("%s: %d on the user listener, %d on the management listener", rt.Path, onMain.Code, onMgmt.Code)
			}
			continue
		}
		if onMgmt.Code != 404 || mgmtTestErrCode(t, onMgmt) != "not_found" || onMgmt.Header().Get("Allow") != "" {
			t.Errorf("management listener: %s %s = %d %s, want 404 not_found", rt.Method, rt.Path, onMgmt.Code, onMgmt.Body)
		}
		if rt.Perm != authz.PermPublic && onMain.Code != 401 {
			t.Errorf("user listener: %s %s = %d, want 401 (served)", rt.Method, rt.Path, onMain.Code)
		}
	}
	if admin == 0 || user == 0 {
		t.Fatalf("%d administrative and %d user routes", admin, user)
	}
	// User routes answered on the management listener are not audited:
	// its peers are trusted networks already.
	for _, r := range env.auditor.records() {
		if !strings.HasPrefix(r.SourceIP, "192.0.2.") {
			t.Errorf("audit record from the management listener: %+v", r)
		}
	}
}

// TestUserListenerHidesAdminOperations: the answer to an administrative
// operation on the user listener is byte for byte that to an unknown path,
// the Allow header of a shared path names only the user methods, and the
// attempt is audited as api.denied "management plane" with the session's
// user when there is one (I6, L1).
func TestUserListenerHidesAdminOperations(t *testing.T) {
	env := mgmtTestAPI(t, func(*ManagementConfig) {})
	h := env.api.Handler()

	unknown := mgmtTestDo(h, "GET", "/api/v1/nope", mgmtTestAdminToken, "192.0.2.1:5000")
	for _, c := range []struct{ method, path, target string }{
		{"POST", "/api/v1/users", "POST /api/v1/users"},                          // GET /api/v1/users is a user route
		{"GET", "/api/v1/audit", "GET /api/v1/audit"},                            // only administrative routes here
		{"HEAD", "/api/v1/audit", "GET /api/v1/audit"},                           // HEAD of an administrative GET
		{"GET", "/api/v1/admin/buildinfo", "GET /api/v1/admin/buildinfo"},        // nothing else under /admin
		{"POST", "/api/v1/users/u-bob/unlock", "POST /api/v1/users/{id}/unlock"}, // path parameters
	} {
		rec := mgmtTestDo(h, c.method, c.path, mgmtTestAdminToken, "192.0.2.1:5000")
		if rec.Code != unknown.Code || (c.method != "HEAD" && rec.Body.String() != unknown.Body.String()) {
			t.Errorf("%s %s: %d %q, unknown path: %d %q", c.method, c.path, rec.Code, rec.Body, unknown.Code, unknown.Body)
		}
		for _, k := range []string{"Content-Type", "Allow", "Strict-Transport-Security", "Cache-Control"} {
			if rec.Header().Get(k) != unknown.Header().Get(k) {
				t.Errorf("%s %s: header %s = %q, unknown path: %q", c.method, c.path, k, rec.Header().Get(k), unknown.Header().Get(k))
			}
		}
		r := env.auditor.wait(t)
		want := parley.AuditRecord{ActorID: "u-admin", ActorName: "admin", Action: "api.denied", Target: c.target,
			SourceIP: "192.0.2.1", Result: parley.ResultDenied, Reason: "management plane"}
		if !reflect.DeepEqual(r, want) {
			t.Errorf("%s %s: audit %+v, want %+v", c.method, c.path, r, want)
		}
	}
	// Identifying the caller does not count as activity (A5).
	for _, ua := range env.auth.userActions {
		if ua {
			t.Error("a refused request kept its session alive")
		}
	}

	// A shared path lists only what this listener serves.
	rec := mgmtTestDo(h, "PUT", "/api/v1/users", mgmtTestAdminToken, "192.0.2.1:5000")
	if rec.Code != 400 || rec.Header().Get("Allow") != "GET" {
		t.Errorf("PUT /api/v1/users: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	// A method no route has, on an administrative-only path: unknown path.
	rec = mgmtTestDo(h, "DELETE", "/api/v1/audit", mgmtTestAdminToken, "192.0.2.1:5000")
	if rec.Code != 404 || rec.Header().Get("Allow") != "" {
		t.Errorf("DELETE /api/v1/audit: %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}

	// Anonymous attempts are audited once per source and minute, so that
	// nobody can flood the audit trail; identified ones always.
	before := len(env.auditor.records())
	for range 5 {
		mgmtTestDo(h, "GET", "/api/v1/audit", "", "198.51.100.7:5000")
		mgmtTestDo(h, "GET", "/api/v1/audit", "bogus", "198.51.100.7:5001")
	}
	mgmtTestDo(h, "GET", "/api/v1/audit", mgmtTestUserToken, "198.51.100.7:5002")
	mgmtTestDo(h, "GET", "/api/v1/audit", "", "[2001:db8:1:2::1]:5000")
	mgmtTestDo(h, "GET", "/api/v1/audit", "", "[2001:db8:1:2::2]:5000") // same /64
	env.clock.advance(throttleWindow)
	mgmtTestDo(h, "GET", "/api/v1/audit", "", "198.51.100.7:5003")
	got := env.auditor.records()[before:]
	var summary []string
	for _, r := range got {
		summary = append(summary, r.SourceIP+"/"+string(r.ActorID))
	}
	want := []string{"198.51.100.7/", "198.51.100.7/u-alice", "2001:db8:1:2::1/", "198.51.100.7/"}
	if strings.Join(summary, " ") != strings.Join(want, " ") {
		t.Errorf("audited %v, want %v", summary, want)
	}
}

// TestManagementHandlerRefusesPeers: the management handler checks the TCP
// peer itself (defence in depth behind the listener), never
// X-Forwarded-For, and demands a verified client certificate when client
// CAs are configured.
func TestManagementHandlerRefusesPeers(t *testing.T) {
	env := mgmtTestAPI(t, func(*ManagementConfig) {})
	env.api.cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("203.0.113.0/24")}
	h := env.api.ManagementHandler()

	if rec := mgmtTestDo(h, "GET", "/api/v1/admin/buildinfo", mgmtTestAdminToken, "10.1.2.3:5000"); rec.Code != 200 {
		t.Fatalf("allowed peer: %d %s", rec.Code, rec.Body)
	}
	for _, remote := range []string{"203.0.113.9:5000", "[2001:db8::1]:5000", "garbage"} {
		r := httptest.NewRequest("GET", "/api/v1/admin/buildinfo", nil)
		r.RemoteAddr = remote
		r.Header.Set("Authorization", "Bearer "+mgmtTestAdminToken)
		r.Header.Set("X-Forwarded-For", "127.0.0.1") // from a trusted proxy, still not the peer
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != 403 || mgmtTestErrCode(t, rec) != "forbidden" {
			t.Errorf("peer %s: %d %s", remote, rec.Code, rec.Body)
		}
		a := env.auditor.wait(t)
		if a.Action != "api.denied" || a.Result != parley.ResultDenied || a.Reason != reasonPeerNotAllowed ||
			a.Target != "GET /api/v1/admin/buildinfo" || a.SourceIP == "127.0.0.1" {
			t.Errorf("peer %s: audit %+v", remote, a)
		}
	}

	// With client CAs, a request that arrived without a verified chain is
	// refused even from an allowed peer.
	env = mgmtTestAPI(t, func(m *ManagementConfig) { m.ClientCAs = x509.NewCertPool() })
	h = env.api.ManagementHandler()
	rec := mgmtTestDo(h, "GET", "/healthz", "", "127.0.0.1:5000")
	if rec.Code != 403 {
		t.Errorf("no client certificate: %d", rec.Code)
	}
	if a := env.auditor.wait(t); a.Reason != reasonNoClientCert || a.SourceIP != "127.0.0.1" {
		t.Errorf("audit %+v", a)
	}
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.RemoteAddr = "127.0.0.1:5000"
	r.TLS = &tls.ConnectionState{VerifiedChains: [][]*x509.Certificate{{{}}}}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Errorf("verified client certificate: %d", rec.Code)
	}
}

// TestManagementListenerClosesRefusedPeers: a connection from outside the
// allow-list is closed before the TLS handshake and audited; Close waits
// for that record.
func TestManagementListenerClosesRefusedPeers(t *testing.T) {
	for _, c := range []struct {
		name  string
		allow string
		ok    bool
	}{{"outside", "192.0.2.0/24", false}, {"inside", "127.0.0.0/8", true}} {
		t.Run(c.name, func(t *testing.T) {
			env := mgmtTestAPI(t, func(m *ManagementConfig) { m.Allow = []netip.Prefix{netip.MustParsePrefix(c.allow)} })
			cert, _ := tlsTestCert(t)
			pool := x509.NewCertPool()
			pool.AddCert(cert.Leaf)
			srv := NewManagementServer("127.0.0.1:0", env.api.ManagementHandler(), env.api.ManagementTLSConfig(cert), nil)
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			mln := env.api.ManagementListener(ln)
			done := make(chan error, 1)
			go func() { done <- srv.ServeTLS(mln, "", "") }()
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = srv.Shutdown(ctx)
				if err := <-done; !errors.Is(err, http.ErrServerClosed) {
					t.Errorf("serve: %v", err)
				}
			}()

			conn, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			tc := tls.Client(conn, &tls.Config{RootCAs: pool, ServerName: "localhost"})
			_ = tc.SetDeadline(time.Now().Add(10 * time.Second))
			err = tc.Handshake()
			if c.ok {
				if err != nil {
					t.Fatalf("allowed peer: %v", err)
				}
				if len(env.auditor.records()) != 0 {
					t.Errorf("allowed peer audited: %+v", env.auditor.records())
				}
				return
			}
			if err == nil {
				t.Fatal("refused peer completed a TLS handshake")
			}
			a := env.auditor.wait(t)
			if a.Action != "api.denied" || a.SourceIP != "127.0.0.1" || a.Reason != reasonPeerNotAllowed ||
				a.Target != "management listener "+ln.Addr().String() {
				t.Errorf("audit %+v", a)
			}
		})
	}
}

// mgmtTestCA is a client-certificate authority for mutual TLS tests.
type mgmtTestCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newMgmtTestCA(t *testing.T, name string) *mgmtTestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &mgmtTestCA{cert: cert, key: key}
}

func (ca *mgmtTestCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue returns a client certificate signed by ca.
func (ca *mgmtTestCA) issue(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestManagementMutualTLS: with client CAs configured, the handshake
// succeeds only with a certificate from one of them; the TLS policy is the
// user listener's otherwise (T2, T3), and failed handshakes are logged at
// warn level.
func TestManagementMutualTLS(t *testing.T) {
	ca, other := newMgmtTestCA(t, "ops CA"), newMgmtTestCA(t, "someone else's CA")
	env := mgmtTestAPI(t, func(m *ManagementConfig) { m.ClientCAs = ca.pool() })
	cert, _ := tlsTestCert(t)

	cfg, base := env.api.ManagementTLSConfig(cert), TLSConfig(cert)
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs == nil || cfg.MinVersion != base.MinVersion ||
		cfg.MaxVersion != base.MaxVersion || !slices.Equal(cfg.CipherSuites, base.CipherSuites) ||
		!slices.Equal(cfg.CurvePreferences, base.CurvePreferences) || !slices.Equal(cfg.NextProtos, base.NextProtos) {
		t.Fatalf("management TLS config differs from the policy: ClientAuth %v, versions %x..%x, suites %v, curves %v, ALPN %v",
			cfg.ClientAuth, cfg.MinVersion, cfg.MaxVersion, cfg.CipherSuites, cfg.CurvePreferences, cfg.NextProtos)
	}
	if plain := mgmtTestAPI(t, func(*ManagementConfig) {}).api.ManagementTLSConfig(cert); plain.ClientAuth != tls.NoClientCert {
		t.Errorf("without client CAs: ClientAuth %v", plain.ClientAuth)
	}

	log, logs := serverTestLogger()
	srv := NewManagementServer("127.0.0.1:0", env.api.ManagementHandler(), cfg, log)
	addr := serverTestStart(t, srv, func(ln net.Listener) error { return srv.ServeTLS(env.api.ManagementListener(ln), "", "") })

	roots := x509.NewCertPool()
	roots.AddCert(cert.Leaf)
	get := func(clientCert *tls.Certificate) (*http.Response, error) {
		tc := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if clientCert != nil {
			tc.Certificates = []tls.Certificate{*clientCert}
		}
		tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		req, _ := http.NewRequest("GET", "https://"+addr+"/api/v1/admin/buildinfo", nil)
		req.Header.Set("Authorization", "Bearer "+mgmtTestAdminToken)
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		return resp, err
	}

	good := ca.issue(t, "ops")
	resp, err := get(&good)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("certificate from the CA: %v %v", resp, err)
	}
	if _, err := get(nil); err == nil {
		t.Error("no client certificate: request succeeded")
	}
	foreign := other.issue(t, "ops")
	if _, err := get(&foreign); err == nil {
		t.Error("certificate from another CA: request succeeded")
	}

	deadline := time.Now().Add(10 * time.Second)
	for {
		n := 0
		for _, r := range logs.records(t) {
			if msg, _ := r["msg"].(string); strings.Contains(msg, "TLS handshake error") {
				if r["level"] != "WARN" || r["listener"] != "management" {
					t.Fatalf("handshake failure logged as %v", r)
				}
				n++
			}
		}
		if n >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d handshake failures logged: %s", n, logs.buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
