package main

// `parleyd config check`: an operator's pre-flight and audit aid. It loads
// and validates the configuration exactly as serve would, then inspects the
// data directory: modes (0700/0600, API-CORE), the TLS certificate (parses,
// matches its key, not expired: T1–T4). One line per check on stdout; the
// failures again on stderr, and a non-zero exit. Nothing secret is printed:
// the DSN is redacted and key files are only opened, never shown (D6).

import (
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/parleyhq/parley/httpapi"
)

// checkResult is one line of the report.
type checkResult struct {
	status string // "ok", "warn" or "FAIL"
	name   string
	detail string
}

func cmdConfigCheck(args []string, stdout, stderr io.Writer, lookup lookupFunc, now time.Time) int {
	fs := flag.NewFlagSet("parleyd config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConfigFlags(fs)
	if ok, status := parseFlags(fs, args); !ok {
		return status
	}
	results := checkDeployment(cf, lookup, now)
	var failed []string
	for _, r := range results {
		fmt.Fprintf(stdout, "%-4s  %s: %s\n", r.status, r.name, r.detail)
		if r.status == "FAIL" {
			failed = append(failed, r.name+": "+r.detail)
		}
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "parleyd config check: %d check(s) failed:\n  %s\n", len(failed), strings.Join(failed, "\n  "))
		return 1
	}
	return 0
}

// checkDeployment runs every check; later checks are skipped when the
// configuration cannot be loaded at all.
func checkDeployment(cf *configFlags, lookup lookupFunc, now time.Time) []checkResult {
	var out []checkResult
	ok := func(name, format string, a ...any) {
		out = append(out, checkResult{"ok", name, fmt.Sprintf(format, a...)})
	}
	warn := func(name, format string, a ...any) {
		out = append(out, checkResult{"warn", name, fmt.Sprintf(format, a...)})
	}
	fail := func(name, format string, a ...any) {
		out = append(out, checkResult{"FAIL", name, fmt.Sprintf(format, a...)})
	}

	cfg, err := loadConfig(cf, lookup)
	if err != nil {
		fail("config", "%v", err)
		return out
	}
	if cfg.ConfigFile == "" {
		ok("config", "no file; flags, environment and defaults")
	} else {
		ok("config", "loaded %s", cfg.ConfigFile)
		checkConfigFileMode(cfg, ok, warn)
	}

	if err := cfg.Validate(); err != nil {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			for _, e := range joined.Unwrap() {
				fail("settings", "%v", e)
			}
		} else {
			fail("settings", "%v", err)
		}
	} else {
		ok("settings", "listen %s, database %s", cfg.Listen, cfg.RedactedDSN())
	}

	d := dataDirPaths(cfg)
	if checkDataDir(d.Dir, ok, fail) {
		checkModes(d.Dir, ok, fail)
	}
	checkCertificate(cfg, d, now, ok, warn, fail)
	checkManagement(cfg, now, ok, warn, fail)
	return out
}

type report func(name, format string, a ...any)

// checkConfigFileMode: the file may hold a DSN with a password.
func checkConfigFileMode(cfg *Config, ok, warn report) {
	fi, err := os.Stat(cfg.ConfigFile)
	if err != nil {
		return // loadConfig just read it; nothing useful to add
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		warn("config file mode", "%s is %04o; 0600 keeps a DSN password private", cfg.ConfigFile, perm)
		return
	}
	ok("config file mode", "%04o", fi.Mode().Perm())
}

func checkDataDir(dir string, ok, fail report) bool {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		fail("data dir", "%s does not exist (parleyd serve creates it on first start)", dir)
		return false
	case err != nil:
		fail("data dir", "%v", err)
		return false
	case !fi.IsDir():
		fail("data dir", "%s is not a directory", dir)
		return false
	case fi.Mode().Perm() != dirMode:
		fail("data dir", "%s is %04o, want %04o", dir, fi.Mode().Perm(), dirMode)
		return true
	}
	ok("data dir", "%s (%04o)", dir, dirMode)
	return true
}

// checkModes walks DIR: directories must be 0700, files private to the
// owner (0600 or stricter). Symbolic links are not followed.
func checkModes(dir string, ok, fail report) {
	var bad []string
	n := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", path, err))
			return nil
		}
		if path == dir || e.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil // vanished meanwhile
		}
		n++
		perm := fi.Mode().Perm()
		switch {
		case e.IsDir() && perm != dirMode:
			bad = append(bad, fmt.Sprintf("%s is %04o, want %04o", path, perm, dirMode))
		case !e.IsDir() && perm&0o077 != 0:
			bad = append(bad, fmt.Sprintf("%s is %04o, want %04o", path, perm, fileMode))
		}
		return nil
	})
	if err != nil {
		bad = append(bad, err.Error())
	}
	if len(bad) > 0 {
		more := ""
		if len(bad) > 5 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-5)
			bad = bad[:5]
		}
		fail("data dir modes", "%s%s", strings.Join(bad, "; "), more)
		return
	}
	ok("data dir modes", "%d entries, directories %04o, files %04o", n, dirMode, fileMode)
}

