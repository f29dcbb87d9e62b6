package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/auth"
	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/parleytest"
	"github.com/parleyhq/parley/wire"
)

// mgmtCA is a client-certificate authority of the operations team.
type mgmtCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newMgmtCA(t *testing.T, name string) *mgmtCA {
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
	return &mgmtCA{cert: cert, key: key}
}

func (ca *mgmtCA) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// issue returns a client certificate (clientAuth) signed by ca.
func (ca *mgmtCA) issue(t *testing.T, name string) *tls.Certificate {
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
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mgmtAuditHas reports whether the trail holds a record matching want in
// action, actor, target, result and reason.
func mgmtAuditHas(ctx context.Context, t *testing.T, s *parleytest.Server, want parley.AuditRecord) bool {
	t.Helper()
	recs, err := s.Node.Store.ListAudit(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == want.Action && r.ActorID == want.ActorID && r.Target == want.Target &&
			r.Result == want.Result && r.Reason == want.Reason {
			return true
		}
	}
	return false
}

// TestManagementListener: with a management listener (I6), administrative
// operations move there, behind mutual TLS; the user listener answers them
// as unknown paths and audits the attempt; login and step-up stay on the
// user listener and their session works on both; shutdown closes both.
func TestManagementListener(t *testing.T) {
	ops, stranger := newMgmtCA(t, "ops CA"), newMgmtCA(t, "stranger CA")
	opsCert := ops.issue(t, "ops")
	eachServer(t, func(t *testing.T, s *parleytest.Server) {
		ctx := testCtx(t)
		if s.ManagementURL == "" || s.ManagementURL == s.URL {
			t.Fatalf("management URL %q, user URL %q", s.ManagementURL, s.URL)
		}
		admin := s.SetupAdmin(ctx) // setup, login and TOTP: the user listener

		// The user listener does not serve administrative operations.
		newUser := wire.CreateUserRequest{Username: "alice", DisplayName: "Alice", Password: parleytest.Password}
		_, err := admin.CreateUser(ctx, newUser)
		expectCode(t, err, "not_found")
		var apiErr *client.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound || apiErr.Message != "no such endpoint" {
			t.Fatalf("create user on the user listener: %v", err)
		}
		if _, err := admin.BuildInfo(ctx); !client.IsCode(err, "not_found") {
			t.Fatalf("build info on the user listener: %v", err)
		}
		if !mgmtAuditHas(ctx, t, s, parley.AuditRecord{Action: "api.denied", ActorID: parley.UserID(admin.UserID),
			Target: "POST /api/v1/users", Result: parley.ResultDenied, Reason: "management plane"}) {
			t.Error("the attempt on the user listener was not audited")
		}

		// The management listener serves them, to the same session.
		mgmt := s.ManagementClient(admin.Token(), opsCert)
		aliceID, err := mgmt.CreateUser(ctx, newUser)
		if err != nil {
			t.Fatalf("create user on the management listener: %v", err)
		}
		if _, err := mgmt.BuildInfo(ctx); err != nil {
			t.Fatalf("build info on the management listener: %v", err)
		}
		if _, err := mgmt.CreateDepartment(ctx, wire.CreateDepartmentRequest{Name: "Ops"}); err != nil {
			t.Fatalf("create department on the management listener: %v", err)
		}

		// User operations stay on the user listener only.
		alice := s.Login(ctx, "alice")
		if _, err := alice.Conversations(ctx); err != nil {
			t.Fatalf("alice on the user listener: %v", err)
		}
		if _, err := mgmt.Me(ctx); !client.IsCode(err, "not_found") {
			t.Errorf("me on the management listener: %v", err)
		}
		aliceMgmt := s.ManagementClient(alice.Token(), opsCert)
		if _, err := aliceMgmt.Conversations(ctx); !client.IsCode(err, "not_found") {
			t.Errorf("conversations on the management listener: %v", err)
		}
		// Reaching the management listener grants nothing by itself.
		if _, err := aliceMgmt.CreateUser(ctx, wire.CreateUserRequest{Username: "mallory", DisplayName: "M", Password: parleytest.Password}); !client.IsCode(err, "forbidden") {
			t.Errorf("alice creating a user on the management listener: %v", err)
		}

		// A sensitive operation: step-up happens on the user listener, the
		// replaced session is then used on the management listener (A6).
		s.Clock.Advance(auth.StepUpWindow + time.Minute)
		if err := mgmt.UnlockUser(ctx, aliceID); !client.IsCode(err, "step_up_required") {
			t.Fatalf("unlock without step-up: %v", err)
		}
		if _, err := admin.StepUp(ctx, "totp", s.TOTPCode(admin.TOTPSecret), ""); err != nil {
			t.Fatalf("step-up: %v", err)
		}
		mgmt.SetToken(admin.Token())
		if err := mgmt.UnlockUser(ctx, aliceID); err != nil {
			t.Fatalf("unlock after step-up: %v", err)
		}

		// Health checks answer on both listeners.
		for _, base := range []string{s.URL, s.ManagementURL} {
			resp, err := mgmtHTTP(t, s, opsCert).Get(base + "/healthz")
			if err != nil {
				t.Fatalf("%s/healthz: %v", base, err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s/healthz: %d", base, resp.StatusCode)
			}
		}

		// Without a certificate from the configured CA there is no TLS
		// session at all, so no API answer either.
		for name, cert := range map[string]*tls.Certificate{"no certificate": nil, "another CA": stranger.issue(t, "ops")} {
			_, err := s.ManagementClient(admin.Token(), cert).BuildInfo(ctx)
			if err == nil || errors.As(err, &apiErr) {
				t.Errorf("%s: got %v, want a TLS failure", name, err)
			}
		}

		// Graceful shutdown closes both listeners.
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Node.Shutdown(sctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		for _, addr := range []string{s.Node.Addr(), s.Node.ManagementAddr()} {
			if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
				c.Close()
				t.Errorf("%s still accepts connections after shutdown", addr)
			}
		}
	}, parleytest.WithManagementListener(nil, ops.pool()))
}

// TestManagementListenerRefusesPeers: a peer outside the allow-list is cut
// off before TLS, whatever certificate or token it has, and the refusal is
// audited.
func TestManagementListenerRefusesPeers(t *testing.T) {
	s := parleytest.NewServer(t, parleytest.WithManagementListener([]netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}, nil))
	ctx := testCtx(t)
	admin := s.SetupAdmin(ctx)
	_, err := s.ManagementClient(admin.Token(), nil).BuildInfo(ctx)
	var apiErr *client.APIError
	if err == nil || errors.As(err, &apiErr) {
		t.Fatalf("refused peer: got %v, want a connection failure", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !mgmtAuditHas(ctx, t, s, parley.AuditRecord{Action: "api.denied", Target: "management listener " + s.Node.ManagementAddr(),
		Result: parley.ResultDenied, Reason: "management plane: source address not allowed"}) {
		if time.Now().After(deadline) {
			t.Fatal("refused peer not audited")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// mgmtHTTP is a plain HTTPS client that pins the server's certificate and
// presents cert, for paths the SDK has no call for.
func mgmtHTTP(t *testing.T, s *parleytest.Server, cert *tls.Certificate) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	tr := &http.Transport{TLSClientConfig: &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots, Certificates: []tls.Certificate{*cert}}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}
