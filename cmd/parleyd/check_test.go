package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// checkTestDeployment prepares a good data directory like a first start.
func checkTestDeployment(t *testing.T, now time.Time) *DataDir {
	t.Helper()
	cfg := defaultConfig()
	cfg.Data = filepath.Join(t.TempDir(), "data")
	log, _ := datadirTestLog()
	d, err := prepareDataDir(cfg, now, log)
	if err != nil {
		t.Fatal(err)
	}
	// What serve and the other packages add later, with the right modes.
	for _, f := range []string{d.KeyringFile, d.DBFile, d.SetupTokenFile} {
		if err := os.WriteFile(f, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

func checkTestRun(t *testing.T, now time.Time, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = cmdConfigCheck(args, &out, &errOut, os.LookupEnv, now)
	return status, out.String(), errOut.String()
}

func TestConfigCheckGood(t *testing.T) {
	configTestClearEnv(t)
	now := time.Now()
	d := checkTestDeployment(t, now)
	configTestWrite(t, filepath.Join(d.Dir, configFileName), "listen = \"127.0.0.1:9443\"\ndb = \"postgres://parley:hunter2@db.internal/parley?sslmode=verify-full\"\n")
	status, out, errOut := checkTestRun(t, now, "--data", d.Dir)
	if status != 0 || errOut != "" {
		t.Fatalf("status %d\nstdout:\n%s\nstderr:\n%s", status, out, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		if !strings.HasPrefix(l, "ok ") {
			t.Errorf("not ok: %q", l)
		}
	}
	for _, want := range []string{"config: loaded", "settings: listen 127.0.0.1:9443", "data dir:", "data dir modes:", "tls certificate:", "config file mode:"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing check %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hunter2") || !strings.Contains(out, "REDACTED") {
		t.Errorf("password not redacted:\n%s", out)
	}
	key, _ := os.ReadFile(d.TLSKeyFile)
	if strings.Contains(out, string(key[40:80])) {
		t.Error("key material printed")
	}
}

func TestConfigCheckBad(t *testing.T) {
	configTestClearEnv(t)
	now := time.Now()
	d := checkTestDeployment(t, now.Add(-396*24*time.Hour)) // certificate expires in ~1 day
	if err := os.Chmod(d.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d.DBFile, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PARLEY_DB", "postgres://parley:hunter2@db/parley?sslmode=disable")
	status, out, errOut := checkTestRun(t, now, "--data", d.Dir, "--log-format", "xml")
	if status == 0 {
		t.Fatalf("bad deployment passed:\n%s", out)
	}
	for _, want := range []string{
		"FAIL  settings: db: postgres: sslmode must be verify-full",
		"FAIL  settings: log_format",
		"FAIL  data dir: " + d.Dir + " is 0755, want 0700",
		"FAIL  data dir modes: " + d.DBFile + " is 0644, want 0600",
		"warn  tls certificate: " + d.TLSCertFile + " expires in 0 days",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "4 check(s) failed") || !strings.Contains(errOut, "sslmode must be verify-full") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if strings.Contains(out+errOut, "hunter2") {
		t.Error("password printed")
	}

	// Expired: a failure, not a warning.
	status, out, _ = checkTestRun(t, now.Add(3*24*time.Hour), "--data", d.Dir)
	if status == 0 || !strings.Contains(out, "FAIL  tls certificate: "+d.TLSCertFile+" expired on") {
		t.Errorf("expired certificate:\n%s", out)
	}
}

func TestConfigCheckMissingAndBroken(t *testing.T) {
	configTestClearEnv(t)
	root := t.TempDir()
	status, out, errOut := checkTestRun(t, time.Now(), "--data", filepath.Join(root, "none"))
	if status == 0 || !strings.Contains(out, "does not exist") || !strings.Contains(out, "tls certificate:") || errOut == "" {
		t.Errorf("missing dir: %d\n%s\n%s", status, out, errOut)
	}

	// An unknown key stops at the first line, naming the key.
	d := checkTestDeployment(t, time.Now())
	configTestWrite(t, filepath.Join(d.Dir, configFileName), `tls_crt = "x"`)
	status, out, errOut = checkTestRun(t, time.Now(), "--data", d.Dir)
	if status == 0 || !strings.HasPrefix(out, "FAIL  config:") || !strings.Contains(errOut, `"tls_crt"`) {
		t.Errorf("unknown key: %d\n%s\n%s", status, out, errOut)
	}

	// A mismatched operator key pair is caught.
	other := checkTestDeployment(t, time.Now())
	status, out, _ = checkTestRun(t, time.Now(), "--data", other.Dir, "--tls-cert", d.TLSCertFile, "--tls-key", other.TLSKeyFile)
	if status == 0 || !strings.Contains(out, "FAIL  tls certificate:") {
		t.Errorf("mismatched pair: %d\n%s", status, out)
	}

	// Bad usage.
	if status, _, _ := checkTestRun(t, time.Now(), "--nope"); status != 2 {
		t.Errorf("unknown flag: status %d", status)
	}
	if status, _, _ := checkTestRun(t, time.Now(), "extra"); status != 2 {
		t.Errorf("extra argument: status %d", status)
	}
}

// TestConfigCheckManagement: config check says where administrative
// operations are served (I6) and catches a client CA that would lock every
// administrator out.
func TestConfigCheckManagement(t *testing.T) {
	configTestClearEnv(t)
	now := time.Now()
	d := checkTestDeployment(t, now)

	status, out, _ := checkTestRun(t, now, "--data", d.Dir)
	if status != 0 || !strings.Contains(out, "ok    management listener: off: administrative operations are served on :8443") {
		t.Errorf("off:\n%s", out)
	}

	ca := configTestCA(t, t.TempDir(), "ops-ca") // valid for 24 hours
	status, out, _ = checkTestRun(t, now, "--data", d.Dir, "--admin-listen", "127.0.0.1:9443", "--admin-client-ca", ca)
	for _, want := range []string{
		"ok    management listener: 127.0.0.1:9443 admits 127.0.0.0/8, ::1/128; client certificates from " + ca + " required",
		"warn  management client CA: " + ca + ": the last CA certificate expires in 0 days",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if status != 0 {
		t.Errorf("status %d:\n%s", status, out)
	}

	// A wider network without mutual TLS is allowed, with a warning.
	t.Setenv("PARLEY_ADMIN_ALLOW", "10.20.0.0/16")
	status, out, _ = checkTestRun(t, now, "--data", d.Dir, "--admin-listen", "127.0.0.1:9443")
	if status != 0 || !strings.Contains(out, "warn  management listener: 127.0.0.1:9443 admits 10.20.0.0/16 without client certificates") {
		t.Errorf("wide allow-list: %d\n%s", status, out)
	}

	// An expired CA: nobody could connect.
	t.Setenv("PARLEY_ADMIN_ALLOW", "")
	status, out, errOut := checkTestRun(t, now.Add(48*time.Hour), "--data", d.Dir, "--admin-listen", "127.0.0.1:9443", "--admin-client-ca", ca)
	if status == 0 || !strings.Contains(out, "FAIL  management client CA: "+ca+": no CA certificate valid now") ||
		!strings.Contains(out, "warn  management client CA: "+ca+`: "ops-ca" is not valid now`) {
		t.Errorf("expired CA: %d\n%s\n%s", status, out, errOut)
	}

	// Bad settings fail as settings, with the key named.
	status, out, _ = checkTestRun(t, now, "--data", d.Dir, "--admin-listen", "127.0.0.1:9443", "--admin-allow", "10.0.0.0/33",
		"--admin-client-ca", filepath.Join(d.Dir, "none.pem"))
	if status == 0 || !strings.Contains(out, `FAIL  settings: admin_allow: "10.0.0.0/33" is not a CIDR or IP`) ||
		!strings.Contains(out, "FAIL  settings: admin_client_ca: ") {
		t.Errorf("bad settings: %d\n%s", status, out)
	}
	status, out, _ = checkTestRun(t, now, "--data", d.Dir, "--admin-allow", "10.0.0.0/8")
	if status == 0 || !strings.Contains(out, "FAIL  settings: admin_allow: set, but admin_listen is not") {
		t.Errorf("allow-list without listener: %d\n%s", status, out)
	}
}
