#!/usr/bin/env bash
# Build the real-engine tools (kube-apiserver, etcd, the Pulumi CLI and its Python language host, the Kubernetes
# provider) from Go modules into .tools/bin, as controller-runtime's envtest does for its assets.
#
# Each tool has a wrapper module tools/<tool>/ (go.mod + go.sum pin every version) and a tools/<tool>/build.sh that
# builds it. A tool is skipped when it is already in .tools/bin, or found in $KUBEBUILDER_ASSETS or on PATH
# (control-plane binaries only; see each build.sh). Go's module and build caches (GOMODCACHE, GOCACHE) are reused.
#
# usage: scripts/build_tools.sh [TOOL...]     (default: every tools/*/build.sh, in DEFAULT_ORDER)
#
# INFERSTACK_SKIP_UNUSED_TOOLS=1 (set by .ci/run) skips the Kubernetes provider when the Python language host could not
# be had (.tools/blocked/pulumi-language-python.txt): only programs run through that host use the provider, and its
# cold build is the longest of all (docs/engine.md).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
export INFERSTACK_TOOLS_BIN="${INFERSTACK_TOOLS_BIN:-$ROOT/.tools/bin}"
mkdir -p "$INFERSTACK_TOOLS_BIN"
command -v go >/dev/null 2>&1 || { echo "error: go is not installed (make e2e builds its tools with Go >= 1.25)" >&2; exit 2; }
# The language host before the provider (see INFERSTACK_SKIP_UNUSED_TOOLS); tools not named here come last.
DEFAULT_ORDER="etcd kube-apiserver pulumi pulumi-language-python pulumi-kubernetes"
if [ "$#" -eq 0 ]; then
  extra=$(cd "$ROOT/tools" && ls -d */ 2>/dev/null | tr -d / | grep -vxF -f <(tr ' ' '\n' <<<"$DEFAULT_ORDER") || true)
  set -- $DEFAULT_ORDER $extra
fi
for tool in "$@"; do
  script="$ROOT/tools/$tool/build.sh"
  [ -f "$script" ] || { echo "error: unknown tool '$tool' (have: $(cd "$ROOT/tools" && ls -d */ | tr -d / | tr '\n' ' '))" >&2; exit 2; }
  if [ "$tool" = pulumi-kubernetes ] && [ "${INFERSTACK_SKIP_UNUSED_TOOLS:-}" = 1 ] && [ -f "$ROOT/.tools/blocked/pulumi-language-python.txt" ]; then
    echo "build_tools: pulumi-kubernetes SKIPPED: no Python language host (.tools/blocked/pulumi-language-python.txt), so no test runs a program through the provider"
    continue
  fi
  start=$(date +%s)
  bash "$script"
  echo "build_tools: $tool ready in $(( $(date +%s) - start )) s"
done
