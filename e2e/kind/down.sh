#!/usr/bin/env bash
# make kind-down: delete the kab-e2e cluster and stop the Docker daemon if kab started it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
source "$KAB_ROOT/e2e/kind/cluster.sh"

if docker_answers; then
  use_cluster_tools
  delete_cluster
else
  log "no Docker engine answers: no cluster to delete"
fi
docker_stop_if_ours
log "kind-down done"
