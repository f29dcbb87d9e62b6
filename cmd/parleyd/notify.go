package main

// Notification provider settings (A1 one-time codes): SMTP for production,
// a file sink for development, or none. None is the default: parleyd makes
// no outbound connection unless an operator configured one (P3), and then
// one-time codes are simply not offered.

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strconv"

	"github.com/parleyhq/parley/notify"
)

// redacted is a secret setting (the SMTP password): it prints as REDACTED
// under fmt and slog, so a config dump or log line cannot leak it (D6).
type redacted string

func (r redacted) String() string {
	if r == "" {
		return ""
	}
	return "REDACTED"
}

// GoString is String, for %#v.
func (r redacted) GoString() string { return r.String() }

// LogValue is String, for log/slog.
func (r redacted) LogValue() slog.Value { return slog.StringValue(r.String()) }

// notifySettings are read from the file or the environment; they have no
// flags (a password on a command line shows in ps). The password is read
// from the environment only: its struct field has no TOML key.
var notifySettings = []configSetting{
	{env: "PARLEY_SMTP_HOST", set: func(c *Config, v string) { c.SMTPHost = v }},
	{env: "PARLEY_SMTP_PORT", set: func(c *Config, v string) { c.SMTPPort = atoiOr(v, -1) }},
	{env: "PARLEY_SMTP_FROM", set: func(c *Config, v string) { c.SMTPFrom = v }},
	{env: "PARLEY_SMTP_USERNAME", set: func(c *Config, v string) { c.SMTPUsername = v }},
	{env: "PARLEY_SMTP_TLS", set: func(c *Config, v string) { c.SMTPTLS = v }},
	{env: "PARLEY_SMTP_PASSWORD", set: func(c *Config, v string) { c.SMTPPassword = redacted(v) }},
	{env: "PARLEY_NOTIFY_FILE", set: func(c *Config, v string) { c.NotifyFile = v }},
}

func atoiOr(s string, bad int) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		return bad
	}
	return n
}

// smtpConfig is the SMTP provider's configuration, defaults applied.
func (c *Config) smtpConfig() notify.SMTPConfig {
	port := c.SMTPPort
	if port == 0 {
		port = 587
		if c.SMTPTLS == string(notify.TLSImplicit) {
			port = 465
		}
	}
	return notify.SMTPConfig{Host: c.SMTPHost, Port: port, From: c.SMTPFrom, Username: c.SMTPUsername,
		Password: string(c.SMTPPassword), TLS: notify.TLSMode(c.SMTPTLS)}
}

// validateNotify checks the provider settings: at most one provider, and
// a complete, TLS-protected SMTP configuration.
func (c *Config) validateNotify() []error {
	var errs []error
	smtpSet := c.SMTPPort != 0 || c.SMTPFrom != "" || c.SMTPUsername != "" || c.SMTPTLS != "" || c.SMTPPassword != ""
	switch {
	case c.SMTPHost != "" && c.NotifyFile != "":
		errs = append(errs, errors.New("smtp_host and notify_file: choose one provider"))
	case c.SMTPHost == "" && smtpSet:
		errs = append(errs, errors.New("smtp_*: set smtp_host too, or remove the other smtp settings"))
	case c.SMTPHost != "":
		if _, err := notify.NewSMTP(c.smtpConfig()); err != nil {
			errs = append(errs, fmt.Errorf("smtp: %v", err))
		}
	case c.NotifyFile != "" && !filepath.IsAbs(c.NotifyFile):
		errs = append(errs, errors.New("notify_file: must be an absolute path"))
	}
	return errs
}

// Notifier builds the configured provider; nil when none is configured.
func (c *Config) Notifier(log *slog.Logger) (notify.Sender, error) {
	switch {
	case c.SMTPHost != "":
		s, err := notify.NewSMTP(c.smtpConfig())
		if err != nil {
			return nil, err
		}
		log.Info("one-time codes by e-mail through SMTP", "smtp", s.String())
		return s, nil
	case c.NotifyFile != "":
		s, err := notify.NewFileSink(c.NotifyFile)
		if err != nil {
			return nil, err
		}
		log.Warn("notify_file is a development sink: e-mail and SMS, live one-time codes included, go to a file, not to people", "path", c.NotifyFile)
		return s, nil
	}
	log.Info("no notification provider: one-time codes by e-mail or SMS are not offered")
	return nil, nil
}