func checkCertificate(cfg *Config, d *DataDir, now time.Time, ok, warn, fail report) {
	if (cfg.TLSCert == "") != (cfg.TLSKey == "") {
		return // reported by settings
	}
	cert, err := httpapi.LoadCertificate(d.TLSCertFile, d.TLSKeyFile)
	if err != nil {
		if cfg.TLSCert == "" && errors.Is(err, fs.ErrNotExist) {
			fail("tls certificate", "%s or %s missing (parleyd serve generates them on first start)", d.TLSCertFile, d.TLSKeyFile)
			return
		}
		fail("tls certificate", "%v", err)
		return
	}
	leaf := cert.Leaf
	left := leaf.NotAfter.Sub(now)
	switch {
	case now.Before(leaf.NotBefore):
		fail("tls certificate", "%s not valid before %s", d.TLSCertFile, leaf.NotBefore.UTC().Format(time.RFC3339))
	case left <= 0:
		fail("tls certificate", "%s expired on %s", d.TLSCertFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	case left < certWarnBefore:
		warn("tls certificate", "%s expires in %d days (%s)", d.TLSCertFile, int(left.Hours()/24), leaf.NotAfter.UTC().Format(time.RFC3339))
	default:
		ok("tls certificate", "%s valid until %s", d.TLSCertFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	// An operator's key outside DIR is not covered by the walk above.
	if cfg.TLSKey != "" {
		if fi, err := os.Stat(cfg.TLSKey); err == nil && fi.Mode().Perm()&0o077 != 0 {
			warn("tls key mode", "%s is %04o; others can read the private key", cfg.TLSKey, fi.Mode().Perm())
		}
	}
}

// checkManagement says where administrative operations are served (I6) and
// checks the client CA of the management listener: a CA that has expired
// locks every administrator out, one about to expire soon will.
func checkManagement(cfg *Config, now time.Time, ok, warn, fail report) {
	const name = "management listener"
	if cfg.AdminListen == "" {
		ok(name, "off: administrative operations are served on %s", cfg.Listen)
		return
	}
	allow, err := cfg.AdminAllowPrefixes()
	if err != nil {
		return // reported by settings
	}
	peers := make([]string, len(allow))
	wide := false
	for i, p := range allow {
		peers[i] = p.String()
		wide = wide || !p.Addr().IsLoopback()
	}
	where := fmt.Sprintf("%s admits %s", cfg.AdminListen, strings.Join(peers, ", "))
	if cfg.AdminClientCA == "" {
		if wide {
			warn(name, "%s without client certificates; admin_client_ca adds mutual TLS", where)
			return
		}
		ok(name, "%s; no client certificates required", where)
		return
	}
	certs, err := loadClientCAs(cfg.AdminClientCA)
	if err != nil {
		return // reported by settings
	}
	ok(name, "%s; client certificates from %s required", where, cfg.AdminClientCA)
	var valid []*x509.Certificate
	for _, c := range certs {
		switch {
		case !c.IsCA || !c.BasicConstraintsValid:
			warn("management client CA", "%s: %q is not a CA certificate; no client certificate chains to it", cfg.AdminClientCA, c.Subject.CommonName)
		case now.Before(c.NotBefore) || !now.Before(c.NotAfter):
			warn("management client CA", "%s: %q is not valid now (%s to %s)", cfg.AdminClientCA, c.Subject.CommonName,
				c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		default:
			valid = append(valid, c)
		}
	}
	if len(valid) == 0 {
		fail("management client CA", "%s: no CA certificate valid now; no administrator can connect", cfg.AdminClientCA)
		return
	}
	last := valid[0].NotAfter
	for _, c := range valid[1:] {
		if c.NotAfter.After(last) {
			last = c.NotAfter
		}
	}
	if left := last.Sub(now); left < certWarnBefore {
		warn("management client CA", "%s: the last CA certificate expires in %d days (%s)", cfg.AdminClientCA, int(left.Hours()/24), last.UTC().Format(time.RFC3339))
		return
	}
	ok("management client CA", "%d CA certificate(s), valid until %s", len(valid), last.UTC().Format(time.RFC3339))
}
