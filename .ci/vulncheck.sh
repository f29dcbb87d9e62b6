#!/usr/bin/env bash
# Known-vulnerability scan, offline (V2). The machines cannot reach the
# public vulnerability database, so this builds one: golang.org/x/vulndb is
# a Go module served by the module proxy; its data/osv folder holds every
# report. The vulndb version is pinned in ONE place, tools/go.mod (it also
# provides the indexdb command there); docs/security-testing.md says how to
# bump it.
#
#   1. fetch the pinned vulndb module (module proxy, like any module)
#   2. index data/osv into a v1 database with vulndb's cmd/indexdb
#   3. run govulncheck against it with GOPROXY=off: no network at all
#
# Fails on any vulnerability that our code reaches (symbol level), except
# the IDs listed in tools/vulncheck-accepted.txt with a reason. An accepted
# ID that no longer shows up fails too, so the list cannot go stale.
#
# Usage: .ci/vulncheck.sh [OUTDIR]     (default: build/vulndb)
set -euo pipefail
cd "$(dirname "$0")/.."

# The machines default to GOTOOLCHAIN=local (go1.26.8, with known stdlib
# vulnerabilities); auto builds with the patched toolchain go.mod names.
export GOTOOLCHAIN=auto
export GOFLAGS="${GOFLAGS:-} -mod=mod"
out=${1:-build/vulndb}
tools=(-modfile=tools/go.mod)

vulndb_version=$(go list "${tools[@]}" -m -f '{{.Version}}' golang.org/x/vulndb)
vulndb_dir=$(go mod download "${tools[@]}" -json "golang.org/x/vulndb@${vulndb_version}" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$vulndb_dir" ] || [ ! -d "$vulndb_dir/data/osv" ]; then
	echo "vulncheck: golang.org/x/vulndb@$vulndb_version has no data/osv" >&2
	exit 1
fi

db="$out/db-$vulndb_version"
if [ ! -f "$db/index/db.json" ]; then
	rm -rf "$out" && mkdir -p "$out"
	go tool "${tools[@]}" indexdb -vulns "$vulndb_dir/data/osv" -out "$db"
fi
echo "vulndb $vulndb_version ($(ls "$vulndb_dir/data/osv" | wc -l) reports), toolchain $(go env GOVERSION)"

# Build the scanner while the proxy is still allowed, then go offline.
go build "${tools[@]}" -o "$out/govulncheck" golang.org/x/vuln/cmd/govulncheck
report="$out/report.txt"
rc=0
GOPROXY=off "$out/govulncheck" -db "file://$(cd "$db" && pwd)" ./... >"$report" 2>&1 || rc=$?
# The full report (with call traces) stays in $report; print it without
# the trace lines.
grep -v '^ *#[0-9]*: ' "$report" || true
case $rc in
0) found="" ;;
3) found=$(sed -n 's/^Vulnerability #[0-9]*: \(GO-[0-9]*-[0-9]*\)$/\1/p' "$report" | sort -u) ;;
*) echo "vulncheck: govulncheck failed (exit $rc)" >&2; exit "$rc" ;;
esac

accepted=$(sed -e 's/#.*//' -e 's/[[:space:]].*//' tools/vulncheck-accepted.txt 2>/dev/null | grep . | sort -u || true)
new=$(comm -23 <(printf '%s\n' $found) <(printf '%s\n' $accepted) | grep . || true)
stale=$(comm -13 <(printf '%s\n' $found) <(printf '%s\n' $accepted) | grep . || true)
if [ -n "$found" ] && [ -z "$new" ]; then
	echo "vulncheck: reachable but ACCEPTED (tools/vulncheck-accepted.txt):" $found
fi
if [ -n "$stale" ]; then
	echo "vulncheck: no longer found, remove from tools/vulncheck-accepted.txt:" $stale >&2
fi
if [ -n "$new" ]; then
	echo "vulncheck: FAIL: reachable vulnerabilities:" $new >&2
fi
[ -z "$new" ] && [ -z "$stale" ]
