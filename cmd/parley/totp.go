package main

import (
	"context"
	"fmt"
	"strings"
)

// runTOTP enrols an authenticator app. Confirming replaces the session
// (A5), so the new token is saved before anything else is printed: losing
// it would log the user out.
func runTOTP(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("totp")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 || rest[0] != "enroll" {
		return usagef("expected 'parley totp enroll'")
	}
	c, cfg, err := e.session()
	if err != nil {
		return err
	}
	path, _, err := e.configFile()
	if err != nil {
		return err
	}
	enr, err := c.EnrollTOTP(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Add this account to your authenticator app (TOTP, SHA-1, 6 digits, 30 s):")
	fmt.Fprintf(e.stdout, "  secret: %s\n", cleanLine(enr.Secret))
	fmt.Fprintf(e.stdout, "  url:    %s\n", cleanLine(enr.OtpauthURL))
	input, err := e.line("Code from the app: ")
	if err != nil {
		return err
	}
	conf, err := c.ConfirmTOTP(ctx, strings.ReplaceAll(strings.TrimSpace(input), " ", ""))
	if err != nil {
		return err
	}
	cfg.Token = c.Token()
	if err := e.save(path, cfg); err != nil {
		return fmt.Errorf("TOTP is enrolled but the new session could not be saved (log in again): %w", err)
	}
	fmt.Fprintln(e.stdout, "TOTP enrolled. Recovery codes (each works once; store them safely, they are not shown again):")
	for _, rc := range conf.RecoveryCodes {
		fmt.Fprintf(e.stdout, "  %s\n", cleanLine(rc))
	}
	return nil
}
