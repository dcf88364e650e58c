#!/usr/bin/env bash
# Fault 3: the app container's process is killed (kill -9, the container restarts in place) while
# a backup runs in it. Outcomes: the run fails and the agent records why — the app process went
# away, so nothing it wrote is trusted; its .partial folder is removed and `latest` is unchanged;
# the next run succeeds against the restarted app's new process.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-appkill name=fault-appkill
folder="$(host_backup "$name")"
clean_backup_folder "$name"
new_namespace "$ns"
apply_fault_manifest "$ns" held-backup-pod.yaml "s/FAULT_NAME/$name/" "s/BLOB_MIB/4/"
wait_pod_ready "$ns" held
assert_injected "$ns" held

good="$(backup_now "$ns" held)"
old_pid="$(agent_status "$ns" held | jq -r '.target.pid')"

# A run held in the app's root; the app dies under it.
k -n "$ns" exec held -c app -- touch /tmp/hold
held_id="$(start_backup "$ns" held)"
tar_written() { [[ "$(running_id "$ns" held)" == "$held_id" && -s "$folder/snapshots/$held_id.partial/data.tar" ]]; }
wait_until 60 "run $held_id in progress with its tar written" tar_written
before="$(restarts "$ns" held app)"
pid="$(container_pid "$ns" held app)"
in_node kill -9 "$pid"
log "killed the app (node pid $pid) during run $held_id"

wait_run_finished "$ns" held "$held_id"
run_json="$(agent_status "$ns" held | jq -c --arg id "$held_id" '.lastRuns[] | select(.id == $id)')"
[[ "$(jq -r .result <<<"$run_json")" == failure ]] || fail "the run whose app was killed ended '$(jq -r .result <<<"$run_json")', want failure: $run_json"
jq -r .error <<<"$run_json" | grep -q "the app process exited or was replaced during the run" \
  || fail "the run does not record that the app went away: $run_json"
log "ok: run $held_id failed: $(jq -r .error <<<"$run_json")"
partial_gone() { [[ -z "$(partial_snapshots host_ls "$folder")" ]]; }
wait_until 10 "the failed run's .partial folder removed" partial_gone
[[ "$(readlink "$folder/latest")" == "snapshots/$good" ]] || fail "latest -> '$(readlink "$folder/latest")' after the failed run, want snapshots/$good"

app_back() { (($(restarts "$ns" held app) > before)) && container_ready "$ns" held app; }
wait_until 90 "the app container restarted and ready" app_back
refound() { agent_status "$ns" held | jq -e --argjson old "$old_pid" '.target.found and .target.pid != $old' >/dev/null; }
wait_until 30 "the agent found the restarted app's new process" refound
next="$(backup_now "$ns" held)"
[[ "$(readlink "$folder/latest")" == "snapshots/$next" ]] || fail "latest -> '$(readlink "$folder/latest")' after the next run, want snapshots/$next"
log "PASS fault 3: the app killed mid-backup failed the run as 'app process went away', the next run succeeded (pid $old_pid -> $(agent_status "$ns" held | jq -r .target.pid))"

delete_namespace "$ns"
