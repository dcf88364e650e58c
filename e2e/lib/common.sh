# shellcheck shell=bash
# Shared helpers for the e2e scripts: where the repo and the cache are, logging, and a
# content hash for cache keys. Source it; it sets no shell options of its own so that a
# caller's `set -euo pipefail` stays in charge.

if [[ -n "${KAB_COMMON_SH_LOADED:-}" ]]; then return 0; fi
KAB_COMMON_SH_LOADED=1

KAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAB_CACHE_DIR="${KAB_CACHE_DIR:-$KAB_ROOT/.cache}"
KAB_ARTIFACTS_DIR="${KAB_ARTIFACTS_DIR:-$KAB_ROOT/e2e/_artifacts}"
export KAB_ROOT KAB_CACHE_DIR KAB_ARTIFACTS_DIR

# Versions the e2e cluster is pinned to; the node image cache key includes them.
KAB_KIND_VERSION="${KAB_KIND_VERSION:-v0.33.0}"
KAB_K8S_VERSION="${KAB_K8S_VERSION:-v1.37.2}"
KAB_CLUSTER_NAME="${KAB_CLUSTER_NAME:-kab-e2e}"
KAB_KUBE_CONTEXT="kind-$KAB_CLUSTER_NAME"
export KAB_KIND_VERSION KAB_K8S_VERSION KAB_CLUSTER_NAME KAB_KUBE_CONTEXT

# log/warn go to stderr so that scripts can print results (paths, tags) on stdout.
log()  { printf '\033[1m[%s %s]\033[0m %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; }
warn() { printf '\033[33m[%s %s] WARN:\033[0m %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; }
die()  { printf '\033[31m[%s %s] FAIL:\033[0m %s\n' "$(date +%H:%M:%S)" "${0##*/}" "$*" >&2; exit 1; }

# hash_inputs PATH... : a short, stable hash of file names and contents (directories are
# walked), used to key caches on the inputs that produce them.
hash_inputs() {
  local p
  for p in "$@"; do
    if [[ -d "$p" ]]; then
      (cd "$p" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
    else
      sha256sum "$p"
    fi
  done | sed "s#$KAB_ROOT/##" | sha256sum | cut -c1-12
}

# hash_str STRING... : a short hash of strings (versions, package lists).
hash_str() { printf '%s\n' "$@" | sha256sum | cut -c1-12; }

# apt_ensure CMD PACKAGE... : install Debian packages when CMD is missing. The machines
# are handed out fresh, so scripts install what they need instead of assuming it.
apt_ensure() {
  local cmd="$1"; shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  log "installing $* (apt) for $cmd"
  # A fresh machine may have no package lists yet.
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2; }
}

# go_install_to DIR PKG@VERSION... : build Go commands (all from one module version) with
# the module proxy into DIR. Run outside the repo so that kab's own go.mod is never touched.
go_install_to() {
  local dir="$1"; shift
  mkdir -p "$dir"
  (cd / && GOBIN="$dir" GOFLAGS=-trimpath CGO_ENABLED=0 go install -ldflags="${GO_LDFLAGS:--s -w}" "$@") >&2
}

# use_cluster_tools : put kind and a kubectl matching the cluster first on PATH (both built
# into the cache on first use; the machine's own kubectl may be any version).
use_cluster_tools() {
  local kind_dir k8s_bin
  kind_dir="$("$KAB_ROOT/e2e/kind/build-tools.sh" kind)"; kind_dir="${kind_dir#kind=}"
  k8s_bin="$("$KAB_ROOT/e2e/lib/build-k8s.sh" kubectl)"
  export PATH="$kind_dir:$k8s_bin:$PATH"
}
