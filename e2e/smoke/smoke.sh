#!/usr/bin/env bash
# make e2e-smoke: proves the kab-e2e cluster can run what kab needs: an init container that
# runs before the app, a native sidecar (restartPolicy: Always) whose processes the app sees
# through shareProcessNamespace, a hostPath on the node's backup folder that lands in
# $KAB_E2E_HOSTDIR, and a Service (reached by ClusterIP and by DNS name from another pod).
# Every check exits non-zero with a message. On failure: pod state and kind logs go to
# e2e/_artifacts, then the cluster is deleted (KAB_E2E_KEEP=1 keeps it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
source "$KAB_ROOT/e2e/kind/cluster.sh"

NS=kab-smoke
check="setup"
on_exit() {
  local rc=$?
  if [[ $rc -eq 0 ]]; then
    kctl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true
    return 0
  fi
  warn "e2e-smoke FAILED at check: $check"
  local dir
  dir="$KAB_ARTIFACTS_DIR/smoke-$(date +%Y%m%dT%H%M%S)"
  mkdir -p "$dir"
  kctl -n "$NS" get all,events -o wide >"$dir/resources.txt" 2>&1 || true
  kctl -n "$NS" describe pods >"$dir/describe-pods.txt" 2>&1 || true
  for c in restore sidecar app; do kctl -n "$NS" logs smoke -c "$c" >"$dir/smoke-$c.log" 2>&1 || true; done
  kctl -n "$NS" logs client >"$dir/client.log" 2>&1 || true
  warn "pod state: $dir"
  if [[ "${KAB_E2E_KEEP:-0}" == 1 ]]; then
    warn "KAB_E2E_KEEP=1: leaving the cluster up"
  else
    export_cluster_logs smoke
    "$KAB_ROOT/e2e/kind/down.sh" || true
  fi
}
trap on_exit EXIT

fail() { die "$check: $*"; }

docker_answers || die "no Docker engine answers: run 'make kind-up' first"
use_cluster_tools
cluster_healthy || die "cluster $KAB_CLUSTER_NAME is not healthy: run 'make kind-up' first"

check="apply workload"
kctl delete namespace "$NS" --ignore-not-found --wait=true --timeout=60s >/dev/null
kctl create namespace "$NS" >/dev/null
rm -f "$KAB_E2E_HOSTDIR/smoke/written-by-smoke"
kctl -n "$NS" apply -f "$KAB_ROOT/e2e/smoke/smoke.yaml" >/dev/null

check="pod Ready"
kctl -n "$NS" wait pod/smoke --for=condition=Ready --timeout=120s >/dev/null \
  || fail "pod smoke did not become Ready in 120s"

check="init container ran first"
[[ "$(kctl -n "$NS" exec smoke -c app -- cat /www/index.html)" == smoke-ok ]] \
  || fail "the app does not see the file the init container wrote"

check="native sidecar running"
[[ "$(kctl -n "$NS" get pod smoke -o jsonpath='{.spec.initContainers[?(@.name=="sidecar")].restartPolicy}')" == Always ]] \
  || fail "the API server dropped restartPolicy: Always from the sidecar"
[[ "$(kctl -n "$NS" get pod smoke -o jsonpath='{.status.initContainerStatuses[?(@.name=="sidecar")].started}')" == true ]] \
  || fail "the sidecar is not running next to the app"

check="shared process namespace"
ps_out="$(kctl -n "$NS" exec smoke -c app -- ps -o pid,args)"
grep -q 'sleep 2147483' <<<"$ps_out" || fail "the app container does not see the sidecar's process; ps shows:
$ps_out"
grep -q 'httpd -f -p 8080' <<<"$ps_out" || fail "the app container does not see its own httpd; ps shows:
$ps_out"
sidecar_ps="$(kctl -n "$NS" exec smoke -c sidecar -- ps -o pid,args)"
grep -q 'httpd -f -p 8080' <<<"$sidecar_ps" || fail "the sidecar does not see the app's process"

check="hostPath backup folder reaches the host"
for _ in $(seq 10); do [[ -s "$KAB_E2E_HOSTDIR/smoke/written-by-smoke" ]] && break; sleep 1; done
[[ -s "$KAB_E2E_HOSTDIR/smoke/written-by-smoke" ]] \
  || fail "file written to node:$KAB_NODE_BACKUP_DIR/smoke is not in $KAB_E2E_HOSTDIR/smoke"

check="Service answers"
cluster_ip="$(kctl -n "$NS" get service smoke -o jsonpath='{.spec.clusterIP}')"
# A separate client pod, so the request really goes through the Service (kube-proxy) and
# CoreDNS. busybox's nc uses the ClusterIP (static glibc cannot resolve names in a scratch
# image); its own nslookup checks DNS.
kctl -n "$NS" run client --image=kab-test/busybox:e2e --restart=Never --command -- sh -c "
  for i in \$(seq 30); do
    if printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 3 $cluster_ip 80 | grep -q smoke-ok; then
      echo SERVICE-OK; break
    fi
    sleep 2
  done
  nslookup smoke.$NS.svc.cluster.local | grep -q '$cluster_ip' && echo DNS-OK
  true" >/dev/null
kctl -n "$NS" wait pod/client --for=jsonpath='{.status.phase}'=Succeeded --timeout=120s >/dev/null \
  || fail "client pod did not finish"
client_log="$(kctl -n "$NS" logs client)"
grep -q SERVICE-OK <<<"$client_log" || fail "Service smoke ($cluster_ip:80) did not answer with the app's page"
check="cluster DNS"
grep -q DNS-OK <<<"$client_log" || fail "CoreDNS did not resolve smoke.$NS.svc.cluster.local to $cluster_ip"

check="done"
log "e2e-smoke passed: init container, native sidecar, shared PID namespace, hostPath, Service, DNS"
