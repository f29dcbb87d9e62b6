package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/parleyhq/parley/wire"
)

// runAdmin groups the commands of the server's operators.
//
//	parley admin buildinfo [--json]   what the server binary was built from (V1)
//	parley admin sbom                 its CycloneDX 1.6 SBOM, as JSON
//	parley admin isolation [set …]    the department isolation policy (Z7)
//	parley admin offboard|reactivate|account|end-date|service-token …
//	                                  the account lifecycle (Z8, Z11; lifecycle.go)
//	parley admin user-update …        display name, department, title (M5; profile.go)
func runAdmin(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("expected a subcommand: buildinfo, sbom, isolation, %s, user-update", strings.Join(lifecycleCommands, ", "))
	}
	switch args[0] {
	case "buildinfo":
		return runAdminBuildInfo(ctx, e, args[1:])
	case "sbom":
		return runAdminSBOM(ctx, e, args[1:])
	case "isolation":
		return runAdminIsolation(ctx, e, args[1:])
	case "offboard", "reactivate", "account", "end-date", "service-token": // lifecycle.go (Z8, Z11)
		return runAdminLifecycle(ctx, e, args[0], args[1:])
	case "user-update": // profile.go (M5)
		return runAdminUserUpdate(ctx, e, args[1:])
	}
	return usagef("unknown subcommand %q", args[0])
}

func runAdminBuildInfo(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("admin")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	bi, err := c.BuildInfo(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(e.stdout, bi)
	}
	printBuildInfo(e, bi)
	return nil
}

// printBuildInfo prints the build information the way "go version -m"
// does; every string came from the server, so it is cleaned.
func printBuildInfo(e *env, bi *wire.BuildInfo) {
	fmt.Fprintf(e.stdout, "go\t%s\n", cleanLine(bi.GoVersion))
	fmt.Fprintf(e.stdout, "path\t%s\n", cleanLine(bi.Path))
	fmt.Fprintf(e.stdout, "mod\t%s\t%s\t%s\n", cleanLine(bi.Main.Path), cleanLine(bi.Main.Version), cleanLine(bi.Main.Sum))
	for _, d := range bi.Deps {
		fmt.Fprintf(e.stdout, "dep\t%s\t%s\t%s\n", cleanLine(d.Path), cleanLine(d.Version), cleanLine(d.Sum))
		if r := d.Replace; r != nil {
			fmt.Fprintf(e.stdout, "=>\t%s\t%s\t%s\n", cleanLine(r.Path), cleanLine(r.Version), cleanLine(r.Sum))
		}
	}
	for _, s := range bi.Settings {
		fmt.Fprintf(e.stdout, "build\t%s=%s\n", cleanLine(s.Key), cleanLine(s.Value))
	}
}

func runAdminSBOM(ctx context.Context, e *env, args []string) error {
	fs := e.newFlags("admin")
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usagef("unexpected argument %q", rest[0])
	}
	c, _, err := e.session()
	if err != nil {
		return err
	}
	sbom, err := c.SBOM(ctx)
	if err != nil {
		return err
	}
	return printJSON(e.stdout, sbom)
}
