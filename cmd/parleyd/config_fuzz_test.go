package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecodeConfigFile feeds arbitrary bytes to the TOML config loader: it
// must never panic, and its errors must never echo a value (D6: the DSN
// line may hold a password), only positions and key names.
func FuzzDecodeConfigFile(f *testing.F) {
	f.Add([]byte("listen = \":8443\"\ndata = \"/var/lib/parley\"\n"))
	f.Add([]byte("db = \"postgres://parley:hunter2@db.example/parley?sslmode=verify-full\"\ntrusted_proxies = [\"10.0.0.0/8\"]\n"))
	f.Add([]byte("db = \"postgres://parley:hunter2@db\" junk\n"))
	f.Add([]byte("db = 'hunter2\n"))
	f.Add([]byte("[table]\nkey = 1\n"))
	f.Add([]byte("log_level = 3\n"))
	f.Add([]byte("tls_crt = \"x\"\n"))
	f.Add([]byte("a = [1, 2, [3, {x = 'hunter2'}]]\n"))
	f.Add([]byte("\xef\xbb\xbfdata = \"\\u0000\"\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "parleyd.toml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := defaultConfig()
		err := decodeConfigFile(path, true, cfg)
		if err == nil {
			return
		}
		msg := err.Error()
		if strings.Contains(string(data), "hunter2") && strings.Contains(msg, "hunter2") && !strings.Contains(msg, "unknown key") {
			t.Errorf("config error echoes a value: %s", msg)
		}
	})
}
