#!/usr/bin/env bash
# Short fuzzing pass (V3): runs every Fuzz* target of the module for a
# bounded time each and fails on any crasher. The seed corpora (f.Add and
# testdata/fuzz/) already run as regression tests in the plain `go test`.
#
# Targets are discovered, not listed: packages with a `func Fuzz` in a
# _test.go file, then `go test -list` in each, so a new target runs without
# touching this script.
#
# A crasher is written by go test to PKG/testdata/fuzz/FuzzX/HASH; commit it
# with the fix and it stays a regression test. Reproduce one with
#   go test ./PKG -run 'FuzzX/HASH'
#
# Usage: .ci/fuzz.sh [FUZZTIME]   (default 10s per target; env FUZZTIME too)
set -euo pipefail
cd "$(dirname "$0")/.."

# The machines default to GOTOOLCHAIN=local (go1.26.8, with known stdlib
# vulnerabilities); auto builds with the patched toolchain go.mod names.
export GOTOOLCHAIN=auto
export GOFLAGS="${GOFLAGS:-} -mod=mod"
fuzztime=${1:-${FUZZTIME:-10s}}

pkgs=$(grep -rlE --include='*_test.go' '^func Fuzz[A-Z0-9_]' . | grep -v '^./tools/' |
	xargs -n1 dirname | sort -u | sed 's|^\./||; s|^|./|')
log=$(mktemp)
total=0 failed=()
start=$(date +%s)
for pkg in $pkgs; do
	targets=$(go test -list '^Fuzz' "$pkg" | grep -E '^Fuzz' || true)
	for t in $targets; do
		total=$((total + 1))
		t0=$(date +%s)
		ok=false
		if go test "$pkg" -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" >"$log" 2>&1; then
			ok=true
		elif ! grep -q 'Failing input written to' "$log" && grep -q 'context deadline exceeded' "$log"; then
			# The fuzzing engine sometimes reports its own time limit as a
			# failure ("context deadline exceeded", no input written). That
			# is no crasher: run the target once more, and fail only if a
			# real failure shows up.
			echo "note $pkg $t: engine timeout without a crasher; running again"
			if go test "$pkg" -run '^$' -fuzz "^${t}\$" -fuzztime "$fuzztime" >"$log" 2>&1; then
				ok=true
			fi
		fi
		if $ok; then
			echo "ok   $pkg $t ($(($(date +%s) - t0))s, $(grep -oE "execs: [0-9]+" "$log" | tail -n 1))"
		else
			echo "FAIL $pkg $t"
			cat "$log"
			failed+=("$pkg $t")
		fi
	done
done
rm -f "$log"
echo "fuzz: $total targets, $fuzztime each, $(($(date +%s) - start))s in all"
echo "fuzz: $((total - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ "$total" = 0 ]; then
	echo "fuzz: no targets found" >&2
	exit 1
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf 'fuzz: crasher in %s (see PKG/testdata/fuzz/)\n' "${failed[@]}" >&2
	exit 1
fi
