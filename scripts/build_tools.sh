#!/usr/bin/env bash
# Build the real-engine tools (kube-apiserver, etcd, the Pulumi CLI and its Python language host, the Kubernetes
# provider) from Go modules into .tools/bin, as controller-runtime's envtest does for its assets.
#
# Each tool has a wrapper module tools/<tool>/ (go.mod + go.sum pin every version) and a tools/<tool>/build.sh that
# builds it. A tool is skipped when it is already in .tools/bin, or found in $KUBEBUILDER_ASSETS or on PATH
# (control-plane binaries only; see each build.sh). Go's module and build caches (GOMODCACHE, GOCACHE) are reused.
#
# usage: scripts/build_tools.sh [TOOL...]     (default: every tools/*/build.sh, in name order)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export INFERSTACK_TOOLS_BIN="${INFERSTACK_TOOLS_BIN:-$ROOT/.tools/bin}"
mkdir -p "$INFERSTACK_TOOLS_BIN"
command -v go >/dev/null 2>&1 || { echo "error: go is not installed (make e2e builds its tools with Go >= 1.25)" >&2; exit 2; }
if [ "$#" -eq 0 ]; then
  set -- $(cd "$ROOT/tools" && ls -d */ 2>/dev/null | tr -d / )
fi
for tool in "$@"; do
  script="$ROOT/tools/$tool/build.sh"
  [ -f "$script" ] || { echo "error: unknown tool '$tool' (have: $(cd "$ROOT/tools" && ls -d */ | tr -d / | tr '\n' ' '))" >&2; exit 2; }
  start=$(date +%s)
  bash "$script"
  echo "build_tools: $tool ready in $(( $(date +%s) - start )) s"
done
