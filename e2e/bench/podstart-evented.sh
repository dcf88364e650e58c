#!/usr/bin/env bash
# Pod start on a node whose kubelet runs the EventedPLEG feature gate (alpha, off by default):
# the same three pods as podstart.sh (plain, kab, kab's shape by hand), BENCH_N each, rotated.
# Why: with the default generic PLEG an init container's exit waits for the kubelet's 1 s
# periodic relist before the next container starts (docs/PERFORMANCE.md, "Pod start"); with
# EventedPLEG the runtime's CONTAINER_STOPPED event triggers the relist at once. This shows
# what kab's pod start is on a node an admin has switched over, and whether the shape or kab
# is then what remains.
#
# The gate is switched on in the e2e node's /var/lib/kubelet/config.yaml and the kubelet
# restarted (running pods stay); the original file is put back and the kubelet restarted again
# on every way out, so the cluster the other suites use keeps Kubernetes' defaults.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The same namespace as podstart.sh: the manifests' backup-name is claimed by it (tenancy).
ns=kab-bench-podstart
kubelet_config=/var/lib/kubelet/config.yaml
saved="$kubelet_config.kab-bench"

# kubelet_restart : restart the node's kubelet and wait until it serves and the node is Ready.
kubelet_restart() {
  node_sh 'systemctl restart kubelet'
  for _ in $(seq 90); do
    # Through the API server's node proxy: the node image has no HTTP client of its own.
    if [[ "$(k get --raw "/api/v1/nodes/$KAB_NODE_CONTAINER/proxy/healthz" 2>/dev/null)" == ok ]] &&
      [[ "$(k get node "$KAB_NODE_CONTAINER" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]; then
      return 0
    fi
    sleep 1
  done
  die "the kubelet on $KAB_NODE_CONTAINER did not come back within 90 s (journalctl -u kubelet in the node)"
}

restore_kubelet() {
  if node_sh "test -f $saved"; then
    log "putting the kubelet's own configuration back"
    node_sh "mv $saved $kubelet_config"
    kubelet_restart
  fi
}

node_sh "grep -q '^featureGates:' $kubelet_config" &&
  die "$kubelet_config in the node already sets featureGates; this script only adds the section"
trap restore_kubelet EXIT
node_sh "cp $kubelet_config $saved && printf 'featureGates:\n  EventedPLEG: true\n' >>$kubelet_config"
log "kubelet restarted with EventedPLEG on"
kubelet_restart

# The gate must really be in effect: the evented PLEG registers its own metrics on start.
metrics="$(k get --raw "/api/v1/nodes/$KAB_NODE_CONTAINER/proxy/metrics")"
grep -q '^kubelet_evented_pleg_connection_error_count' <<<"$metrics" ||
  die "the kubelet serves no kubelet_evented_pleg_* metric: the EventedPLEG gate did not take effect"
grep '^kubelet_evented_pleg_connection_error_count' <<<"$metrics"
wait_injector_ready 180 >/dev/null

new_namespace "$ns"
kabbench podstart --context "$KAB_KUBE_CONTEXT" --namespace "$ns" --n "$BENCH_N" \
  --plain "$BENCH_MANIFESTS/podstart-plain.yaml" --kab "$BENCH_MANIFESTS/podstart-kab.yaml" \
  --shape "$BENCH_MANIFESTS/podstart-shape.yaml"
# Errors after the runs mean some events were missed and the generic relist covered for them.
k get --raw "/api/v1/nodes/$KAB_NODE_CONTAINER/proxy/metrics" | grep '^kubelet_evented_pleg_connection_error_count'
delete_namespace "$ns"
