#!/usr/bin/env bash
# Build etcd from the pinned go.etcd.io/etcd/server/v3 (go.mod/go.sum of this wrapper module) into
# $INFERSTACK_TOOLS_BIN (default .tools/bin), as etcd's release build does: CGO_ENABLED=0, -trimpath.
# Skipped when etcd is already in $INFERSTACK_TOOLS_BIN, in $KUBEBUILDER_ASSETS or on PATH.
# The committed go.sum is used as is (-mod=readonly).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:-$ROOT/.tools/bin}"
NAME=etcd

if [ -x "$BIN/$NAME" ]; then echo "$NAME: $BIN/$NAME present"; exit 0; fi
if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/$NAME" ]; then
  echo "$NAME: using \$KUBEBUILDER_ASSETS/$NAME"; exit 0
fi
if command -v "$NAME" >/dev/null 2>&1; then echo "$NAME: using $(command -v "$NAME") from PATH"; exit 0; fi

VERSION="$(awk '$1 == "go.etcd.io/etcd/server/v3" && $2 ~ /^v/ {print $2}' "$HERE/go.mod")"
[ -n "$VERSION" ] || { echo "error: no go.etcd.io/etcd/server/v3 version in $HERE/go.mod" >&2; exit 2; }
mkdir -p "$BIN"
echo "$NAME: building $VERSION into $BIN"
cd "$HERE"
CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w" -o "$BIN/$NAME.tmp.$$" go.etcd.io/etcd/server/v3
mv "$BIN/$NAME.tmp.$$" "$BIN/$NAME"
"$BIN/$NAME" --version
