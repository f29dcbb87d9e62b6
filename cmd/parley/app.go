package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/parleyhq/parley/client"
	"golang.org/x/term"
)

const userAgent = "parley-cli/1"

// env is everything a command touches outside itself, so that tests can run
// commands in-process with their own streams, environment and terminal.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// readPassword prompts on stderr and reads a line without echo.
	readPassword func(prompt string) (string, error)
	// interactive is true when stdin is a terminal; prompts are shown only
	// then, so piped input gives clean output.
	interactive bool

	configFlag string        // --config, if given
	in         *bufio.Reader // lazily wraps stdin; shared so prompts don't lose buffered input
}

func newOSEnv() *env {
	e := &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		interactive: term.IsTerminal(int(os.Stdin.Fd()))}
	e.readPassword = func(prompt string) (string, error) {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return "", errors.New("standard input is not a terminal; use --password-stdin")
		}
		fmt.Fprint(e.stderr, prompt)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(e.stderr)
		return string(b), err
	}
	return e
}

// command is one subcommand. run gets the arguments after its name.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func commands() []command {
	return []command{
		{"login", "login [--server URL] [--ca FILE] [--user NAME] [--password-stdin]", "sign in and save the session", runLogin},
		{"logout", "logout", "end the session", runLogout},
		{"whoami", "whoami [--json]", "show the signed-in user", runWhoami},
		{"conversations", "conversations [--json]", "list your conversations", runConversations},
		{"new-conversation", "new-conversation [--type group|direct] [--title T] --members ID,ID", "create a conversation", runNewConversation},
		{"send", "send CONVERSATION TEXT… | send CONVERSATION -", "send a message (- reads it from stdin)", runSend},
		{"history", "history CONVERSATION [--after N | --before N] [--limit M] [--json]", "show messages", runHistory},
		{"tail", "tail [--json] [CONVERSATION…]", "print new messages as they arrive", runTail},
		{"sessions", "sessions [--json] | sessions revoke ID", "list or revoke your sessions", runSessions},
		{"approve", "approve [REQUEST-ID NUMBER]", "list sign-ins waiting for approval, or approve one (push)", runApprove},
		{"deny", "deny REQUEST-ID", "refuse a sign-in on another device (push)", runDeny},
		{"step-up", "step-up", "confirm with a second factor before sensitive operations (A6)", runStepUp},
		{"totp", "totp enroll", "set up an authenticator app", runTOTP},
		{"users", "users [--json] [--department D] [QUERY]", "search the directory, optionally within a department and its sub-departments", runUsers},
		{"create-user", "create-user --username NAME --display-name NAME [--department ID] [--roles a,b] [--password-stdin]", "create an account (admins)", runCreateUser},
		{"roles", "roles list | roles grants USER | roles grant|revoke USER ROLE [--department ID] [--reason T]", "roles and grants (security admins)", runRoles},
		{"access-review", "access-review [--json | --csv]", "who holds what, last used, flags (security admins, auditors)", runAccessReview},
		{"admin", "admin buildinfo [--json] | admin sbom | admin isolation [set --template open|strict [--allow A,B]...] [--json] | " + lifecycleUsage + " | " + profileUsage,
			"server build information and SBOM, offboarding, service tokens, directory entries (system admins); department isolation (security admins)", runAdmin},
	}
}

// usageError is a mistake on the command line; run prints the usage with it.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// run executes one command line and returns the exit status.
func run(ctx context.Context, args []string, e *env) int {
	top := flag.NewFlagSet("parley", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	top.StringVar(&e.configFlag, "config", "", "config file")
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(e.stdout)
			return 0
		}
		fmt.Fprintf(e.stderr, "parley: %v\n", err)
		printUsage(e.stderr)
		return 1
	}
	args = top.Args()
	if len(args) == 0 || args[0] == "help" {
		printUsage(e.stdout)
		if len(args) == 0 {
			return 1
		}
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, e, args[1:])
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		}
		printError(e.stderr, c, err)
		return 1
	}
	fmt.Fprintf(e.stderr, "parley: unknown command %q\n", args[0])
	printUsage(e.stderr)
	return 1
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "usage: parley [--config FILE] COMMAND [ARGS]")
	fmt.Fprintln(w)
	cmds := commands()
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].name < cmds[j].name })
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-17s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'parley COMMAND -h' for a command's flags.")
}

// printError prints "parley: <message> (<code>)". APIError.Error() already
// has that shape; the message came from the server, so it is cleaned.
func printError(w io.Writer, c command, err error) {
	// The SDK prefixes its own errors with "client: "; here that is noise.
	fmt.Fprintf(w, "parley: %s\n", cleanLine(strings.TrimPrefix(err.Error(), "client: ")))
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(w, "usage: parley %s\n", c.usage)
	}
	if client.IsCode(err, "unauthenticated") && c.name != "login" {
		fmt.Fprintln(w, "parley: run 'parley login' to sign in again")
	}
	if client.IsCode(err, "mfa_enrollment_required") {
		fmt.Fprintln(w, "parley: run 'parley totp enroll' first")
	}
	// The usual first-run mistake with a self-signed server: no --ca.
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) {
		fmt.Fprintln(w, "parley: the server's certificate is not trusted; pin it with 'parley login --ca FILE' (for a self-signed server, DATA-DIR/tls/cert.pem)")
	}
}

// newFlags returns a flag set for a command, with the flags every command
// shares.
func (e *env) newFlags(c string) *flag.FlagSet {
	fs := flag.NewFlagSet("parley "+c, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		for _, cmd := range commands() {
			if cmd.name == c {
				fmt.Fprintf(e.stderr, "usage: parley %s\n", cmd.usage)
			}
		}
		fs.PrintDefaults()
	}
	fs.StringVar(&e.configFlag, "config", e.configFlag, "config file (default $XDG_CONFIG_HOME/parley/config.json; env PARLEY_CONFIG)")
	return fs
}

// parseArgs parses flags wherever they appear among args: the flag package
// stops at the first positional argument, but people write
// "history C1 --limit 5". A "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	pos := []string{}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// session loads the saved session and returns a client for it.
func (e *env) session() (*client.Client, *config, error) {
	_, cfg, err := e.configFile()
	if err != nil {
		return nil, nil, err
	}
	if cfg.Server == "" || cfg.Token == "" {
		return nil, nil, errors.New("not logged in; run 'parley login --server https://HOST:PORT'")
	}
	c, err := newClient(cfg.Server, cfg.CAFile, cfg.Token)
	return c, cfg, err
}

func newClient(server, caFile, token string) (*client.Client, error) {
	opts := []client.Option{client.WithUserAgent(userAgent)}
	if caFile != "" {
		opts = append(opts, client.WithCAFile(caFile))
	}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	return client.New(server, opts...)
}

// line reads one line from stdin, without its line ending. Used for
// prompts and for --password-stdin.
func (e *env) line(prompt string) (string, error) {
	if prompt != "" && e.interactive {
		fmt.Fprint(e.stderr, prompt)
	}
	if e.in == nil {
		e.in = bufio.NewReader(e.stdin)
	}
	s, err := e.in.ReadString('\n')
	if err != nil && (!errors.Is(err, io.EOF) || s == "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("unexpected end of input")
		}
		return "", err
	}
	return strings.TrimRight(s, "\r\n"), nil
}

// splitList splits "a, b,,c" into [a b c].
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
