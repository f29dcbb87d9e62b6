package main

import (
	"bytes"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
)

func TestMinGoVersionMatchesGoMod(t *testing.T) {
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^toolchain (go\S+)$`).FindSubmatch(mod)
	if m == nil {
		t.Fatal("go.mod has no toolchain line")
	}
	if string(m[1]) != minGoVersion {
		t.Fatalf("go.mod toolchain %s, minGoVersion %s: bump both together", m[1], minGoVersion)
	}
}

func TestWarnOutdatedToolchain(t *testing.T) {
	for _, tc := range []struct {
		built string
		warn  bool
	}{
		{"go1.26.8", true},
		{"go1.25.3", true},
		{minGoVersion, false},
		{"go1.27.3", false},
		{"go1.30rc1", false},
	} {
		var buf bytes.Buffer
		got := warnOutdatedToolchain(slog.New(slog.NewTextHandler(&buf, nil)), tc.built)
		if got != tc.warn || strings.Contains(buf.String(), "known vulnerabilities") != tc.warn {
			t.Errorf("%s: warned=%v log=%q, want warn %v", tc.built, got, buf.String(), tc.warn)
		}
	}
}
