#!/usr/bin/env bash
# Build kube-apiserver from the pinned k8s.io/kubernetes (go.mod/go.sum of this wrapper module) into
# $INFERSTACK_TOOLS_BIN (default .tools/bin), as Kubernetes' release build does: CGO_ENABLED=0, -trimpath,
# tags selinux,notest,grpcnotrace, version stamped into component-base and client-go (clients check it).
# Skipped when kube-apiserver is already in $INFERSTACK_TOOLS_BIN, in $KUBEBUILDER_ASSETS or on PATH.
# The committed go.sum is used as is (-mod=readonly): no network lookups beyond the module downloads it pins.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
BIN="${INFERSTACK_TOOLS_BIN:-$ROOT/.tools/bin}"
NAME=kube-apiserver

if [ -x "$BIN/$NAME" ]; then echo "$NAME: $BIN/$NAME present"; exit 0; fi
if [ -n "${KUBEBUILDER_ASSETS:-}" ] && [ -x "$KUBEBUILDER_ASSETS/$NAME" ]; then
  echo "$NAME: using \$KUBEBUILDER_ASSETS/$NAME"; exit 0
fi
if command -v "$NAME" >/dev/null 2>&1; then echo "$NAME: using $(command -v "$NAME") from PATH"; exit 0; fi

# The version comes from go.mod (single source): "k8s.io/kubernetes v1.35.8".
VERSION="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2}' "$HERE/go.mod")"
[ -n "$VERSION" ] || { echo "error: no k8s.io/kubernetes version in $HERE/go.mod" >&2; exit 2; }
MAJOR="${VERSION#v}"; MAJOR="${MAJOR%%.*}"
MINOR="${VERSION#v*.}"; MINOR="${MINOR%%.*}"
BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$VERSION -X $pkg.gitMajor=$MAJOR -X $pkg.gitMinor=$MINOR"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
done

mkdir -p "$BIN"
echo "$NAME: building $VERSION into $BIN (first build downloads ~380 modules and compiles for many minutes)"
cd "$HERE"
CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ldflags" \
  -o "$BIN/$NAME.tmp.$$" k8s.io/kubernetes/cmd/kube-apiserver
mv "$BIN/$NAME.tmp.$$" "$BIN/$NAME"
"$BIN/$NAME" --version
