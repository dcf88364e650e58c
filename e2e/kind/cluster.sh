# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables here are used by the scripts that source this file
# Cluster helpers shared by up.sh, down.sh and the smoke test. Source after common.sh.

KAB_E2E_HOSTDIR="${KAB_E2E_HOSTDIR:-$KAB_CACHE_DIR/e2e-backups}"
KAB_NODE_CONTAINER="$KAB_CLUSTER_NAME-control-plane"
# Where kab's hostPath backups live inside the node.
KAB_NODE_BACKUP_DIR=/var/lib/kab
# The kubelet's pod limit (its default is 110): the injector-kills fault case runs 200 kab pods
# on the one node. Not more than 250, because the node's pods share one /24 of addresses (the
# ptp CNI config of the offline node image, kindnet's per-node range online): 253 usable, and the
# kubelet must refuse a pod before the CNI runs out of addresses for it.
KAB_NODE_MAX_PODS=250

kctl() { kubectl --context "$KAB_KUBE_CONTEXT" --request-timeout=20s "$@"; }

cluster_exists() { kind get clusters 2>/dev/null | grep -qxF "$KAB_CLUSTER_NAME"; }

# The API server answers and the node is Ready. A cluster left by an earlier session has
# stopped containers and fails here.
cluster_healthy() {
  kind export kubeconfig --name "$KAB_CLUSTER_NAME" >/dev/null 2>&1 || return 1
  kubectl --context "$KAB_KUBE_CONTEXT" --request-timeout=5s get --raw=/readyz >/dev/null 2>&1 || return 1
  [[ "$(kubectl --context "$KAB_KUBE_CONTEXT" --request-timeout=5s get nodes \
        -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' 2>/dev/null)" == True ]]
}

# export_cluster_logs REASON : kind's node logs (journal, containers, pods) into the artifacts.
export_cluster_logs() {
  local dir
  dir="$KAB_ARTIFACTS_DIR/kind-logs-$(date +%Y%m%dT%H%M%S)-$1"
  mkdir -p "$KAB_ARTIFACTS_DIR"
  if cluster_exists && kind export logs "$dir" --name "$KAB_CLUSTER_NAME" >/dev/null 2>&1; then
    warn "cluster logs: $dir"
  else
    warn "could not export cluster logs"
  fi
}

delete_cluster() {
  cluster_exists || return 0
  log "deleting cluster $KAB_CLUSTER_NAME"
  kind delete cluster --name "$KAB_CLUSTER_NAME" >&2
}
