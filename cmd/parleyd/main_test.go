package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestMainDispatch(t *testing.T) {
	configTestClearEnv(t)
	tests := []struct {
		args   []string
		status int
		stdout string // substring expected on stdout
		stderr string // substring expected on stderr
	}{
		{nil, 2, "", "usage: parleyd"},
		{[]string{"bogus"}, 2, "", `unknown command "bogus"`},
		{[]string{"config"}, 2, "", "parleyd config check"},
		{[]string{"config", "nope"}, 2, "", "parleyd config check"},
		{[]string{"version"}, 0, "parleyd ", ""},
		{[]string{"help"}, 0, "usage: parleyd", ""},
		{[]string{"serve", "--bogus"}, 2, "", "flag provided but not defined"},
		{[]string{"serve", "extra"}, 2, "", "unexpected argument"},
		{[]string{"serve", "-h"}, 0, "", "-listen HOST:PORT"},
		// Invalid configuration stops serve before anything starts (exit 1, reason on stderr).
		{[]string{"serve", "--data", t.TempDir(), "--db", "postgres://db/p?sslmode=disable"}, 1, "", "verify-full"},
		{[]string{"serve", "--data", t.TempDir(), "--tls-cert", "/x.pem"}, 1, "", "both or neither"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			status := run(context.Background(), tc.args, &out, &errOut, os.LookupEnv)
			if status != tc.status || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
				t.Errorf("status %d (want %d)\nstdout: %s\nstderr: %s", status, tc.status, out.String(), errOut.String())
			}
		})
	}
}

func TestMainLogger(t *testing.T) {
	var buf bytes.Buffer
	log, err := newLogger(&buf, "warn", "json")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hidden")
	log.Warn("shown", "detail", "a\nforged=line")
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil || rec["msg"] != "shown" || strings.Count(buf.String(), "\n") != 1 {
		t.Errorf("json logger wrote %q (%v)", buf.String(), err)
	}
	buf.Reset()
	log, _ = newLogger(&buf, "debug", "text")
	log.Debug("d", "v", "x\ny")
	if !strings.Contains(buf.String(), `v="x\ny"`) {
		t.Errorf("text logger wrote %q", buf.String())
	}
	for _, bad := range [][2]string{{"loud", "text"}, {"info", "xml"}} {
		if _, err := newLogger(&buf, bad[0], bad[1]); err == nil {
			t.Errorf("newLogger(%q, %q) accepted", bad[0], bad[1])
		}
	}
}
