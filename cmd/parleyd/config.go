package main

// Process configuration of parleyd: where it listens, where its data and
// database are, which TLS certificate it serves. Security *policy*
// (passwords, sessions, MFA, retention, isolation) is not here: it is data in
// the database, changed through the audited admin API (DESIGN §7), so that
// nobody with shell access can quietly weaken it in a file.
//
// Sources, strongest first: command-line flags, environment (PARLEY_*),
// the TOML file (--config FILE, PARLEY_CONFIG, else DIR/parley.toml if it
// exists), built-in defaults. Empty environment variables count as unset.

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Defaults (API-CORE "Server process").
const (
	defaultData      = "./parley-data"
	defaultListen    = ":8443"
	defaultLogLevel  = "info"
	defaultLogFormat = "text"
	configFileName   = "parley.toml"
)

// defaultAdminAllow admits only this host to the management listener: a
// wider network is the operator's explicit choice (I6).
var defaultAdminAllow = []string{"127.0.0.0/8", "::1/128"}

// Config holds the process settings of parleyd.
type Config struct {
	Data               string   `toml:"data"`                 // data directory (API-CORE: --data, PARLEY_DATA)
	Listen             string   `toml:"listen"`               // HTTPS listen address HOST:PORT
	DB                 string   `toml:"db"`                   // DSN; "" = SQLite file DIR/parley.db
	TLSCert            string   `toml:"tls_cert"`             // PEM chain; with TLSKey, replaces DIR/tls/
	TLSKey             string   `toml:"tls_key"`              // PEM private key
	HTTPRedirectListen string   `toml:"http_redirect_listen"` // plain-HTTP redirect listener; "" = off (T1)
	LogLevel           string   `toml:"log_level"`            // debug, info, warn, error
	LogFormat          string   `toml:"log_format"`           // text, json
	PublicURL          string   `toml:"public_url"`           // https://host[:port] clients use; Origin checks, redirects
	TrustedProxies     []string `toml:"trusted_proxies"`      // CIDRs whose X-Forwarded-For is believed; none by default

	// Management listener (I6). When AdminListen is set, administrative
	// operations are served there only, to peers in AdminAllow (loopback
	// by default) and, with AdminClientCA, only to clients holding a
	// certificate from that CA. Unset: everything on Listen (API-CORE).
	AdminListen   string   `toml:"admin_listen"`    // HOST:PORT; "" = off
	AdminAllow    []string `toml:"admin_allow"`     // CIDRs or IPs of the TCP peers admitted
	AdminClientCA string   `toml:"admin_client_ca"` // PEM CA bundle; set = mutual TLS required

	// One-time codes by e-mail (A1), notify.go. None by default: nothing
	// is sent anywhere unless configured (P3). The SMTP password comes from
	// PARLEY_SMTP_PASSWORD only, never a file or flag, and prints REDACTED.
	SMTPHost     string   `toml:"smtp_host"`
	SMTPPort     int      `toml:"smtp_port"` // default 587 (465 with smtp_tls = "implicit")
	SMTPFrom     string   `toml:"smtp_from"`
	SMTPUsername string   `toml:"smtp_username"`
	SMTPTLS      string   `toml:"smtp_tls"` // starttls (default), implicit, none
	SMTPPassword redacted `toml:"-"`
	NotifyFile   string   `toml:"notify_file"` // development sink: e-mail and SMS as JSON lines, 0600

	// ConfigFile is the TOML file that was read, "" if none. Not a setting.
	ConfigFile string `toml:"-"`
}

func defaultConfig() *Config {
	return &Config{Data: defaultData, Listen: defaultListen, LogLevel: defaultLogLevel, LogFormat: defaultLogFormat}
}

// configSetting ties one setting to its flag and environment variable.
type configSetting struct {
	flag, env, usage string
	set              func(c *Config, v string)
}

