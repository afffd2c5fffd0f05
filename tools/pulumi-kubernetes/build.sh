#!/usr/bin/env bash
# Build the Pulumi Kubernetes provider (pulumi-resource-kubernetes) into $INFERSTACK_TOOLS_BIN and install it as the
# plugin version the Python SDK pins (pulumi-kubernetes==X in pyproject.toml) into $INFERSTACK_PULUMI_HOME
# (default .tools/pulumi-home), so that a `pulumi` run with PULUMI_HOME there finds it without downloading.
#
# The Go module proxy serves github.com/pulumi/pulumi-kubernetes/provider/v4 at one pseudo-version only, the commit of
# tag v4.25.0 (go.mod). Its cmd/pulumi-resource-kubernetes/main.go embeds schema-embed.json and
# terraform-mapping-embed.json, which the upstream build makes with `VERSION=<v> go generate` (generate.go: schema.json
# with the version set, terraform-mapping.json re-marshalled) and which are not in the module zip. So the command's
# package is copied out of the module cache next to a copy of this wrapper's go.mod/go.sum, generated there with the
# module's own generate.go, and built. The binary is stamped with, and registered under, the SDK's version (see
# docs/engine.md: the provider code is v4.25.0's, the Python SDK asks for the plugin by its own version).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:?INFERSTACK_TOOLS_BIN is not set (run scripts/build_tools.sh)}"
PHOME="${INFERSTACK_PULUMI_HOME:-$ROOT/.tools/pulumi-home}"
VERSION="$(sed -n 's/^ *"pulumi-kubernetes==\([0-9][0-9.]*\)".*/\1/p' "$ROOT/pyproject.toml")"
[ -n "$VERSION" ] || { echo "error: pulumi-kubernetes==<version> not found in pyproject.toml" >&2; exit 2; }
PROVIDER=pulumi-resource-kubernetes

if [ ! -x "$BIN/$PROVIDER" ]; then
  echo "pulumi-kubernetes: building $PROVIDER (stamped $VERSION) into $BIN"
  cd "$HERE"
  MODDIR="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  [ -n "$MODDIR" ] && [ -d "$MODDIR" ] || go mod download github.com/pulumi/pulumi-kubernetes/provider/v4
  MODDIR="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
  SRC="$ROOT/.tools/src/pulumi-kubernetes"
  rm -rf "$SRC"
  mkdir -p "$SRC/cmd"
  cp "$HERE/go.mod" "$HERE/go.sum" "$SRC/"
  cp -r "$MODDIR/cmd/$PROVIDER" "$SRC/cmd/"
  chmod -R u+w "$SRC"
  (cd "$SRC/cmd/$PROVIDER" && VERSION="$VERSION" GOFLAGS=-mod=readonly go run ./generate.go)
  (cd "$SRC" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$VERSION" \
    -o "$BIN/$PROVIDER.tmp" "./cmd/$PROVIDER")
  mv "$BIN/$PROVIDER.tmp" "$BIN/$PROVIDER"
else
  echo "pulumi-kubernetes: $BIN/$PROVIDER already built"
fi

# Register it as plugin resource-kubernetes-v$VERSION with the CLI, which is built first when missing (build_tools.sh
# runs the tools in name order, and pulumi-kubernetes sorts before pulumi).
bash "$ROOT/tools/pulumi/build.sh"
PULUMI="$BIN/pulumi"
[ -x "$PULUMI" ] || PULUMI="$(command -v pulumi)"
if [ -x "$PHOME/plugins/resource-kubernetes-v$VERSION/$PROVIDER" ] \
   && cmp -s "$PHOME/plugins/resource-kubernetes-v$VERSION/$PROVIDER" "$BIN/$PROVIDER"; then
  echo "pulumi-kubernetes: plugin resource kubernetes $VERSION already installed in $PHOME"; exit 0
fi
mkdir -p "$PHOME"
PULUMI_HOME="$PHOME" PULUMI_SKIP_UPDATE_CHECK=true \
  "$PULUMI" plugin install resource kubernetes "$VERSION" --file "$BIN/$PROVIDER" --reinstall
