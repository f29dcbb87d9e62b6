package main

import (
	"crypto/x509"
	"encoding/pem"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/httpapi"
)

var configTestEnv = []string{"PARLEY_DATA", "PARLEY_LISTEN", "PARLEY_DB", "PARLEY_TLS_CERT", "PARLEY_TLS_KEY",
	"PARLEY_HTTP_REDIRECT_LISTEN", "PARLEY_LOG_LEVEL", "PARLEY_LOG_FORMAT", "PARLEY_PUBLIC_URL",
	"PARLEY_TRUSTED_PROXIES", "PARLEY_CONFIG", "PARLEY_ADMIN_LISTEN", "PARLEY_ADMIN_ALLOW", "PARLEY_ADMIN_CLIENT_CA"}

// configTestClearEnv blanks every PARLEY_* variable (empty counts as unset)
// so the developer's environment cannot leak into a test.
func configTestClearEnv(t *testing.T) {
	for _, k := range configTestEnv {
		t.Setenv(k, "")
	}
}

func configTestLoad(t *testing.T, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf := addConfigFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return loadConfig(cf, os.LookupEnv)
}

func configTestWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	const file = `
listen = "file:1"
db = "sqlite:/file.db"
tls_cert = "/file/cert.pem"
tls_key = "/file/key.pem"
http_redirect_listen = "file:80"
log_level = "warn"
log_format = "json"
public_url = "https://file.example"
trusted_proxies = ["10.0.0.0/8", "192.0.2.1"]
admin_listen = "file:9443"
admin_allow = ["10.9.0.0/16", "::1"]
admin_client_ca = "/file/ca.pem"
`
	get := map[string]func(*Config) string{
		"listen":               func(c *Config) string { return c.Listen },
		"db":                   func(c *Config) string { return c.DB },
		"tls-cert":             func(c *Config) string { return c.TLSCert },
		"tls-key":              func(c *Config) string { return c.TLSKey },
		"http-redirect-listen": func(c *Config) string { return c.HTTPRedirectListen },
		"log-level":            func(c *Config) string { return c.LogLevel },
		"log-format":           func(c *Config) string { return c.LogFormat },
		"public-url":           func(c *Config) string { return c.PublicURL },
		"trusted-proxies":      func(c *Config) string { return strings.Join(c.TrustedProxies, ",") },
		"admin-listen":         func(c *Config) string { return c.AdminListen },
		"admin-allow":          func(c *Config) string { return strings.Join(c.AdminAllow, ",") },
		"admin-client-ca":      func(c *Config) string { return c.AdminClientCA },
	}
	fileVal := map[string]string{"listen": "file:1", "db": "sqlite:/file.db", "tls-cert": "/file/cert.pem", "tls-key": "/file/key.pem",
		"http-redirect-listen": "file:80", "log-level": "warn", "log-format": "json", "public-url": "https://file.example",
		"trusted-proxies": "10.0.0.0/8,192.0.2.1", "admin-listen": "file:9443", "admin-allow": "10.9.0.0/16,::1",
		"admin-client-ca": "/file/ca.pem"}
	defVal := map[string]string{"listen": ":8443", "log-level": "info", "log-format": "text"}

	for _, s := range configSettings {
		for _, layers := range []struct {
			name               string
			file, env, flagSet bool
		}{
			{"defaults", false, false, false},
			{"file", true, false, false},
			{"env over file", true, true, false},
			{"flag over env and file", true, true, true},
			{"flag over default", false, false, true},
			{"env over default", false, true, false},
		} {
			t.Run(s.flag+"/"+layers.name, func(t *testing.T) {
				configTestClearEnv(t)
				dir := filepath.Join(t.TempDir(), "data")
				t.Setenv("PARLEY_DATA", dir)
				if layers.file {
					configTestWrite(t, filepath.Join(dir, configFileName), file)
				}
				want := defVal[s.flag]
				if layers.file {
					want = fileVal[s.flag]
				}
				if layers.env {
					t.Setenv(s.env, "env-"+s.flag)
					want = "env-" + s.flag
				}
				var args []string
				if layers.flagSet {
					args = []string{"--" + s.flag, "flag-" + s.flag}
					want = "flag-" + s.flag
				}
				cfg, err := configTestLoad(t, args...)
				if err != nil {
					t.Fatal(err)
				}
				if got := get[s.flag](cfg); got != want {
					t.Errorf("%s = %q, want %q", s.flag, got, want)
				}
				if cfg.Data != dir {
					t.Errorf("Data = %q, want %q", cfg.Data, dir)
				}
			})
		}
	}
}