// configSettings are every setting except --data and --config, which decide
// where the file is and so are resolved first.
var configSettings = []configSetting{
	{"listen", "PARLEY_LISTEN", "HTTPS listen address `HOST:PORT` (default " + defaultListen + ")", func(c *Config, v string) { c.Listen = v }},
	{"db", "PARLEY_DB", "database `DSN`: postgres://…?sslmode=verify-full or sqlite:PATH (default: SQLite in DIR/parley.db)", func(c *Config, v string) { c.DB = v }},
	{"tls-cert", "PARLEY_TLS_CERT", "TLS certificate chain `FILE` (PEM); default: self-signed DIR/tls/cert.pem", func(c *Config, v string) { c.TLSCert = v }},
	{"tls-key", "PARLEY_TLS_KEY", "TLS private key `FILE` (PEM), with --tls-cert", func(c *Config, v string) { c.TLSKey = v }},
	{"http-redirect-listen", "PARLEY_HTTP_REDIRECT_LISTEN", "optional plain-HTTP `HOST:PORT` that only redirects to HTTPS (default off)", func(c *Config, v string) { c.HTTPRedirectListen = v }},
	{"log-level", "PARLEY_LOG_LEVEL", "log `level`: debug, info, warn, error (default " + defaultLogLevel + ")", func(c *Config, v string) { c.LogLevel = v }},
	{"log-format", "PARLEY_LOG_FORMAT", "log `format`: text or json (default " + defaultLogFormat + ")", func(c *Config, v string) { c.LogFormat = v }},
	{"public-url", "PARLEY_PUBLIC_URL", "public `URL` (https://host[:port]) for Origin checks and redirects", func(c *Config, v string) { c.PublicURL = v }},
	{"trusted-proxies", "PARLEY_TRUSTED_PROXIES", "comma-separated `CIDRs` of reverse proxies whose X-Forwarded-For is trusted (default none)", func(c *Config, v string) { c.TrustedProxies = splitList(v) }},
	{"admin-listen", "PARLEY_ADMIN_LISTEN", "management listener `HOST:PORT`: administrative operations move there (default off: served on --listen)", func(c *Config, v string) { c.AdminListen = v }},
	{"admin-allow", "PARLEY_ADMIN_ALLOW", "comma-separated `CIDRs` admitted to --admin-listen, by TCP peer address (default " + strings.Join(defaultAdminAllow, ",") + ")", func(c *Config, v string) { c.AdminAllow = splitList(v) }},
	{"admin-client-ca", "PARLEY_ADMIN_CLIENT_CA", "CA certificates `FILE` (PEM); when set, --admin-listen requires a client certificate issued by them", func(c *Config, v string) { c.AdminClientCA = v }},
}

// configFlags are the flags of a subcommand that loads the configuration.
type configFlags struct {
	fs     *flag.FlagSet
	data   string
	config string
	values map[string]*string
}

func addConfigFlags(fs *flag.FlagSet) *configFlags {
	cf := &configFlags{fs: fs, values: map[string]*string{}}
	fs.StringVar(&cf.data, "data", "", "data `DIR` (env PARLEY_DATA, default "+defaultData+")")
	fs.StringVar(&cf.config, "config", "", "TOML config `FILE` (env PARLEY_CONFIG, default DIR/"+configFileName+" if present)")
	for _, s := range configSettings {
		cf.values[s.flag] = fs.String(s.flag, "", s.usage+" (env "+s.env+")")
	}
	return cf
}

// lookupFunc is os.LookupEnv; tests pass their own.
type lookupFunc func(string) (string, bool)

func envValue(lookup lookupFunc, name string) (string, bool) {
	v, ok := lookup(name)
	return v, ok && v != ""
}

// loadConfig resolves the configuration from flags (already parsed),
// environment and file. It does not validate; see (*Config).Validate.
func loadConfig(cf *configFlags, lookup lookupFunc) (*Config, error) {
	set := map[string]bool{}
	cf.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	cfg := defaultConfig()
	data, dataGiven := "", true
	switch v, ok := envValue(lookup, "PARLEY_DATA"); {
	case set["data"]:
		data = cf.data
	case ok:
		data = v
	default:
		data, dataGiven = defaultData, false
	}

	path, explicit := "", true
	switch v, ok := envValue(lookup, "PARLEY_CONFIG"); {
	case set["config"]:
		path = cf.config
	case ok:
		path = v
	default:
		path, explicit = filepath.Join(data, configFileName), false
	}
	cfg.Data = "" // so that a "data" key in the file is visible below
	if err := decodeConfigFile(path, explicit, cfg); err != nil {
		return nil, err
	}
	fileData := cfg.Data
	if !explicit && fileData != "" && filepath.Clean(fileData) != filepath.Clean(data) {
		return nil, fmt.Errorf("config %s: \"data\" may not point away from the directory the file is in; use --data", path)
	}
	cfg.Data = data
	if !dataGiven && fileData != "" {
		cfg.Data = fileData
	}

	for _, s := range configSettings {
		if v, ok := envValue(lookup, s.env); ok {
			s.set(cfg, v)
		}
	}
	for _, s := range configSettings {
		if set[s.flag] {
			s.set(cfg, *cf.values[s.flag])
		}
	}
	for _, s := range notifySettings { // file or environment only (notify.go)
		if v, ok := envValue(lookup, s.env); ok {
			s.set(cfg, v)
		}
	}
	return cfg, nil
}

