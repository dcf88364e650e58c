#!/usr/bin/env bash
# make kind-clean: kind-down, then drop every cached product of kind-up and e2e-images
# (binaries, root filesystems, node and test images, the default backup folder).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
source "$KAB_ROOT/e2e/kind/cluster.sh"

docker_ensure
use_cluster_tools
delete_cluster
mapfile -t images < <(docker images --format '{{.Repository}}:{{.Tag}}' | grep -E '^kab-(e2e|test)/' || true)
if [[ ${#images[@]} -gt 0 ]]; then
  log "removing images: ${images[*]}"
  docker rmi -f "${images[@]}" >/dev/null
fi
docker_stop_if_ours
for d in tools k8s etcd build e2e-backups docker-daemon "kind-$KAB_CLUSTER_NAME.yaml" .node-image.lock; do
  [[ -e "$KAB_CACHE_DIR/$d" ]] && { log "removing $KAB_CACHE_DIR/$d"; rm -rf "${KAB_CACHE_DIR:?}/$d"; }
done
log "kind-clean done"