func TestConfigDataAndFile(t *testing.T) {
	configTestClearEnv(t)
	root := t.TempDir()
	dirA, dirB := filepath.Join(root, "a"), filepath.Join(root, "b")

	// Default data dir, no file.
	t.Chdir(root)
	cfg, err := configTestLoad(t)
	if err != nil || cfg.Data != defaultData || cfg.ConfigFile != "" || cfg.Listen != defaultListen {
		t.Fatalf("defaults: %+v %v", cfg, err)
	}

	// --data beats PARLEY_DATA; DIR/parley.toml of the winning DIR is read.
	configTestWrite(t, filepath.Join(dirA, configFileName), `listen = "a:1"`)
	configTestWrite(t, filepath.Join(dirB, configFileName), `listen = "b:1"`)
	t.Setenv("PARLEY_DATA", dirB)
	cfg, err = configTestLoad(t, "--data", dirA)
	if err != nil || cfg.Data != dirA || cfg.Listen != "a:1" || cfg.ConfigFile != filepath.Join(dirA, configFileName) {
		t.Fatalf("--data: %+v %v", cfg, err)
	}

	// An explicit file (flag beats env) may set data when nothing else does.
	explicit := filepath.Join(root, "etc", "parley.toml")
	configTestWrite(t, explicit, `data = "`+dirA+`"`+"\nlisten = \"x:1\"")
	t.Setenv("PARLEY_DATA", "")
	t.Setenv("PARLEY_CONFIG", filepath.Join(root, "nope.toml"))
	cfg, err = configTestLoad(t, "--config", explicit)
	if err != nil || cfg.Data != dirA || cfg.Listen != "x:1" {
		t.Fatalf("--config: %+v %v", cfg, err)
	}
	// ... and PARLEY_CONFIG alone works too, but PARLEY_DATA still wins over its data.
	t.Setenv("PARLEY_CONFIG", explicit)
	t.Setenv("PARLEY_DATA", dirB)
	cfg, err = configTestLoad(t)
	if err != nil || cfg.Data != dirB || cfg.Listen != "x:1" {
		t.Fatalf("PARLEY_CONFIG: %+v %v", cfg, err)
	}

	// A missing explicit file is an error; a missing implicit one is not.
	t.Setenv("PARLEY_CONFIG", "")
	if _, err := configTestLoad(t, "--config", filepath.Join(root, "missing.toml")); err == nil {
		t.Error("missing --config file accepted")
	}
	if _, err := configTestLoad(t, "--data", filepath.Join(root, "empty")); err != nil {
		t.Errorf("missing implicit file: %v", err)
	}

	// DIR/parley.toml may not move the data directory elsewhere.
	configTestWrite(t, filepath.Join(dirB, configFileName), `data = "/elsewhere"`)
	if _, err := configTestLoad(t, "--data", dirB); err == nil || !strings.Contains(err.Error(), "data") {
		t.Errorf("implicit file moved data: %v", err)
	}

	// A world-writable file is refused.
	ww := filepath.Join(root, "ww.toml")
	configTestWrite(t, ww, `listen = ":1"`)
	if err := os.Chmod(ww, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := configTestLoad(t, "--config", ww); err == nil || !strings.Contains(err.Error(), "world-writable") {
		t.Errorf("world-writable config: %v", err)
	}
}

func TestConfigStrictTOML(t *testing.T) {
	configTestClearEnv(t)
	dir := t.TempDir()
	for _, tc := range []struct{ content, wantKey string }{
		{`tls_crt = "/x.pem"`, `"tls_crt"`},
		{"listen = \":1\"\npassword_min_length = 4", `"password_min_length"`},
		{"[kms]\nkeyring = \"/k\"", `"kms.keyring"`},
		{`trusted_proxies = "10.0.0.0/8"`, "trusted_proxies"}, // wrong type
	} {
		p := filepath.Join(dir, "c.toml")
		configTestWrite(t, p, tc.content)
		_, err := configTestLoad(t, "--config", p)
		if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
			t.Errorf("%q: err = %v, want mention of %s", tc.content, err, tc.wantKey)
		}
	}
	// A syntax error must not echo the line, which may hold a password.
	p := filepath.Join(dir, "bad.toml")
	configTestWrite(t, p, "db = \"postgres://u:s3cretpw@h/db?sslmode=verify-full\nlisten = 1")
	_, err := configTestLoad(t, "--config", p)
	if err == nil || strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("syntax error leaks or passes: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	configTestWrite(t, cert, "x")
	configTestWrite(t, key, "x")
	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr string // "" = valid
	}{
		{"defaults", func(c *Config) {}, ""},
		{"sqlite DSN", func(c *Config) { c.DB = "sqlite:/var/lib/parley/p.db" }, ""},
		{"postgres verify-full", func(c *Config) {
			c.DB = "postgres://u:p@db.internal:5432/parley?sslmode=verify-full&sslrootcert=/ca.pem"
		}, ""},
		{"postgresql scheme", func(c *Config) { c.DB = "postgresql://db/parley?sslmode=verify-full" }, ""},
		{"postgres sslmode=disable", func(c *Config) { c.DB = "postgres://db/parley?sslmode=disable" }, "verify-full"},
		{"postgres sslmode=require", func(c *Config) { c.DB = "postgres://db/parley?sslmode=require" }, "verify-full"},
		{"postgres no sslmode", func(c *Config) { c.DB = "postgres://db/parley" }, "verify-full"},
		{"postgres sslmode twice", func(c *Config) { c.DB = "postgres://db/p?sslmode=verify-full&sslmode=disable" }, "verify-full"},
		{"postgres keyword DSN", func(c *Config) { c.DB = "host=db sslmode=verify-full" }, "URL"},
		{"mysql", func(c *Config) { c.DB = "mysql://db/parley" }, "not supported"},
		{"sqlite no path", func(c *Config) { c.DB = "sqlite:" }, "path"},
		{"cert without key", func(c *Config) { c.TLSCert = cert }, "both or neither"},
		{"key without cert", func(c *Config) { c.TLSKey = key }, "both or neither"},
		{"cert pair readable", func(c *Config) { c.TLSCert, c.TLSKey = cert, key }, ""},
		{"cert pair missing", func(c *Config) { c.TLSCert, c.TLSKey = cert, filepath.Join(dir, "none.pem") }, "none.pem"},
		{"cert is a dir", func(c *Config) { c.TLSCert, c.TLSKey = dir, key }, "regular"},
		{"listen no port", func(c *Config) { c.Listen = "localhost" }, "listen"},
		{"listen bad port", func(c *Config) { c.Listen = ":99999" }, "listen"},
		{"listen bad host", func(c *Config) { c.Listen = "a/b:1" }, "listen"},
		{"listen ipv6", func(c *Config) { c.Listen = "[::1]:8443" }, ""},
		{"redirect ok", func(c *Config) { c.HTTPRedirectListen = ":80" }, ""},
		{"redirect same as listen", func(c *Config) { c.HTTPRedirectListen = c.Listen }, "same address"},
		{"redirect bad", func(c *Config) { c.HTTPRedirectListen = "80" }, "http_redirect_listen"},
		{"cidrs", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/8", "::1", "2001:db8::/32"} }, ""},
		{"bad cidr", func(c *Config) { c.TrustedProxies = []string{"10.0.0.0/33"} }, "trusted_proxies"},
		{"hostname as proxy", func(c *Config) { c.TrustedProxies = []string{"proxy.local"} }, "trusted_proxies"},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, "log_level"},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "log_format"},
		{"public url", func(c *Config) { c.PublicURL = "https://chat.example.com" }, ""},
		{"public url http", func(c *Config) { c.PublicURL = "http://chat.example.com" }, "https"},
		{"public url path", func(c *Config) { c.PublicURL = "https://chat.example.com/x?y" }, "host[:port] only"},
		{"empty data", func(c *Config) { c.Data = "" }, "data"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			tc.mod(c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
	// All problems are reported at once.
	c := defaultConfig()
	c.Listen, c.LogFormat, c.DB = "x", "xml", "postgres://db/p?sslmode=disable"
	if err := c.Validate(); err == nil || len(err.(interface{ Unwrap() []error }).Unwrap()) != 3 {
		t.Errorf("want 3 joined errors, got %v", err)
	}
}

func TestConfigRedactedDSN(t *testing.T) {
	for dsn, want := range map[string]string{
		"":                 "sqlite:" + filepath.Join("d", "parley.db"),
		"sqlite:/var/p.db": "sqlite:/var/p.db",
		"postgres://u:hunter2@db/p?sslmode=verify-full":             "postgres://u:REDACTED@db/p?sslmode=verify-full",
		"postgres://db/p?password=hunter2&sslmode=verify-full":      "postgres://db/p?password=REDACTED&sslmode=verify-full",
		"postgres://u@db/p?sslpassword=hunter2&sslmode=verify-full": "postgres://u@db/p?sslmode=verify-full&sslpassword=REDACTED",
		"host=db password=hunter2":                                  "(unparseable DSN)",
	} {
		c := &Config{Data: "d", DB: dsn}
		got := c.RedactedDSN()
		if got != want || strings.Contains(got, "hunter2") {
			t.Errorf("RedactedDSN(%q) = %q, want %q", dsn, got, want)
		}
	}
}

func TestConfigDerived(t *testing.T) {
	c := defaultConfig()
	if c.HTTPSPort() != "8443" || c.DBDriver() != "sqlite" {
		t.Errorf("HTTPSPort %q DBDriver %q", c.HTTPSPort(), c.DBDriver())
	}
	c.PublicURL = "https://chat.example.com"
	c.DB = "postgres://db/p?sslmode=verify-full"
	if c.HTTPSPort() != "443" || c.DBDriver() != "postgres" {
		t.Errorf("HTTPSPort %q DBDriver %q", c.HTTPSPort(), c.DBDriver())
	}
	c.PublicURL = "https://chat.example.com:9443"
	if c.HTTPSPort() != "9443" {
		t.Errorf("HTTPSPort %q", c.HTTPSPort())
	}
	c.TrustedProxies = []string{"10.1.2.3/8", "192.0.2.7", "2001:db8::1"}
	p, err := c.TrustedProxyPrefixes()
	var got []string
	for _, x := range p {
		got = append(got, x.String())
	}
	if err != nil || !slices.Equal(got, []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::1/128"}) {
		t.Errorf("TrustedProxyPrefixes = %v, %v", got, err)
	}
}

// configTestCA writes a PEM CA certificate (self-signed, IsCA) and returns
// its path.
func configTestCA(t *testing.T, dir, name string) string {
	t.Helper()
	certPEM, _, err := httpapi.GenerateSelfSigned([]string{name}, time.Now(), 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".pem")
	configTestWrite(t, p, string(certPEM))
	return p
}

// TestConfigValidateAdmin: the management listener's settings (I6) are
// checked strictly, and none of them may be set without admin_listen, which
// would leave administration on the user listener while the operator
// believes it confined.
func TestConfigValidateAdmin(t *testing.T) {
	dir := t.TempDir()
	ca := configTestCA(t, dir, "ops-ca")
	bundle := filepath.Join(dir, "bundle.pem")
	a, _ := os.ReadFile(ca)
	b, _ := os.ReadFile(configTestCA(t, dir, "other-ca"))
	configTestWrite(t, bundle, string(a)+string(b))
	withKey := filepath.Join(dir, "with-key.pem")
	configTestWrite(t, withKey, string(a)+string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte("hunter2-key-bytes")})))
	junk := filepath.Join(dir, "junk.pem")
	configTestWrite(t, junk, "not a certificate")
	badDER := filepath.Join(dir, "bad-der.pem")
	configTestWrite(t, badDER, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("hunter2")})))

	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr string // "" = valid
	}{
		{"off", func(c *Config) {}, ""},
		{"loopback", func(c *Config) { c.AdminListen = "127.0.0.1:9443" }, ""},
		{"with allow-list", func(c *Config) {
			c.AdminListen, c.AdminAllow = "[::]:9443", []string{"10.20.0.0/16", "192.0.2.7", "2001:db8::/48"}
		}, ""},
		{"with client CA", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", ca }, ""},
		{"with CA bundle", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", bundle }, ""},
		{"bad address", func(c *Config) { c.AdminListen = "9443" }, "admin_listen"},
		{"bad port", func(c *Config) { c.AdminListen = "127.0.0.1:99999" }, "admin_listen"},
		{"same as listen", func(c *Config) { c.AdminListen = c.Listen }, "admin_listen: same address as listen"},
		{"listen port on loopback", func(c *Config) { c.AdminListen = "127.0.0.1:8443" }, "same address as listen"},
		{"wildcard collides", func(c *Config) { c.Listen, c.AdminListen = "10.0.0.5:9443", "0.0.0.0:9443" }, "same address as listen"},
		{"other host, same port", func(c *Config) { c.Listen, c.AdminListen = "10.0.0.5:9443", "127.0.0.1:9443" }, ""},
		{"same as redirect", func(c *Config) { c.HTTPRedirectListen, c.AdminListen = ":80", "127.0.0.1:80" }, "same address as http_redirect_listen"},
		{"bad cidr", func(c *Config) { c.AdminListen, c.AdminAllow = "127.0.0.1:9443", []string{"10.0.0.0/33"} }, "admin_allow"},
		{"hostname in allow-list", func(c *Config) { c.AdminListen, c.AdminAllow = "127.0.0.1:9443", []string{"ops.example.com"} }, "admin_allow"},
		{"allow without listener", func(c *Config) { c.AdminAllow = []string{"10.0.0.0/8"} }, "admin_allow: set, but admin_listen is not"},
		{"CA without listener", func(c *Config) { c.AdminClientCA = ca }, "admin_client_ca: set, but admin_listen is not"},
		{"CA missing", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", filepath.Join(dir, "none.pem") }, "none.pem"},
		{"CA is a directory", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", dir }, "regular"},
		{"CA not PEM", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", junk }, "no PEM certificate"},
		{"CA file holds a key", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", withKey }, `block 2 is a "PRIVATE KEY"`},
		{"CA does not parse", func(c *Config) { c.AdminListen, c.AdminClientCA = "127.0.0.1:9443", badDER }, "certificate 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			tc.mod(c)
			err := c.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("error echoes file content: %v", err)
			}
		})
	}
}

func TestConfigAdminDerived(t *testing.T) {
	c := defaultConfig()
	c.AdminListen = "127.0.0.1:9443"
	p, err := c.AdminAllowPrefixes()
	if err != nil || len(p) != 2 || p[0].String() != "127.0.0.0/8" || p[1].String() != "::1/128" {
		t.Errorf("default allow-list = %v, %v; want loopback only", p, err)
	}
	c.AdminAllow = []string{"10.20.30.40/16", "192.0.2.7"}
	p, err = c.AdminAllowPrefixes()
	if err != nil || len(p) != 2 || p[0].String() != "10.20.0.0/16" || p[1].String() != "192.0.2.7/32" {
		t.Errorf("allow-list = %v, %v", p, err)
	}
	if pool, err := c.AdminClientCAPool(); pool != nil || err != nil {
		t.Errorf("no client CA: %v, %v", pool, err)
	}
	c.AdminClientCA = configTestCA(t, t.TempDir(), "ops-ca")
	pool, err := c.AdminClientCAPool()
	if err != nil || pool == nil || pool.Equal(x509.NewCertPool()) {
		t.Errorf("client CA pool: %v, %v", pool, err)
	}
}
