# shellcheck shell=bash
# Image helpers for the e2e scripts. Source after common.sh and docker.sh:
#   load_images IMAGE...  puts already built local images into the kab-e2e node's containerd
#                         (what `imagePullPolicy: IfNotPresent` pods need on an offline node).
# Other scripts use it for kab's own images, e.g. after `docker build -f Dockerfile.injector .`:
#   load_images kab-injector:dev kab-agent:dev

source "$KAB_ROOT/e2e/kind/cluster.sh"

load_images() {
  [[ $# -gt 0 ]] || return 0
  local image
  for image in "$@"; do
    docker image inspect "$image" >/dev/null 2>&1 || die "image $image is not built (docker image inspect failed)"
  done
  command -v kind >/dev/null || use_cluster_tools
  cluster_exists || die "cluster $KAB_CLUSTER_NAME does not exist: run 'make kind-up' first"
  log "loading into $KAB_CLUSTER_NAME: $*"
  # kind skips an image whose ID the node already has, so reloading is cheap.
  kind load docker-image --name "$KAB_CLUSTER_NAME" "$@" >&2
}
