#!/usr/bin/env bash
# make kind-up: a working single-node kind cluster "kab-e2e" (context kind-kab-e2e) whose node
# mounts $KAB_E2E_HOSTDIR at /var/lib/kab. Reuses a healthy cluster, replaces a dead one.
# Offline (KAB_OFFLINE=1, the default when no registry answers) the node image is assembled
# locally by node-image.sh; online kind's default node image is used.
# On failure: exports kind's logs to e2e/_artifacts, deletes the cluster and stops a Docker
# daemon this run started (KAB_E2E_KEEP=1 keeps them for debugging).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
source "$KAB_ROOT/e2e/kind/cluster.sh"

step="start"
started=$SECONDS
on_exit() {
  local rc=$?
  [[ $rc -eq 0 ]] && return 0
  warn "kind-up FAILED during: $step (exit $rc)"
  if [[ "${KAB_E2E_KEEP:-0}" == 1 ]]; then
    warn "KAB_E2E_KEEP=1: leaving the cluster and daemons as they are"
    return
  fi
  if docker_answers && command -v kind >/dev/null; then
    export_cluster_logs kind-up
    delete_cluster || true
  fi
  docker_stop_if_started_now || true
}
trap on_exit EXIT

# A registry "answers" when Docker's index server returns any HTTP response quickly. The
# address comes from the daemon, so no registry is named here.
registry_answers() {
  local url
  url="$(docker info --format '{{.IndexServerAddress}}' 2>/dev/null)" && [[ -n "$url" ]] || return 1
  curl -s -o /dev/null --connect-timeout 3 --max-time 5 "$url"
}

step="Docker engine"
docker_ensure

step="kind and kubectl"
use_cluster_tools

step="offline probe"
offline="${KAB_OFFLINE:-}"
if [[ -z "$offline" ]]; then
  if registry_answers; then offline=0; else offline=1; fi
fi
log "mode: $([[ $offline == 1 ]] && echo "offline (local node image)" || echo "online (kind's default node image)")"

image=""
if [[ "$offline" == 1 ]]; then
  step="node image"
  image="$("$KAB_ROOT/e2e/kind/node-image.sh")"
fi

step="reuse check"
mkdir -p "$KAB_E2E_HOSTDIR"
hostdir="$(cd "$KAB_E2E_HOSTDIR" && pwd -P)"
if cluster_exists; then
  reason=""
  if ! cluster_healthy; then
    reason="it does not answer or its node is not Ready"
  elif [[ -n "$image" && "$(docker inspect -f '{{.Config.Image}}' "$KAB_NODE_CONTAINER" 2>/dev/null)" != "$image" ]]; then
    reason="its node runs another image than $image"
  elif ! docker inspect -f '{{range .Mounts}}{{.Source}}={{.Destination}}{{"\n"}}{{end}}' "$KAB_NODE_CONTAINER" \
      | grep -qxF "$hostdir=$KAB_NODE_BACKUP_DIR"; then
    reason="its node does not mount $hostdir"
  elif [[ "$(kctl get node "$KAB_NODE_CONTAINER" -o jsonpath='{.status.capacity.pods}' 2>/dev/null)" != "$KAB_NODE_MAX_PODS" ]]; then
    reason="its kubelet does not allow $KAB_NODE_MAX_PODS pods (a cluster made by an older up.sh)"
  fi
  if [[ -z "$reason" ]]; then
    log "reusing healthy cluster $KAB_CLUSTER_NAME (context $KAB_KUBE_CONTEXT) in $((SECONDS - started))s"
    exit 0
  fi
  log "replacing cluster $KAB_CLUSTER_NAME: $reason"
  step="delete old cluster"
  delete_cluster
fi

step="kind create cluster"
config="$KAB_CACHE_DIR/kind-$KAB_CLUSTER_NAME.yaml"
# Offline there is no kindnet image: the node image carries a static ptp CNI config instead.
# kubelet >= 1.35 refuses cgroup v1 hosts unless told otherwise (harmless on cgroup v2).
# maxPods: see KAB_NODE_MAX_PODS in cluster.sh.
cat >"$config" <<YAML
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  disableDefaultCNI: $([[ $offline == 1 ]] && echo true || echo false)
nodes:
- role: control-plane
  extraMounts:
  - hostPath: $hostdir
    containerPath: $KAB_NODE_BACKUP_DIR
kubeadmConfigPatches:
- |
  kind: KubeletConfiguration
  failCgroupV1: false
  maxPods: $KAB_NODE_MAX_PODS
YAML
log "creating cluster $KAB_CLUSTER_NAME${image:+ from $image}"
kind create cluster --name "$KAB_CLUSTER_NAME" --config "$config" ${image:+--image "$image"} \
  --retain --wait 180s >&2

step="CoreDNS ready"
kctl -n kube-system rollout status deployment/coredns --timeout=180s >&2
step="default ServiceAccount"
for _ in $(seq 60); do kctl get serviceaccount default >/dev/null 2>&1 && break; sleep 1; done
kctl get serviceaccount default >/dev/null

log "cluster $KAB_CLUSTER_NAME is up (context $KAB_KUBE_CONTEXT, $hostdir -> node:$KAB_NODE_BACKUP_DIR) in $((SECONDS - started))s"
