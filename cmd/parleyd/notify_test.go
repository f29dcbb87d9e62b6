package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley/notify"
)

func notifyTestClearEnv(t *testing.T) {
	configTestClearEnv(t)
	for _, k := range []string{"PARLEY_SMTP_HOST", "PARLEY_SMTP_PORT", "PARLEY_SMTP_FROM", "PARLEY_SMTP_USERNAME",
		"PARLEY_SMTP_TLS", "PARLEY_SMTP_PASSWORD", "PARLEY_NOTIFY_FILE"} {
		t.Setenv(k, "")
	}
}

func TestNotifySettingsValidate(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "outbox.jsonl")
	tests := []struct {
		name    string
		mod     func(c *Config)
		wantErr string
	}{
		{"none", func(c *Config) {}, ""},
		{"smtp starttls", func(c *Config) { c.SMTPHost, c.SMTPFrom = "smtp.example.com", "parley@example.com" }, ""},
		{"smtp with auth", func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.SMTPUsername, c.SMTPPassword = "smtp.example.com", "parley@example.com", "u", "pw"
		}, ""},
		{"smtp implicit", func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.SMTPTLS = "smtp.example.com", "parley@example.com", "implicit"
		}, ""},
		{"smtp plain, no auth", func(c *Config) { c.SMTPHost, c.SMTPFrom, c.SMTPTLS = "relay.local", "parley@example.com", "none" }, ""},
		{"smtp plain with auth", func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.SMTPTLS, c.SMTPUsername, c.SMTPPassword = "relay.local", "parley@example.com", "none", "u", "pw"
		}, "without TLS"},
		{"smtp bad tls", func(c *Config) { c.SMTPHost, c.SMTPFrom, c.SMTPTLS = "smtp.example.com", "parley@example.com", "ssl" }, "tls"},
		{"smtp no from", func(c *Config) { c.SMTPHost = "smtp.example.com" }, "from"},
		{"smtp bad port", func(c *Config) { c.SMTPHost, c.SMTPFrom, c.SMTPPort = "smtp.example.com", "parley@example.com", -1 }, "port"},
		{"smtp user without password", func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.SMTPUsername = "smtp.example.com", "parley@example.com", "u"
		}, "both"},
		{"smtp settings without host", func(c *Config) { c.SMTPFrom = "parley@example.com" }, "smtp_host"},
		{"both providers", func(c *Config) {
			c.SMTPHost, c.SMTPFrom, c.NotifyFile = "smtp.example.com", "parley@example.com", abs
		}, "choose one"},
		{"file", func(c *Config) { c.NotifyFile = abs }, ""},
		{"file relative", func(c *Config) { c.NotifyFile = "outbox.jsonl" }, "absolute"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := defaultConfig()
			tc.mod(c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestSMTPPasswordFromEnvOnly: the password is read from
// PARLEY_SMTP_PASSWORD, refused in the file, and never printed (D6).
func TestSMTPPasswordFromEnvOnly(t *testing.T) {
	notifyTestClearEnv(t)
	dir := t.TempDir()
	t.Setenv("PARLEY_SMTP_HOST", "smtp.example.com")
	t.Setenv("PARLEY_SMTP_FROM", "parley@example.com")
	t.Setenv("PARLEY_SMTP_USERNAME", "mailer")
	t.Setenv("PARLEY_SMTP_PASSWORD", "s3cret-pw")
	t.Setenv("PARLEY_SMTP_PORT", "2525")
	cfg, err := configTestLoad(t, "--data", dir)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.SMTPPassword) != "s3cret-pw" || cfg.SMTPPort != 2525 || cfg.SMTPHost != "smtp.example.com" {
		t.Fatalf("loaded %+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := cfg.Notifier(log)
	if err != nil || s == nil || s.Supports("sms") || !s.Supports("email") {
		t.Fatalf("notifier %v, %v", s, err)
	}
	log.Info("config", "cfg", cfg, "password", cfg.SMTPPassword)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg.SMTPPassword), logs.String()} {
		if strings.Contains(out, "s3cret-pw") {
			t.Fatalf("password printed: %s", out)
		}
	}

	file := filepath.Join(dir, "parley.toml")
	configTestWrite(t, file, "smtp_password = \"s3cret-pw\"\n")
	if _, err := configTestLoad(t, "--data", dir); err == nil || !strings.Contains(err.Error(), "smtp_password") {
		t.Fatalf("password in the file: got %v, want unknown key", err)
	}
}

func TestNotifierNoneAndFile(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	c := defaultConfig()
	if s, err := c.Notifier(log); err != nil || s != nil {
		t.Fatalf("default provider = %v, %v; want none (P3)", s, err)
	}
	c.NotifyFile = filepath.Join(t.TempDir(), "outbox.jsonl")
	s, err := c.Notifier(log)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*notify.FileSink); !ok || !s.Supports("sms") {
		t.Fatalf("file provider = %T", s)
	}
}