// decodeConfigFile reads path into cfg, strictly: an unknown key is an error
// that names it, so a typo ("tls_crt") cannot silently fall back to a
// default. A missing file is an error only if it was asked for explicitly.
func decodeConfigFile(path string, explicit bool, cfg *Config) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if fi.IsDir() {
		return fmt.Errorf("config %s: is a directory", path)
	}
	// A file others can write could point TLS or the database elsewhere.
	if fi.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("config %s: is world-writable (mode %04o); chmod 0600 it", path, fi.Mode().Perm())
	}
	md, err := toml.DecodeFile(path, cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			// Position and message only: never the offending line, which may
			// hold a DSN password (D6).
			return fmt.Errorf("config %s: line %d: %s", path, pe.Position.Line, pe.Message)
		}
		return fmt.Errorf("config %s: %w", path, err)
	}
	if keys := md.Undecoded(); len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = strconv.Quote(k.String())
		}
		return fmt.Errorf("config %s: unknown key %s (process settings only; security policy lives in the database)", path, strings.Join(names, ", "))
	}
	cfg.ConfigFile = path
	return nil
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks every setting and returns all problems at once
// (errors.Join), so that `parleyd config check` can list them.
func (c *Config) Validate() error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	if c.Data == "" {
		add("data: empty")
	}
	if err := validateListen(c.Listen); err != nil {
		add("listen: %v", err)
	}
	if c.HTTPRedirectListen != "" {
		if err := validateListen(c.HTTPRedirectListen); err != nil {
			add("http_redirect_listen: %v", err)
		} else if c.HTTPRedirectListen == c.Listen {
			add("http_redirect_listen: same address as listen")
		}
	}
	switch {
	case (c.TLSCert == "") != (c.TLSKey == ""):
		add("tls_cert and tls_key: give both or neither")
	case c.TLSCert != "":
		for _, f := range []string{c.TLSCert, c.TLSKey} {
			if err := readable(f); err != nil {
				add("tls: %v", err)
			}
		}
	}
	if err := validateDSN(c.DB); err != nil {
		add("db: %v", err)
	}
	if _, err := parseLogLevel(c.LogLevel); err != nil {
		add("log_level: %v", err)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		add("log_format: %q is not text or json", c.LogFormat)
	}
	if c.PublicURL != "" {
		if err := validatePublicURL(c.PublicURL); err != nil {
			add("public_url: %v", err)
		}
	}
	if _, err := c.TrustedProxyPrefixes(); err != nil {
		add("trusted_proxies: %v", err)
	}
	errs = append(errs, c.validateAdmin()...)
	errs = append(errs, c.validateNotify()...)
	return errors.Join(errs...)
}

func validateListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q: %v", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: bad port", addr)
	}
	if host != "" && net.ParseIP(host) == nil && strings.Trim(strings.ToLower(host), "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
		return fmt.Errorf("%q: bad host", addr)
	}
	return nil
}

func readable(path string) error {
	f, err := os.Open(path) // #nosec G304 -- the operator's own config names this file; reading it is the point
	if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	return nil
}

// validateDSN accepts sqlite:PATH and postgres:// URLs. PostgreSQL must use
// TLS with full certificate and host-name verification (T5): sslmode
// verify-full, stated exactly once. Key/value DSNs are refused so there is
// one syntax to check.
func validateDSN(dsn string) error {
	if dsn == "" {
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return errors.New("not a URL; use postgres://… or sqlite:PATH")
	}
	switch u.Scheme {
	case "sqlite":
		if u.Opaque == "" && u.Path == "" {
			return errors.New("sqlite: no file path")
		}
		return nil
	case "postgres", "postgresql":
		if u.Host == "" {
			return errors.New("postgres: no host")
		}
		if m := u.Query()["sslmode"]; len(m) != 1 || m[0] != "verify-full" {
			return errors.New("postgres: sslmode must be verify-full (T5: TLS with certificate verification)")
		}
		return nil
	default:
		return fmt.Errorf("scheme %q not supported (sqlite, postgres)", u.Scheme)
	}
}

func validatePublicURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return errors.New("not a URL")
	case u.Scheme != "https":
		return errors.New("must be https:// (T1)")
	case u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return errors.New("must be https://host[:port] only")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return errors.New("bad port")
		}
	}
	return nil
}

// TrustedProxyPrefixes parses TrustedProxies; a bare IP is a single host.
func (c *Config) TrustedProxyPrefixes() ([]netip.Prefix, error) {
	return parsePrefixes(c.TrustedProxies)
}

// parsePrefixes parses CIDRs (masked) and bare IPs (single hosts).
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR or IP", s)
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// HTTPSPort is the port clients use for HTTPS, for RedirectToHTTPS: the
// port of PublicURL when set (behind a load balancer), else Listen's.
func (c *Config) HTTPSPort() string {
	if u, err := url.Parse(c.PublicURL); err == nil && c.PublicURL != "" {
		if p := u.Port(); p != "" {
			return p
		}
		return "443"
	}
	_, port, _ := net.SplitHostPort(c.Listen)
	return port
}

