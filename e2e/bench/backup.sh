#!/usr/bin/env bash
# Backup overhead: a tar of 1 GiB of app data (a) run by the agent (POST /backup through
# `kab-agent backup-now`; the agent's own run duration), (b) through `kubectl exec` in the app
# container (wall clock), (c) natively in the app container (`ctr task exec` in the kind node,
# timed in the node). Interleaved, with the page cache written back between samples. First
# under the default agentResources, then under generous ones (the backup runs in the agent's
# cgroup, DESIGN §13). Also checks that a memory-hungry dump fails saying it was OOM-killed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-backup
n="$BENCH_N"; ((n <= 8)) || n=8 # 1 GiB a sample: 8 of each is enough to see the spread

restore_overlay() {
  k apply -k "$KAB_ROOT/deploy/overlays/hostpath" >/dev/null
  k -n kab-system rollout restart deployment/kab-injector >/dev/null
  wait_injector_ready 180 >/dev/null
}

# app_pod NAME : the 1 GiB pod, Ready once its data is written; prints nothing.
app_pod() {
  clean_backup_folder "bench-$1"
  sed "s/NAME/$1/g" "$BENCH_MANIFESTS/backup-pod.yaml" | k -n "$ns" apply -f - >/dev/null
  wait_pod_ready "$ns" "$1" 300
  assert_injected "$ns" "$1"
}

# forget NAME : remove what the samples wrote and write the page cache back (untimed).
forget() { rm -f "$(host_backup "bench-$1")"/*.tar; node_sh sync; }

# by_agent POD : seconds of the agent's run (its own start → end), failing unless it succeeded.
by_agent() {
  local pod="$1" id out
  out="$(agent "$ns" "$pod" backup-now)" || fail "backup-now in $pod: $out"
  id="$(extract_run_id "$out")"
  [[ -n "$id" ]] || fail "backup-now printed no run id: $out"
  wait_until 300 "run $id of $pod finished" run_done "$pod" "$id" >&2
  out="$(agent_status "$ns" "$pod" | jq -c --arg id "$id" '.lastRuns[] | select(.id == $id)')"
  [[ "$(jq -r .result <<<"$out")" == success ]] || fail "the agent's run in $pod did not succeed: $out"
  jq -r .durationSeconds <<<"$out"
}
run_done() { [[ -n "$(agent_status "$ns" "$1" | jq -r --arg id "$2" '.lastRuns[] | select(.id == $id) | .result')" ]]; }

# by_exec POD : seconds of `kubectl exec` running the same tar.
by_exec() {
  local t0 t1
  t0="$(now_ns)"
  k -n "$ns" exec "$1" -c app -- tar -C /data -cf /kab-backup/exec.tar . || fail "tar through kubectl exec failed"
  t1="$(now_ns)"
  awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e9 }'
}

# natively POD : seconds of the same tar started by containerd in the app container, timed in
# the node (no API server, kubelet or kubectl in the way).
natively() {
  local cid
  cid="$(k -n "$ns" get pod "$1" -o jsonpath='{.status.containerStatuses[?(@.name=="app")].containerID}')"
  cid="${cid#containerd://}"
  [[ -n "$cid" ]] || fail "no container id for $1/app"
  node_sh "s=\$(date +%s%N); ctr -n k8s.io task exec --exec-id bench-\$\$ $cid tar -C /data -cf /kab-backup/native.tar . || exit 1; e=\$(date +%s%N); awk -v d=\$((e - s)) 'BEGIN { printf \"%.3f\\n\", d / 1e9 }'" \
    || fail "tar through ctr task exec failed"
}

# measure POD LABEL : n interleaved samples of the three ways; prints the figures.
measure() {
  local pod="$1" label="$2" i a=() b=() c=() size
  for ((i = 0; i < n; i++)); do
    # Rotate the order so no way always runs right after another's write-back.
    for way in $(printf '%s\n' agent exec native agent exec | tail -n +$((i % 3 + 1)) | head -3); do
      forget "$pod"
      case "$way" in
        agent) a+=("$(by_agent "$pod")") ;;
        exec) b+=("$(by_exec "$pod")") ;;
        native) c+=("$(natively "$pod")") ;;
      esac
    done
    log "sample $((i + 1)) $label: agent ${a[i]} s, kubectl exec ${b[i]} s, native ${c[i]} s"
  done
  # The last sample's tar (any of the three ways: the next sample would remove it).
  size="$(stat -c %s "$(host_backup "bench-$pod")"/*.tar | head -1)"
  result "backup $label: tar of $((size / 1048576)) MiB"
  result "$(summary "backup $label (a) agent (s)" "${a[@]}")"
  result "$(summary "backup $label (b) kubectl exec (s)" "${b[@]}")"
  result "$(summary "backup $label (c) native ctr exec (s)" "${c[@]}")"
  result "backup $label ratios (medians): (a)/(c) $(ratio "$(median "${a[@]}")" "$(median "${c[@]}")"), (b)/(a) $(ratio "$(median "${b[@]}")" "$(median "${a[@]}")")"
}

# oom_check : a dump that outgrows the agent's memory limit fails, and says OOM-killed.
oom_check() {
  local out id run
  clean_backup_folder bench-oom
  k -n "$ns" apply -f "$BENCH_MANIFESTS/oom-pod.yaml" >/dev/null
  wait_pod_ready "$ns" oom
  out="$(agent "$ns" oom backup-now)" || fail "backup-now in oom: $out"
  id="$(extract_run_id "$out")"
  wait_until 120 "the memory-hungry run $id finished" run_done oom "$id"
  run="$(agent_status "$ns" oom | jq -c --arg id "$id" '.lastRuns[] | select(.id == $id) | {result, exitCode, error}')"
  result "backup memory-hungry dump under limit $(k -n "$ns" get pod oom -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].resources.limits.memory}'): $run"
  [[ "$(jq -r .result <<<"$run")" == failure ]] || fail "the memory-hungry run did not fail: $run"
  grep -qi "OOM-killed" <<<"$run" || fail "the memory-hungry run failed without saying it was OOM-killed: $run"
  k -n "$ns" delete pod oom --grace-period=1 --wait=false >/dev/null
}

new_namespace "$ns"
app_pod backup-default
log "default agent container: $(k -n "$ns" get pod backup-default -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].resources}')"
measure backup-default "default agentResources"
oom_check
delete_pod "$ns" backup-default

trap restore_overlay EXIT
k apply -k "$BENCH_DIR/generous" >/dev/null
k -n kab-system rollout restart deployment/kab-injector >/dev/null
wait_injector_ready 180
app_pod backup-generous
log "generous agent container: $(k -n "$ns" get pod backup-generous -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].resources}')"
measure backup-generous "generous agentResources (cpu 1, memory 4Gi)"
delete_pod "$ns" backup-generous
delete_namespace "$ns"
