#!/usr/bin/env bash
# Build the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) into $INFERSTACK_TOOLS_BIN, the way Pulumi's
# release builds do: CGO_ENABLED=0, -tags osusergo,grpcnotrace, the version stamped through sdk/v3's version.Version
# (an unstamped CLI skips `requiredPulumiVersion` checks). Skipped when the binary is already there or on PATH.
# Versions are pinned in go.mod/go.sum next to this script.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:?INFERSTACK_TOOLS_BIN is not set (run scripts/build_tools.sh)}"
VERSION="$(cd "$HERE" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
SDK_VERSION="$(cd "$HERE" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)"
[ "$VERSION" = "$SDK_VERSION" ] || { echo "error: tools/pulumi/go.mod: pkg/v3 $VERSION and sdk/v3 $SDK_VERSION differ" >&2; exit 2; }
if [ -x "$BIN/pulumi" ]; then
  echo "pulumi: $BIN/pulumi already built"; exit 0
fi
if command -v pulumi >/dev/null 2>&1; then
  echo "pulumi: using $(command -v pulumi) from PATH"; exit 0
fi
echo "pulumi: building the CLI $VERSION into $BIN"
cd "$HERE"
CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags osusergo,grpcnotrace \
  -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$VERSION" \
  -o "$BIN/pulumi.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
mv "$BIN/pulumi.tmp" "$BIN/pulumi"
