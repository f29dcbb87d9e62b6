package main

// The data directory (API-CORE "Server process"): everything parleyd keeps
// on the local disk lives in DIR, private to the service user (mode 0700
// for directories, 0600 for files). On first start it holds a self-signed
// TLS certificate; the keyring, database and setup token are created by the
// packages that own them, at the paths named here.

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/parleyhq/parley/httpapi"
)

const (
	dirMode  fs.FileMode = 0o700
	fileMode fs.FileMode = 0o600

	// selfSignedValidity is the CA/Browser Forum's ceiling for server
	// certificates, which clients increasingly enforce even for pinned ones.
	selfSignedValidity = 397 * 24 * time.Hour
	// certWarnBefore: expiry closer than this is reported (serve, config check).
	certWarnBefore = 30 * 24 * time.Hour
)

// selfSignedHosts are the names of the generated certificate (API-CORE).
var selfSignedHosts = []string{"localhost", "127.0.0.1", "::1"}

// DataDir names the files of one deployment.
type DataDir struct {
	Dir            string
	TLSCertFile    string // DIR/tls/cert.pem, or --tls-cert
	TLSKeyFile     string // DIR/tls/key.pem, or --tls-key
	KeyringFile    string // DIR/keyring.json: the local KEK provider's file (created by kms)
	DBFile         string // DIR/parley.db: the default SQLite database (created by sqldb)
	SetupTokenFile string // DIR/setup-token: one-time first-admin token (created by serve)
	Certificate    tls.Certificate
}

// dataDirPaths returns the paths of a deployment without touching the disk.
func dataDirPaths(cfg *Config) *DataDir {
	d := &DataDir{
		Dir:            cfg.Data,
		TLSCertFile:    filepath.Join(cfg.Data, "tls", "cert.pem"),
		TLSKeyFile:     filepath.Join(cfg.Data, "tls", "key.pem"),
		KeyringFile:    filepath.Join(cfg.Data, "keyring.json"),
		DBFile:         filepath.Join(cfg.Data, "parley.db"),
		SetupTokenFile: filepath.Join(cfg.Data, "setup-token"),
	}
	if cfg.TLSCert != "" {
		d.TLSCertFile, d.TLSKeyFile = cfg.TLSCert, cfg.TLSKey
	}
	return d
}

// prepareDataDir creates DIR (0700) if needed, tightens it if others can
// reach into it, makes the self-signed TLS pair in DIR/tls unless the
// configuration names a certificate, and loads the certificate. Running it
// again changes nothing: an existing pair is kept, so pinned clients keep
// working.
func prepareDataDir(cfg *Config, now time.Time, log *slog.Logger) (*DataDir, error) {
	d := dataDirPaths(cfg)
	if err := ensurePrivateDir(d.Dir, log); err != nil {
		return nil, err
	}
	if cfg.TLSCert == "" {
		if err := ensurePrivateDir(filepath.Dir(d.TLSCertFile), log); err != nil {
			return nil, err
		}
		if err := ensureSelfSigned(d.TLSCertFile, d.TLSKeyFile, now, log); err != nil {
			return nil, err
		}
	}
	cert, err := httpapi.LoadCertificate(d.TLSCertFile, d.TLSKeyFile)
	if err != nil {
		return nil, err
	}
	switch left := cert.Leaf.NotAfter.Sub(now); {
	case left <= 0:
		hint := "install a new one"
		if cfg.TLSCert == "" {
			hint = "remove " + filepath.Dir(d.TLSCertFile) + " to generate a new self-signed one (clients must pin it again)"
		}
		return nil, fmt.Errorf("TLS certificate %s expired on %s; %s", d.TLSCertFile, cert.Leaf.NotAfter.Format(time.RFC3339), hint)
	case left < certWarnBefore:
		log.Warn("TLS certificate expires soon", "file", d.TLSCertFile, "not_after", cert.Leaf.NotAfter, "days_left", int(left.Hours()/24))
	}
	d.Certificate = cert
	return d, nil
}

// ensurePrivateDir makes dir exist with mode 0700. A directory that group
// or others can read or enter is tightened, with a warning: key material
// and the database live below it.
func ensurePrivateDir(dir string, log *slog.Logger) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		// MkdirAll's mode passes through the umask; set it exactly.
		return os.Chmod(dir, dirMode) // #nosec G302 -- a directory needs x to be entered; 0700 is owner-only
	}
	if err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("data dir: %s is not a directory", dir)
	}
	if perm := fi.Mode().Perm(); perm != dirMode {
		log.Warn("tightening permissions of data directory", "dir", dir, "was", fmt.Sprintf("%04o", perm), "now", fmt.Sprintf("%04o", dirMode))
		if err := os.Chmod(dir, dirMode); err != nil { // #nosec G302 -- a directory needs x to be entered; 0700 is owner-only
			return fmt.Errorf("data dir: %w", err)
		}
	}
	return nil
}

// ensureSelfSigned generates the TLS pair if neither file exists. If only
// one exists, it refuses rather than overwrite what may be the operator's
// file or a pinned certificate's key.
func ensureSelfSigned(certFile, keyFile string, now time.Time, log *slog.Logger) error {
	certExists, err := fileExists(certFile)
	if err != nil {
		return err
	}
	keyExists, err := fileExists(keyFile)
	if err != nil {
		return err
	}
	switch {
	case certExists && keyExists:
		for _, f := range []string{certFile, keyFile} {
			if err := tightenFile(f, log); err != nil {
				return err
			}
		}
		return nil
	case certExists != keyExists:
		have, missing := certFile, keyFile
		if keyExists {
			have, missing = keyFile, certFile
		}
		return fmt.Errorf("TLS: %s exists but %s does not; restore it, or remove %s to generate a new pair", have, missing, have)
	}

	certPEM, keyPEM, err := httpapi.GenerateSelfSigned(selfSignedHosts, now, selfSignedValidity)
	if err != nil {
		return err
	}
	defer clear(keyPEM) // D6
	// Key first: a crash in between leaves a half pair, which the next start
	// reports instead of serving a certificate without its key.
	if err := writeFilePrivate(keyFile, keyPEM); err != nil {
		return err
	}
	if err := writeFilePrivate(certFile, certPEM); err != nil {
		return err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(cert.Certificate[0])
	log.Info("generated self-signed TLS certificate; clients pin this file",
		"file", certFile, "sha256", hex.EncodeToString(sum[:]), "hosts", selfSignedHosts, "not_after", cert.Leaf.NotAfter)
	return nil
}

func fileExists(path string) (bool, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !fi.Mode().IsRegular():
		return false, fmt.Errorf("%s is not a regular file", path)
	}
	return true, nil
}

// tightenFile sets a file that group or others can access to 0600.
func tightenFile(path string, log *slog.Logger) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		log.Warn("tightening permissions of file", "file", path, "was", fmt.Sprintf("%04o", perm), "now", fmt.Sprintf("%04o", fileMode))
		return os.Chmod(path, fileMode)
	}
	return nil
}

// writeFilePrivate writes data to path with mode 0600 atomically: a reader
// (or a crash) never sees a half-written file, and the file is never, even
// briefly, readable by others.
func writeFilePrivate(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(fileMode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
