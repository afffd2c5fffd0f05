#!/usr/bin/env bash
# Build Pulumi's Python language host (pulumi-language-python) into $INFERSTACK_TOOLS_BIN, with the
# pulumi-language-python-exec script beside it (the CLI finds both next to its own binary).
#
# The host is its own Go module, github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, never tagged: only
# a pseudo-version of a commit names it. It needs the same pkg/v3 and sdk/v3 as the CLI, so it is built with the CLI's
# wrapper module (tools/pulumi/go.mod, copied into .tools/src) plus that pseudo-version. The exec script comes from the
# sdk/v3 module at the CLI's version (python/cmd/pulumi-language-python-exec).
#
# The Go module proxy used here refuses every pseudo-version of the host that we could name (docs/engine.md lists the
# commands and the answer). When it does, this script says so, writes the proxy's answer to
# .tools/blocked/pulumi-language-python.txt (the Pulumi e2e tests skip with it) and exits 0, so that the other tools
# and the control-plane tests still run. A host found on PATH (with its exec script beside it) is used as it is.
# INFERSTACK_PULUMI_LANGUAGE_PYTHON_VERSION overrides the pseudo-version.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:?INFERSTACK_TOOLS_BIN is not set (run scripts/build_tools.sh)}"
BLOCKED="$ROOT/.tools/blocked/pulumi-language-python.txt"
MOD=github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3
# The commit of tag sdk/v3.259.0 (0ac56e876614, 2026-08-19 16:51:55 UTC), the newest sdk tag whose commit we could
# find; the commit of sdk/v3.276.0 (the CLI's version, 2026-11-12 12:59:22 UTC) is not known here.
VERSION="${INFERSTACK_PULUMI_LANGUAGE_PYTHON_VERSION:-v3.0.0-20260819165155-0ac56e876614}"

if [ -x "$BIN/pulumi-language-python" ] && [ -x "$BIN/pulumi-language-python-exec" ]; then
  echo "pulumi-language-python: $BIN/pulumi-language-python already built"; rm -f "$BLOCKED"; exit 0
fi
if host="$(command -v pulumi-language-python)"; then
  if [ -x "$(dirname "$host")/pulumi-language-python-exec" ]; then
    echo "pulumi-language-python: using $host from PATH"; rm -f "$BLOCKED"; exit 0
  fi
  echo "pulumi-language-python: $host on PATH has no pulumi-language-python-exec beside it; building one" >&2
fi

SRC="$ROOT/.tools/src/pulumi-language-python"
rm -rf "$SRC"
mkdir -p "$SRC" "$(dirname "$BLOCKED")"
cp "$ROOT/tools/pulumi/go.mod" "$ROOT/tools/pulumi/go.sum" "$SRC/"
cd "$SRC"
cmd=(go mod download -json "$MOD@$VERSION")
if ! answer="$("${cmd[@]}" 2>&1)"; then
  {
    echo "\$ ${cmd[*]}"
    echo "$answer"
    # and whether the proxy lists any version of the module at all
    echo "\$ go list -m -versions -json $MOD"
    go list -m -versions -json "$MOD" 2>&1 || true
  } > "$BLOCKED"
  echo "pulumi-language-python: NOT BUILT: the Go module proxy does not serve $MOD@$VERSION:" >&2
  sed 's/^/  /' "$BLOCKED" >&2
  echo "pulumi-language-python: the Pulumi e2e tests will skip (put a pulumi-language-python with its exec script on PATH to run them)" >&2
  exit 0
fi
go get "$MOD@$VERSION"
echo "pulumi-language-python: building $MOD@$VERSION into $BIN"
CLI_VERSION="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
CGO_ENABLED=0 go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$CLI_VERSION" \
  -o "$BIN/pulumi-language-python.tmp" "$MOD"
SDKDIR="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$SDKDIR/python/cmd/pulumi-language-python-exec" "$BIN/pulumi-language-python-exec"
mv "$BIN/pulumi-language-python.tmp" "$BIN/pulumi-language-python"
rm -f "$BLOCKED"
