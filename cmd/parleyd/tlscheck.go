package main

import (
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/parleyhq/parley/tlsgrade"
)

const tlscheckUsage = "usage: parleyd tlscheck [--ca FILE] [--min GRADE] [--timeout D] URL\n"

// cmdTLSCheck grades a TLS endpoint the way SSL Labs does (T4; rules in
// docs/security-testing.md) and prints the findings, the reasons and a last
// line "grade: X". Exit status: 0 graded (and at least --min, if given),
// 1 below --min or the endpoint could not be reached, 2 bad usage.
func cmdTLSCheck(ctx context.Context, args []string, stdout, stderr io.Writer, now func() time.Time) int {
	fs := flag.NewFlagSet("parleyd tlscheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, tlscheckUsage); fs.PrintDefaults() }
	caFile := fs.String("ca", "", "PEM file of the only roots to trust (e.g. DIR/tls/cert.pem of a self-signed server); default: the system's roots")
	minGrade := fs.String("min", "", "exit 1 unless the grade is at least this (e.g. A)")
	timeout := fs.Duration("timeout", 5*time.Second, "bound on each connection")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, tlscheckUsage)
		return 2
	}
	if *minGrade != "" && !tlsgrade.AtLeast(*minGrade, "F") {
		fmt.Fprintf(stderr, "parleyd tlscheck: --min %q is not a grade (A+, A, A-, B, C, D, E, F)\n", *minGrade)
		return 2
	}
	target, err := tlsgrade.ParseTarget(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "parleyd tlscheck: %v\n", err)
		return 2
	}
	opt := tlsgrade.Options{Now: now, Timeout: *timeout}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile) // #nosec G304 -- the operator names the CA file to trust on the command line
		if err != nil {
			fmt.Fprintf(stderr, "parleyd tlscheck: %v\n", err)
			return 1
		}
		opt.Roots = x509.NewCertPool()
		if !opt.Roots.AppendCertsFromPEM(pem) {
			fmt.Fprintf(stderr, "parleyd tlscheck: %s holds no PEM certificate\n", *caFile)
			return 1
		}
	}
	report, err := tlsgrade.Probe(ctx, target, opt)
	if err != nil {
		fmt.Fprintf(stderr, "parleyd tlscheck: %v\n", err)
		return 1
	}
	res := tlsgrade.Grade(report, now())
	tlsgrade.Write(stdout, report, res, now())
	if *minGrade != "" && !tlsgrade.AtLeast(res.Grade, *minGrade) {
		fmt.Fprintf(stderr, "parleyd tlscheck: grade %s is below %s\n", res.Grade, *minGrade)
		return 1
	}
	return 0
}
