package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigPath(t *testing.T) {
	tests := []struct {
		name string
		flag string
		env  map[string]string
		want string
	}{
		{"flag wins", "/f/c.json", map[string]string{"PARLEY_CONFIG": "/e/c.json", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/f/c.json"},
		{"env next", "", map[string]string{"PARLEY_CONFIG": "/e/c.json", "XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/e/c.json"},
		{"xdg", "", map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/h"}, "/x/parley/config.json"},
		{"relative xdg ignored", "", map[string]string{"XDG_CONFIG_HOME": "rel", "HOME": "/h"}, "/h/.config/parley/config.json"},
		{"home", "", map[string]string{"HOME": "/h"}, "/h/.config/parley/config.json"},
	}
	for _, tt := range tests {
		got, err := configPath(tt.flag, func(k string) string { return tt.env[k] })
		if err != nil || got != tt.want {
			t.Errorf("%s: configPath = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestSaveConfigModes(t *testing.T) {
	xdg := t.TempDir()
	e := &env{getenv: func(k string) string { return map[string]string{"XDG_CONFIG_HOME": xdg}[k] }, stderr: &bytes.Buffer{}}
	path, cfg, err := e.configFile()
	if err != nil {
		t.Fatal(err)
	}
	if *cfg != (config{}) {
		t.Fatalf("missing file: %+v", cfg)
	}
	// parley's own directory exists with a loose mode: it is tightened.
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// An old world-readable file is replaced by a private one.
	if err := os.WriteFile(path, []byte(`{"server":"https://old"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	want := config{Server: "https://localhost:8443", CAFile: "/d/tls/cert.pem", Token: "tok"}
	if err := e.save(path, &want); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != 0o700 {
		t.Errorf("dir mode %v, want 0700", m)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("file mode %v, want 0600", m)
	}
	got, err := loadConfig(path, e.stderr)
	if err != nil || *got != want {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

func TestSaveConfigNewDirs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "config.json")
	if err := saveConfig(path, &config{Token: "x"}, false); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, filepath.Dir(path)); m != 0o700 {
		t.Errorf("new dir mode %v, want 0700", m)
	}
	if m := mode(t, path); m != 0o600 {
		t.Errorf("file mode %v, want 0600", m)
	}
}

func TestSaveConfigLeavesSharedDir(t *testing.T) {
	shared := t.TempDir()
	if err := os.Chmod(shared, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(string) string { return "" }, configFlag: filepath.Join(shared, "c.json")}
	e.getenv = func(k string) string { return map[string]string{"HOME": t.TempDir()}[k] }
	if err := e.save(e.configFlag, &config{}); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, shared); m != 0o755 {
		t.Errorf("a --config directory was changed to %v", m)
	}
}

func TestSaveConfigFailureKeepsOld(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := saveConfig(path, &config{Token: "old"}, false); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if err := saveConfig(path, &config{Token: "new"}, false); err == nil {
		t.Fatal("save into a read-only directory succeeded")
	}
	got, err := loadConfig(path, &bytes.Buffer{})
	if err != nil || got.Token != "old" {
		t.Fatalf("old config damaged: %+v, %v", got, err)
	}
}

func TestLoadConfigChecks(t *testing.T) {
	dir := t.TempDir()
	loose := filepath.Join(dir, "loose.json")
	if err := os.WriteFile(loose, []byte(`{"server":"https://h","token":"t"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var warn bytes.Buffer
	cfg, err := loadConfig(loose, &warn)
	if err != nil || cfg.Token != "t" {
		t.Fatalf("loose: %+v, %v", cfg, err)
	}
	if !strings.Contains(warn.String(), "accessible by other users") {
		t.Errorf("no warning for mode 0644: %q", warn.String())
	}
	if strings.Contains(warn.String(), `"t"`) {
		t.Error("warning shows the token")
	}

	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(bad, &warn); err == nil {
		t.Error("malformed config accepted")
	}
}

// TestSaveConfigRenameFailure works as root too: the target is a directory,
// so the final rename fails after the temporary file was written.
func TestSaveConfigRenameFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := os.MkdirAll(filepath.Join(path, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := saveConfig(path, &config{Token: "new"}, false); err == nil {
		t.Fatal("save over a directory succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
}
