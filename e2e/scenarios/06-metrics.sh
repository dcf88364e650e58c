#!/usr/bin/env bash
# Scenario 6: the agent's CLI and metrics. `kab-agent status` and `kab-agent backup-now` work
# through kubectl exec, and another pod scrapes /metrics over the pod network (as Prometheus
# would, through the port named kab-metrics) and sees the backup counted.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-metrics
clean_backup_folder e2e-metrics
new_namespace "$ns"
# The restarting app with an hourly schedule: only backup-now runs a backup here.
apply_manifest "$ns" restarting-pod.yaml 's/name: restarter/name: app/' 's/e2e-restart/e2e-metrics/' \
  's/backup-schedule: "3"/backup-schedule: "1h"/' >&2
apply_manifest "$ns" metrics-client-pod.yaml >&2
wait_pod_ready "$ns" app
wait_pod_ready "$ns" scraper
assert_injected "$ns" app

status="$(agent_status "$ns" app)" || fail "kab-agent status failed: $status"
jq -e '.backupName == "e2e-metrics"' <<<"$status" >/dev/null || fail "status names the wrong backup: $status"
found() { agent_status "$ns" app | jq -e '.target.found == true and .target.pid > 0' >/dev/null; }
wait_until 20 "status reports the app process found" found
log "ok: kab-agent status: $(agent_status "$ns" app | jq -c '{backupName, target, nextRun}')"

backup_now "$ns" app >/dev/null
[[ -f "$(host_backup e2e-metrics)/last" ]] || fail "backup-now reported success but wrote nothing to the host folder"

port="$(k -n "$ns" get pod app -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].ports[?(@.name=="kab-metrics")].containerPort}')"
[[ -n "$port" ]] || fail "the kab-agent container has no port named kab-metrics"
ip="$(k -n "$ns" get pod app -o jsonpath='{.status.podIP}')"
scrape() {
  k -n "$ns" exec scraper -- sh -c "printf 'GET $1 HTTP/1.0\r\nHost: $ip\r\n\r\n' | nc -w 5 $ip $port"
}
metrics="$(scrape /metrics)" || fail "could not scrape http://$ip:$port/metrics from another pod"
[[ "$metrics" == "HTTP/1."?" 200"* ]] || fail "GET /metrics did not answer 200: $(head -1 <<<"$metrics")"
expect_metric() { # REGEX WHAT
  grep -Eq "$1" <<<"$metrics" || fail "metrics lack $2 (/$1/); got: $(grep '^kab_' <<<"$metrics" | head -30)"
}
expect_metric '^kab_backup_runs_total\{[^}]*backup_name="e2e-metrics"[^}]*result="success"[^}]*\} [1-9]' "a counted successful run"
expect_metric '^kab_target_up\{[^}]*backup_name="e2e-metrics"[^}]*\} 1$' "kab_target_up 1"
expect_metric '^kab_backup_last_success_timestamp_seconds\{[^}]*\} [1-9]' "the last success time"
expect_metric '^kab_backup_next_run_timestamp_seconds\{[^}]*\} [1-9]' "the next run time"
expect_metric '^kab_backup_last_exit_code\{[^}]*\} 0$' "exit code 0"
expect_metric '^kab_backup_duration_seconds_count\{[^}]*\} [1-9]' "the duration histogram"
health="$(scrape /healthz)" || fail "could not reach /healthz"
[[ "$health" == "HTTP/1."?" 200"* ]] || fail "GET /healthz did not answer 200: $(head -1 <<<"$health")"
log "PASS 6: status and backup-now via kubectl exec; metrics scraped from another pod at $ip:$port"

delete_namespace "$ns"
