#!/usr/bin/env bash
# Software bill of materials (V1): builds parleyd and writes a CycloneDX
# JSON SBOM of it with cyclonedx-gomod (pinned in tools/go.mod, so the
# tools' own dependencies never appear in it). Output, not committed:
#
#   OUTDIR/parleyd             the binary the SBOM describes
#   OUTDIR/parleyd.cdx.json    CycloneDX 1.6, modules with detected licences
#
# Checks: every module linked into the binary (go version -m) is in the
# SBOM, and no component is under a GPL-family licence (DESIGN.md §6).
#
# Usage: .ci/sbom.sh [OUTDIR]     (default: build/sbom)
set -euo pipefail
cd "$(dirname "$0")/.."

# The machines default to GOTOOLCHAIN=local (go1.26.8, with known stdlib
# vulnerabilities); auto builds with the patched toolchain go.mod names.
export GOTOOLCHAIN=auto
export GOFLAGS="${GOFLAGS:-} -mod=mod"
out=${1:-build/sbom}
mkdir -p "$out"
bin="$out/parleyd"
sbom="$out/parleyd.cdx.json"

# -buildvcs=auto: stamp vcs.revision when built from a git checkout (the
# machines' go env sets -buildvcs=false).
go build -buildvcs=auto -o "$bin" ./cmd/parleyd

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# app mode: resolves modules the way go build does, plus licences.
	go tool -modfile=tools/go.mod cyclonedx-gomod app -json -licenses \
		-main cmd/parleyd -output "$sbom" . 2>"$out/cyclonedx.log" || {
		cat "$out/cyclonedx.log" >&2; exit 1; }
else
	# Not a git checkout (no main-module version): read the binary itself.
	go tool -modfile=tools/go.mod cyclonedx-gomod bin -json \
		-output "$sbom" "$bin" 2>"$out/cyclonedx.log" || {
		cat "$out/cyclonedx.log" >&2; exit 1; }
fi

# Every dependency linked into the binary must be listed.
missing=0
while read -r mod ver; do
	if ! grep -q "\"purl\": \"pkg:golang/$mod@$ver?" "$sbom"; then
		echo "sbom: $mod@$ver is in the binary but not in the SBOM" >&2
		missing=1
	fi
done < <(go version -m "$bin" | awk '$1 == "dep" { print $2, $3 }')
[ "$missing" = 0 ]

if grep -E '"(id|name)": "(A|L)?GPL-' "$sbom"; then
	echo "sbom: a component is under a GPL-family licence" >&2
	exit 1
fi

n=$(grep -c '"purl": "pkg:golang/' "$sbom")
echo "sbom: $sbom ($n components incl. the main module; $(go version -m "$bin" | awk '$1 == "dep"' | wc -l) modules linked)"
