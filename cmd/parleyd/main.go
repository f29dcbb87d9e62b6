// Command parleyd is the Parley server. It is the only place that knows every
// package: it reads the process configuration, prepares the data directory
// and wires the services together by hand (DESIGN §2, §7).
//
//	parleyd serve [--data DIR] [--listen HOST:PORT] [flags]
//	parleyd config check [--data DIR] [--config FILE]
//	parleyd version
//
// Subcommands use the standard flag package; no framework. The logger is
// made here and passed down, never global (DESIGN §7).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
)

// version is set at build time: -ldflags "-X main.version=v1.2.3".
var version = "dev"

const usageText = `usage: parleyd <command> [flags]

commands:
  serve          run the server (HTTPS on --listen, default :8443)
  config check   check the configuration and the data directory
  tlscheck URL   grade a TLS endpoint like SSL Labs (T4)
  version        print the version

Every command that acts on a deployment takes --data DIR (env PARLEY_DATA,
default ./parley-data). Run "parleyd <command> -h" for its flags.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// run dispatches a command line and returns the exit status: 0 ok, 1 the
// command failed, 2 bad usage.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookup lookupFunc) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stderr, lookup)
	case "config":
		if len(args) > 1 && args[1] == "check" {
			return cmdConfigCheck(args[2:], stdout, stderr, lookup, time.Now())
		}
		fmt.Fprint(stderr, "usage: parleyd config check [--data DIR] [--config FILE]\n")
		return 2
	case "tlscheck":
		return cmdTLSCheck(ctx, args[1:], stdout, stderr, time.Now)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usageText)
		return 0
	default:
		fmt.Fprintf(stderr, "parleyd: unknown command %q\n\n%s", args[0], usageText)
		return 2
	}
}

// parseFlags parses a subcommand's flags; it returns the exit status to use
// when parsing did not succeed (0 for -h).
func parseFlags(fs *flag.FlagSet, args []string) (ok bool, status int) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return false, 0
		}
		return false, 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(fs.Output(), "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return false, 2
	}
	return true, 0
}

func cmdServe(ctx context.Context, args []string, stderr io.Writer, lookup lookupFunc) int {
	// D6 first: from here on the process may hold secrets (the DSN in the
	// configuration, keys), so it must not be dumpable before reading them.
	if err := hardenProcess(); err != nil {
		fmt.Fprintf(stderr, "parleyd serve: %v\n", err)
		return 1
	}
	fs := flag.NewFlagSet("parleyd serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConfigFlags(fs)
	if ok, status := parseFlags(fs, args); !ok {
		return status
	}
	cfg, err := loadConfig(cf, lookup)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		fmt.Fprintf(stderr, "parleyd serve: %v\n", err)
		return 1
	}
	log, err := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, "parleyd serve: %v\n", err)
		return 1
	}

	// SIGTERM (API-CORE: stop cleanly) and Ctrl-C cancel ctx; runServe then
	// drains and returns. A second signal kills the process the usual way.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }()

	log.Info("starting parleyd", "version", versionString(), "data", cfg.Data, "listen", cfg.Listen,
		"db", cfg.RedactedDSN(), "config_file", cfg.ConfigFile)
	warnOutdatedToolchain(log, goVersion())
	if err := runServe(ctx, cfg, log); err != nil {
		log.Error("parleyd stopped with an error", "err", err)
		return 1
	}
	log.Info("parleyd stopped")
	return 0
}

// newLogger makes the process logger on w (stderr). Both handlers escape
// values, so request data cannot forge log lines (I3).
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	l, err := parseLogLevel(level)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("log format %q is not text or json", format)
}

// versionString is "parleyd VERSION (REVISION, GOVERSION)", using the VCS
// stamp of the build when no version was set at link time.
func versionString() string {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		var dirty bool
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
	}
	parts := []string{runtime.Version()}
	if rev != "" {
		parts = append([]string{rev}, parts...)
	}
	return fmt.Sprintf("parleyd %s (%s)", v, strings.Join(parts, ", "))
}
