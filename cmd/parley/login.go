package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

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

// completeMFA asks for the second factor and finishes the login. It
// accepts an authenticator code, "r:CODE" for a recovery code, "push" to
// approve the sign-in on a device that is already signed in, and "email"
// or "sms" to receive a one-time code — each only when the server offers
// it.
func completeMFA(ctx context.Context, e *env, c *client.Client, mfaToken string, methods []string) error {
	has := func(m string) bool { return len(methods) == 0 || slices.Contains(methods, m) }
	var choices []string
	if has("totp") {
		choices = append(choices, "authenticator code")
	}
	if has("recovery_code") {
		choices = append(choices, "r:RECOVERY-CODE")
	}
	if slices.Contains(methods, "push") {
		choices = append(choices, "push")
	}
	for _, ch := range []string{"email", "sms"} {
		if slices.Contains(methods, ch+"_otp") {
			choices = append(choices, ch)
		}
	}
	if len(choices) == 0 {
		return fmt.Errorf("the server asks for MFA by %s, which this client cannot do", cleanLine(strings.Join(methods, ", ")))
	}
	input, err := e.line("Second factor (" + strings.Join(choices, ", ") + "): ")
	if err != nil {
		return err
	}
	switch in := strings.ToLower(strings.TrimSpace(input)); {
	case in == "push" && slices.Contains(methods, "push"):
		return pushLogin(ctx, e, c, mfaToken)
	case (in == "email" || in == "sms") && slices.Contains(methods, in+"_otp"):
		sent, err := c.SendLoginOTP(ctx, mfaToken, in)
		if err != nil {
			return err
		}
		code, err := e.line(fmt.Sprintf("Code sent to %s: ", cleanLine(sent.SentTo)))
		if err != nil {
			return err
		}
		_, err = c.CompleteMFA(ctx, mfaToken, in+"_otp", strings.ReplaceAll(strings.TrimSpace(code), " ", ""))
		return err
	}
	method, code, err := parseMFACode(input)
	if err != nil {
		return err
	}
	_, err = c.CompleteMFA(ctx, mfaToken, method, code)
	return err
}

// pushLogin asks the user's signed-in devices to approve this sign-in and
// waits. The number shown here must be picked there (number matching: a
// prompt the user did not cause cannot be approved by reflex).
func pushLogin(ctx context.Context, e *env, c *client.Client, mfaToken string) error {
	req, err := c.BeginPush(ctx, mfaToken)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Approve this sign-in on a device where you are signed in, choosing the number %02d\n", req.Number)
	fmt.Fprintf(e.stdout, "(from the CLI: parley approve %s %02d). Waiting…\n", cleanLine(req.RequestID), req.Number)
	// The server ends the request after five minutes (its clock, not
	// ours, decides; so the wait is relative).
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute+10*time.Second)
	defer cancel()
	_, err = c.WaitPush(wctx, mfaToken, req.RequestID, 2*time.Second)
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
