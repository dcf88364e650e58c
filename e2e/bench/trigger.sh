#!/usr/bin/env bash
# Trigger latency: POST /backup → the backup command's first instruction (timed in the pod by
# kabbench probe through a FIFO), against `kubectl exec … true` and an in-process client-go
# exec into the same container, BENCH_N each, interleaved. Twice: under the default
# agentResources (a 10m CPU request, so a small CPU weight when the node is busy) and under
# generous ones (e2e/bench/generous).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-trigger

restore_overlay() {
  k apply -k "$KAB_ROOT/deploy/overlays/hostpath" >/dev/null
  k -n kab-system rollout restart deployment/kab-injector >/dev/null
  wait_injector_ready 180 >/dev/null
}

# measure LABEL : one pass against a fresh trigger pod, injected with the injector's config now.
measure() {
  local label="$1" logged
  k -n "$ns" apply -f "$BENCH_MANIFESTS/trigger-pod.yaml" >/dev/null
  wait_pod_ready "$ns" trigger
  assert_injected "$ns" trigger
  log "$label: agent container $(k -n "$ns" get pod trigger -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].resources}')"
  kabbench_build
  k -n "$ns" cp "$KABBENCH" trigger:/tmp/kabbench -c app
  k -n "$ns" exec trigger -c app -- chmod 755 /tmp/kabbench
  # One untimed round first: the agent's first run readies the folder and warms its caches.
  k -n "$ns" exec trigger -c app -- /tmp/kabbench probe >/dev/null
  echo "== trigger, $label"
  kabbench trigger --context "$KAB_KUBE_CONTEXT" --namespace "$ns" --pod trigger --n "$BENCH_N" \
    --kubectl "$KAB_KUBECTL"
  # The agent's own view of the same runs: its log's "backup started" → "backup command started".
  k -n "$ns" logs trigger -c kab-agent | jq -r 'select(.msg == "backup started" or .msg == "backup command started") | [.msg, .time] | @tsv' \
    | awk -F'\t' '
        function t(s,  a) { split(s, a, /[T:Z+]/); return a[2] * 3600 + a[3] * 60 + a[4] }
        $1 == "backup started" { s = t($2) }
        $1 == "backup command started" && s { printf "%.3f\n", (t($2) - s) * 1000; s = 0 }' >"$BENCH_TMP/agentlog" || true
  mapfile -t logged <"$BENCH_TMP/agentlog"
  if ((${#logged[@]})); then
    result "$(summary "trigger $label, agent log: backup started → command started (ms)" "${logged[@]}")"
  fi
  # Where that time goes: the agent's own monotonic marks of each step from the trigger to the
  # command's start (start_us on "backup command started", µs per step, in the order taken).
  k -n "$ns" logs trigger -c kab-agent | jq -r 'select(.msg == "backup command started" and .start_us) | .start_us | to_entries[] | [.key, .value] | @tsv'     >"$BENCH_TMP/steps" || true
  local step
  for step in $(awk '!seen[$1]++ { print $1 }' "$BENCH_TMP/steps"); do
    mapfile -t logged < <(awk -v s="$step" '$1 == s { printf "%.3f\n", $2 / 1000 }' "$BENCH_TMP/steps")
    result "$(summary "trigger $label, agent step $step (ms)" "${logged[@]}")"
  done
  delete_pod "$ns" trigger
}

new_namespace "$ns"
measure "default agentResources"
trap restore_overlay EXIT
k apply -k "$BENCH_DIR/generous" >/dev/null
k -n kab-system rollout restart deployment/kab-injector >/dev/null
wait_injector_ready 180
measure "generous agentResources (cpu 1, memory 4Gi)"
delete_namespace "$ns"
