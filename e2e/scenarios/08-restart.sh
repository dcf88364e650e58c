#!/usr/bin/env bash
# Scenario 8: the app container restarts (its process killed) inside the same pod. The agent
# must find the new process (new pid) and the next scheduled backup must succeed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-restart
clean_backup_folder e2e-restart
new_namespace "$ns"
apply_manifest "$ns" restarting-pod.yaml >&2
wait_pod_ready "$ns" restarter
assert_injected "$ns" restarter

one_success() { (($(successful_runs "$ns" restarter) >= 1)); }
wait_until 30 "a first successful backup" one_success
old_pid="$(agent_status "$ns" restarter | jq -r '.target.pid')"

k -n "$ns" exec restarter -c app -- sh -c 'kill -9 "$(cat /tmp/app.pid)"' || true
restarted() {
  [[ "$(k -n "$ns" get pod restarter -o jsonpath='{.status.containerStatuses[?(@.name=="app")].restartCount}')" -ge 1 ]] &&
    [[ "$(k -n "$ns" get pod restarter -o jsonpath='{.status.containerStatuses[?(@.name=="app")].ready}')" == true ]]
}
wait_until 90 "the app container restarted and is ready" restarted

refound() {
  agent_status "$ns" restarter | jq -e --argjson old "$old_pid" '.target.found == true and .target.pid != $old' >/dev/null
}
wait_until 30 "the agent found the restarted app's new process" refound
# A success that started after the agent found the new process (UTC ISO times compare as strings).
refound_at="$(date -u +%FT%T)"
success_after_restart() {
  agent_status "$ns" restarter | jq -e --arg t "$refound_at" \
    '[.lastRuns[] | select(.result == "success" and .start > $t)] | length > 0' >/dev/null
}
wait_until 30 "a successful backup after the restart" success_after_restart
log "PASS 8: app restarted (pid $old_pid -> $(agent_status "$ns" restarter | jq -r .target.pid)), the next backup succeeded"

delete_namespace "$ns"
