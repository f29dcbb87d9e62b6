package main

import (
	"bytes"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/httpapi"
)

func datadirTestLog() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func datadirTestMode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestPrepareDataDirFresh(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "parley-data")
	cfg := defaultConfig()
	cfg.Data = dir
	now := time.Now()
	log, logs := datadirTestLog()
	d, err := prepareDataDir(cfg, now, log)
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{
		dir:                       0o700,
		filepath.Join(dir, "tls"): 0o700,
		d.TLSCertFile:             0o600,
		d.TLSKeyFile:              0o600,
		filepath.Dir(dir):         0o700, // parents made by MkdirAll too
	} {
		if got := datadirTestMode(t, path); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	if d.TLSCertFile != filepath.Join(dir, "tls", "cert.pem") || d.TLSKeyFile != filepath.Join(dir, "tls", "key.pem") ||
		d.KeyringFile != filepath.Join(dir, "keyring.json") || d.DBFile != filepath.Join(dir, "parley.db") ||
		d.SetupTokenFile != filepath.Join(dir, "setup-token") || d.Dir != dir {
		t.Errorf("paths: %+v", d)
	}
	// Only the TLS pair is created here; keyring, db and token belong to others.
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "tls" {
		t.Errorf("DIR holds %v, want only tls/", entries)
	}
	tlsEntries, _ := os.ReadDir(filepath.Join(dir, "tls"))
	if len(tlsEntries) != 2 {
		t.Errorf("DIR/tls holds %v (temporary files left?)", tlsEntries)
	}
	leaf := d.Certificate.Leaf
	if leaf == nil || !slices.Equal(leaf.DNSNames, []string{"localhost"}) || len(leaf.IPAddresses) != 2 || !leaf.IsCA {
		t.Fatalf("certificate: %+v", leaf)
	}
	if got := leaf.NotAfter.Sub(now); got < 396*24*time.Hour || got > 398*24*time.Hour {
		t.Errorf("validity %v", got)
	}
	if !strings.Contains(logs.String(), "sha256=") {
		t.Errorf("fingerprint not logged: %s", logs.String())
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") {
		t.Error("key material in the log")
	}
}

func TestPrepareDataDirIdempotent(t *testing.T) {
	cfg := defaultConfig()
	cfg.Data = filepath.Join(t.TempDir(), "d")
	log, _ := datadirTestLog()
	d1, err := prepareDataDir(cfg, time.Now(), log)
	if err != nil {
		t.Fatal(err)
	}
	cert1, _ := os.ReadFile(d1.TLSCertFile)
	key1, _ := os.ReadFile(d1.TLSKeyFile)
	d2, err := prepareDataDir(cfg, time.Now().Add(time.Hour), log)
	if err != nil {
		t.Fatal(err)
	}
	cert2, _ := os.ReadFile(d2.TLSCertFile)
	key2, _ := os.ReadFile(d2.TLSKeyFile)
	if !bytes.Equal(cert1, cert2) || !bytes.Equal(key1, key2) {
		t.Error("second run replaced the TLS pair; pinned clients would break")
	}
	if !bytes.Equal(d1.Certificate.Certificate[0], d2.Certificate.Certificate[0]) {
		t.Error("loaded certificates differ")
	}
}

func TestPrepareDataDirTightens(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	cfg := defaultConfig()
	cfg.Data = dir
	log, logs := datadirTestLog()
	d, err := prepareDataDir(cfg, time.Now(), log)
	if err != nil {
		t.Fatal(err)
	}
	for path, mode := range map[string]fs.FileMode{dir: 0o755, filepath.Join(dir, "tls"): 0o777, d.TLSKeyFile: 0o644, d.TLSCertFile: 0o640} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	logs.Reset()
	if _, err := prepareDataDir(cfg, time.Now(), log); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]fs.FileMode{dir: 0o700, filepath.Join(dir, "tls"): 0o700, d.TLSKeyFile: 0o600, d.TLSCertFile: 0o600} {
		if got := datadirTestMode(t, path); got != want {
			t.Errorf("%s: mode %04o, want %04o", path, got, want)
		}
	}
	if n := strings.Count(logs.String(), "level=WARN msg=\"tightening permissions"); n != 4 {
		t.Errorf("want 4 warnings, got %d: %s", n, logs.String())
	}
}

func TestPrepareDataDirRefuses(t *testing.T) {
	log, _ := datadirTestLog()
	root := t.TempDir()

	// DIR is a regular file.
	file := filepath.Join(root, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.Data = file
	if _, err := prepareDataDir(cfg, time.Now(), log); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file as DIR: %v", err)
	}

	// Half a pair is reported, not overwritten.
	cfg.Data = filepath.Join(root, "half")
	if err := os.MkdirAll(filepath.Join(cfg.Data, "tls"), 0o700); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(cfg.Data, "tls", "key.pem")
	if err := os.WriteFile(keyFile, []byte("operator key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDataDir(cfg, time.Now(), log); err == nil || !strings.Contains(err.Error(), "cert.pem does not") {
		t.Errorf("half pair: %v", err)
	}
	if b, _ := os.ReadFile(keyFile); string(b) != "operator key" {
		t.Error("existing key overwritten")
	}

	// An expired certificate stops the start with a way out.
	cfg.Data = filepath.Join(root, "old")
	if _, err := prepareDataDir(cfg, time.Now().Add(-400*24*time.Hour), log); err != nil {
		t.Fatal(err)
	}
	if _, err := prepareDataDir(cfg, time.Now(), log); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: %v", err)
	}
}

func TestPrepareDataDirOperatorCert(t *testing.T) {
	root := t.TempDir()
	certPEM, keyPEM, err := httpapi.GenerateSelfSigned([]string{"chat.example.com"}, time.Now(), 20*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	cfg := defaultConfig()
	cfg.Data = filepath.Join(root, "d")
	cfg.TLSCert, cfg.TLSKey = filepath.Join(root, "cert.pem"), filepath.Join(root, "key.pem")
	if err := os.WriteFile(cfg.TLSCert, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg.TLSKey, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	log, logs := datadirTestLog()
	d, err := prepareDataDir(cfg, time.Now(), log)
	if err != nil {
		t.Fatal(err)
	}
	if d.TLSCertFile != cfg.TLSCert || d.Certificate.Leaf.DNSNames[0] != "chat.example.com" {
		t.Errorf("operator certificate not used: %+v", d)
	}
	if _, err := os.Stat(filepath.Join(cfg.Data, "tls")); !os.IsNotExist(err) {
		t.Errorf("DIR/tls created although --tls-cert was given: %v", err)
	}
	if !strings.Contains(logs.String(), "expires soon") {
		t.Errorf("no expiry warning: %s", logs.String())
	}
}
