package main

import (
	goversion "go/version"
	"log/slog"
	"runtime"
)

// minGoVersion is the oldest Go toolchain whose standard library has no
// known vulnerability reachable from parleyd (V2: govulncheck in CI). go.mod's
// toolchain line names the same version; TestMinGoVersionMatchesGoMod keeps
// the two equal. Bump both together when a Go security release lands.
const minGoVersion = "go1.26.10"

// warnOutdatedToolchain logs once at start when the binary was built with an
// older Go, which happens when a machine forces GOTOOLCHAIN=local: the build
// works, but ships the known-vulnerable net/http, crypto/tls and crypto/x509.
// It warns rather than refuses so an operator can still start a server they
// are about to replace.
func warnOutdatedToolchain(log *slog.Logger, built string) bool {
	if goversion.Compare(built, minGoVersion) >= 0 {
		return false
	}
	log.Warn("parleyd was built with a Go toolchain that has known vulnerabilities; rebuild with GOTOOLCHAIN=auto",
		"built_with", built, "minimum", minGoVersion)
	return true
}

var goVersion = runtime.Version
