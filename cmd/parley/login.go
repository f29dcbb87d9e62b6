package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/parleyhq/parley/client"
)

// loginArgs are the parsed flags of "parley login".
type loginArgs struct {
	server, ca, user string
	passwordStdin    bool
}

func parseLoginArgs(e *env, args []string) (*loginArgs, error) {
	var a loginArgs
	fs := e.newFlags("login")
	fs.StringVar(&a.server, "server", "", "server URL, https://HOST:PORT (default: the saved one)")
	fs.StringVar(&a.ca, "ca", "", "PEM file of the server's CA to pin, e.g. DIR/tls/cert.pem of a self-signed server")
	fs.StringVar(&a.user, "user", "", "user name (prompted if missing)")
	fs.BoolVar(&a.passwordStdin, "password-stdin", false, "read the password (and an MFA code, if asked) from standard input")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, usagef("unexpected argument %q", rest[0])
	}
	if a.passwordStdin && a.user == "" {
		return nil, usagef("--password-stdin needs --user")
	}
	return &a, nil
}

func runLogin(ctx context.Context, e *env, args []string) error {
	a, err := parseLoginArgs(e, args)
	if err != nil {
		return err
	}
	path, cfg, err := e.configFile()
	if err != nil {
		return err
	}
	old := *cfg
	server := a.server
	if server == "" {
		server = cfg.Server
	}
	if server == "" {
		return usagef("no server saved yet; pass --server https://HOST:PORT")
	}
	caFile := ""
	switch {
	case a.ca != "":
		if caFile, err = filepath.Abs(a.ca); err != nil {
			return err
		}
	case server == cfg.Server:
		caFile = cfg.CAFile // a pinned CA belongs to its server only
	}
	c, err := newClient(server, caFile, "")
	if err != nil {
		return err
	}

	user := a.user
	if user == "" {
		if user, err = e.line("Username: "); err != nil {
			return err
		}
	}
	var password string
	if a.passwordStdin {
		password, err = e.line("")
	} else {
		password, err = e.readPassword("Password: ")
	}
	if err != nil {
		return err
	}
	resp, err := c.Login(ctx, strings.TrimSpace(user), password)
	if err != nil {
		return err
	}
	if resp.MFARequired {
		if err := completeMFA(ctx, e, c, resp.MFAToken, resp.Methods); err != nil {
			return err
		}
	}

	if err := e.save(path, &config{Server: c.BaseURL(), CAFile: caFile, Token: c.Token()}); err != nil {
		return err
	}
	// Retire the session this login replaces, so tokens do not pile up on
	// the server; failure (already expired, say) does not matter.
	if old.Token != "" && old.Server == c.BaseURL() && old.Token != c.Token() {
		if prev, err := newClient(old.Server, old.CAFile, old.Token); err == nil {
			_ = prev.Logout(ctx)
		}
	}

	me, err := c.Me(ctx)
	if err != nil {
		fmt.Fprintf(e.stdout, "Logged in to %s.\n", c.BaseURL())
		return nil
	}
	fmt.Fprintf(e.stdout, "Logged in to %s as %s (%s).\n", c.BaseURL(), cleanLine(me.Username), cleanLine(me.DisplayName))
	if !me.MFAEnrolled {
		fmt.Fprintln(e.stdout, "Protect your account with an authenticator app: parley totp enroll")
	}
	return nil
}

// completeMFA asks for the second factor and finishes the login.
func completeMFA(ctx context.Context, e *env, c *client.Client, mfaToken string, methods []string) error {
	if len(methods) > 0 && !slices.Contains(methods, "totp") && !slices.Contains(methods, "recovery_code") {
		return fmt.Errorf("the server asks for MFA by %s, which this client cannot do", cleanLine(strings.Join(methods, ", ")))
	}
	input, err := e.line("Authentication code (or r:RECOVERY-CODE): ")
	if err != nil {
		return err
	}
	method, code, err := parseMFACode(input)
	if err != nil {
		return err
	}
	_, err = c.CompleteMFA(ctx, mfaToken, method, code)
	return err
}

// parseMFACode reads a TOTP code ("123 456" is fine) or, with the prefix
// "r:", a recovery code.
func parseMFACode(s string) (method, code string, err error) {
	s = strings.TrimSpace(s)
	if rest, ok := strings.CutPrefix(s, "r:"); ok {
		if rest = strings.TrimSpace(rest); rest == "" {
			return "", "", errors.New("empty recovery code")
		}
		return "recovery_code", rest, nil
	}
	code = strings.ReplaceAll(s, " ", "")
	if code == "" {
		return "", "", errors.New("empty authentication code")
	}
	return "totp", code, nil
}

func runLogout(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("logout")
	if rest, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	path, cfg, err := e.configFile()
	if err != nil {
		return err
	}
	if cfg.Token == "" {
		fmt.Fprintln(e.stdout, "Not logged in.")
		return nil
	}
	c, err := newClient(cfg.Server, cfg.CAFile, cfg.Token)
	if err != nil {
		return err
	}
	// Keep the token when the server could not be told: forgetting it would
	// leave a live session nobody can end from here. An already dead
	// session is simply forgotten.
	if err := c.Logout(ctx); err != nil && !client.IsCode(err, "unauthenticated") {
		return fmt.Errorf("%w; the session is still saved, run 'parley logout' again", err)
	}
	cfg.Token = ""
	if err := e.save(path, cfg); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "Logged out.")
	return nil
}

func runWhoami(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("whoami")
	asJSON := fs.Bool("json", false, "print JSON")
	if rest, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	me, err := c.Me(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, me)
	}
	w := table(e.stdout)
	fmt.Fprintf(w, "server:\t%s\n", c.BaseURL())
	fmt.Fprintf(w, "user:\t%s (%s)\n", cleanLine(me.Username), cleanLine(me.DisplayName))
	fmt.Fprintf(w, "user id:\t%s\n", cleanLine(me.UserID))
	fmt.Fprintf(w, "department:\t%s\n", orDash(me.DepartmentID))
	fmt.Fprintf(w, "roles:\t%s\n", orDash(strings.Join(me.Roles, ", ")))
	fmt.Fprintf(w, "mfa:\t%v\n", me.MFAEnrolled)
	return w.Flush()
}