// DBDriver is "sqlite" or "postgres".
func (c *Config) DBDriver() string {
	if strings.HasPrefix(c.DB, "postgres://") || strings.HasPrefix(c.DB, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// RedactedDSN is the database DSN safe to log or print: passwords (in the
// URL or as a password/sslpassword parameter) are replaced (D6). An
// unparseable DSN is not shown at all.
func (c *Config) RedactedDSN() string {
	if c.DB == "" {
		return "sqlite:" + filepath.Join(c.Data, "parley.db")
	}
	u, err := url.Parse(c.DB)
	if err != nil || u.Scheme == "" {
		return "(unparseable DSN)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "REDACTED")
		}
	}
	q := u.Query()
	changed := false
	for k := range q {
		if lk := strings.ToLower(k); lk == "password" || lk == "sslpassword" {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func parseLogLevel(s string) (slog.Level, error) {
	var l slog.Level
	switch strings.ToLower(s) {
	case "debug", "info", "warn", "error":
		return l, l.UnmarshalText([]byte(s))
	}
	return l, fmt.Errorf("%q is not debug, info, warn or error", s)
}

// validateAdmin checks the management-listener settings (I6).
func (c *Config) validateAdmin() []error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if c.AdminListen == "" {
		// Without a listener these would silently do nothing, and the
		// operator would believe administration is confined.
		if len(c.AdminAllow) > 0 {
			add("admin_allow: set, but admin_listen is not")
		}
		if c.AdminClientCA != "" {
			add("admin_client_ca: set, but admin_listen is not")
		}
		return errs
	}
	if err := validateListen(c.AdminListen); err != nil {
		add("admin_listen: %v", err)
	} else {
		for name, other := range map[string]string{"listen": c.Listen, "http_redirect_listen": c.HTTPRedirectListen} {
			if other != "" && sameSocket(c.AdminListen, other) {
				add("admin_listen: same address as %s (%s); the management listener needs its own port", name, other)
			}
		}
	}
	if _, err := c.AdminAllowPrefixes(); err != nil {
		add("admin_allow: %v", err)
	}
	if c.AdminClientCA != "" {
		if _, err := loadClientCAs(c.AdminClientCA); err != nil {
			add("admin_client_ca: %v", err)
		}
	}
	return errs
}

// sameSocket reports whether two valid listen addresses would bind the same
// port: equal ports on equal hosts, or on a wildcard host. Port 0 (any free
// port) never collides.
func sameSocket(a, b string) bool {
	ha, pa, _ := net.SplitHostPort(a)
	hb, pb, _ := net.SplitHostPort(b)
	na, _ := strconv.Atoi(pa)
	nb, _ := strconv.Atoi(pb)
	if na == 0 || na != nb {
		return false
	}
	wildcard := func(h string) bool { return h == "" || h == "0.0.0.0" || h == "::" }
	return wildcard(ha) || wildcard(hb) || strings.EqualFold(ha, hb)
}

// AdminAllowPrefixes parses AdminAllow: the networks whose TCP peers may
// connect to the management listener, loopback only unless configured.
func (c *Config) AdminAllowPrefixes() ([]netip.Prefix, error) {
	if len(c.AdminAllow) == 0 {
		return parsePrefixes(defaultAdminAllow)
	}
	return parsePrefixes(c.AdminAllow)
}

// AdminClientCAPool returns the CAs whose client certificates the
// management listener requires; nil when AdminClientCA is not set.
func (c *Config) AdminClientCAPool() (*x509.CertPool, error) {
	if c.AdminClientCA == "" {
		return nil, nil
	}
	certs, err := loadClientCAs(c.AdminClientCA)
	if err != nil {
		return nil, fmt.Errorf("admin_client_ca: %w", err)
	}
	pool := x509.NewCertPool()
	for _, cert := range certs {
		pool.AddCert(cert)
	}
	return pool, nil
}

// loadClientCAs reads a PEM bundle of CA certificates strictly: every block
// must be a certificate that parses, and there must be one at least.
// x509.CertPool.AppendCertsFromPEM would skip anything else silently, so a
// wrong file (a private key, a DER file) would go unnoticed. Errors name
// block types, never content.
func loadClientCAs(path string) ([]*x509.Certificate, error) {
	if err := readable(path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's own config names this file; reading it is the point
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("%s: PEM block %d is a %q, not a CERTIFICATE (the file holds CA certificates only)", path, n, block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %v", path, n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificate found", path)
	}
	return certs, nil
}
