#!/usr/bin/env bash
# Builds the node's own tools from Go modules (and the pause binary from C) into the
# cache, one folder per tool and version, so a warm run only checks that files exist.
# Usage: build-tools.sh [kind|containerd|crictl|coredns|pause]...   (default: all)
# Prints "<tool>=<dir>" lines on stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CONTAINERD_VERSION="${KAB_CONTAINERD_VERSION:-v2.3.7}"
CRICTL_VERSION="${KAB_CRICTL_VERSION:-v1.37.0}"
# kubeadm v1.37.2 expects this CoreDNS tag (`kubeadm config images list`).
COREDNS_VERSION="${KAB_COREDNS_VERSION:-v1.14.6}"

tools_dir="$KAB_CACHE_DIR/tools"

build_kind() {
  local dir="$tools_dir/kind-$KAB_KIND_VERSION"
  [[ -x "$dir/kind" ]] || { log "building kind $KAB_KIND_VERSION"; go_install_to "$dir" "sigs.k8s.io/kind@$KAB_KIND_VERSION"; }
  echo "kind=$dir"
}

build_containerd() {
  local dir="$tools_dir/containerd-$CONTAINERD_VERSION" m="github.com/containerd/containerd/v2"
  if [[ ! -x "$dir/containerd" || ! -x "$dir/containerd-shim-runc-v2" || ! -x "$dir/ctr" ]]; then
    log "building containerd $CONTAINERD_VERSION"
    GO_LDFLAGS="-s -w -X $m/version.Version=$CONTAINERD_VERSION" go_install_to "$dir" \
      "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION" \
      "$m/cmd/ctr@$CONTAINERD_VERSION"
  fi
  echo "containerd=$dir"
}

build_crictl() {
  local dir="$tools_dir/crictl-$CRICTL_VERSION"
  if [[ ! -x "$dir/crictl" ]]; then
    log "building crictl $CRICTL_VERSION"
    GO_LDFLAGS="-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" \
      go_install_to "$dir" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  fi
  echo "crictl=$dir"
}

build_coredns() {
  local dir="$tools_dir/coredns-$COREDNS_VERSION"
  [[ -x "$dir/coredns" ]] || { log "building CoreDNS $COREDNS_VERSION"; go_install_to "$dir" "github.com/coredns/coredns@$COREDNS_VERSION"; }
  echo "coredns=$dir"
}

build_pause() {
  local src="$KAB_ROOT/e2e/kind/pause/pause.c" dir
  dir="$tools_dir/pause-$(hash_inputs "$src")"
  if [[ ! -x "$dir/pause" ]]; then
    log "building pause (static C)"
    apt_ensure gcc gcc libc6-dev
    mkdir -p "$dir"
    gcc -Os -static -Wall -Werror -o "$dir/pause.tmp" "$src" && strip "$dir/pause.tmp" && mv "$dir/pause.tmp" "$dir/pause"
  fi
  echo "pause=$dir"
}

[[ $# -gt 0 ]] || set -- kind containerd crictl coredns pause
for tool in "$@"; do
  case "$tool" in
    kind|containerd|crictl|coredns|pause) "build_$tool" ;;
    *) die "unknown tool: $tool" ;;
  esac
done
