#!/usr/bin/env bash
# Build actionlint from the pinned github.com/rhysd/actionlint (go.mod/go.sum of this wrapper module) into
# $INFERSTACK_TOOLS_BIN (default .tools/bin), where tests/cli/test_ci_workflow.py looks for it.
# Skipped when actionlint is already there or on PATH. The committed go.sum is used as is (-mod=readonly).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:-$ROOT/.tools/bin}"
NAME=actionlint

if [ -x "$BIN/$NAME" ]; then echo "$NAME: $BIN/$NAME present"; exit 0; fi
if command -v "$NAME" >/dev/null 2>&1; then echo "$NAME: using $(command -v "$NAME") from PATH"; exit 0; fi

VERSION="$(awk '$1 == "github.com/rhysd/actionlint" && $2 ~ /^v/ {print $2}' "$HERE/go.mod")"
[ -n "$VERSION" ] || { echo "error: no github.com/rhysd/actionlint version in $HERE/go.mod" >&2; exit 2; }
mkdir -p "$BIN"
echo "$NAME: building $VERSION into $BIN"
cd "$HERE"
CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w -X github.com/rhysd/actionlint.version=$VERSION" \
  -o "$BIN/$NAME.tmp.$$" github.com/rhysd/actionlint/cmd/actionlint
mv "$BIN/$NAME.tmp.$$" "$BIN/$NAME"
"$BIN/$NAME" -version
