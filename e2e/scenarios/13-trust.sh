#!/usr/bin/env bash
# Scenario 13: trustworthy backups (DESIGN §6, §7). A sqlite app's backup that writes to the wrong
# path ends "empty": not promoted, latest unchanged, kept as the one .rejected folder, and the
# KabBackupRefused alert's counter moves. Fixed, the next run succeeds. A truncated copy is caught
# by the backup-verify script (sqlite3 PRAGMA integrity_check) as "verify_failed".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-trust
folder="$(host_backup e2e-trust)"

clean_backup_folder e2e-trust
new_namespace "$ns"
apply_manifest "$ns" trust-pod.yaml >&2
wait_pod_ready "$ns" trust
assert_injected "$ns" trust

latest() { readlink "$folder/latest"; }
rejected() { find "$folder/snapshots" -mindepth 1 -maxdepth 1 -type d -name '*.rejected' -printf '%f\n' | sort; }
# run_expecting RESULT : a manual run that must end with RESULT; prints its status JSON.
run_expecting() {
  local want="$1" out id run deadline=$((SECONDS + 60))
  out="$(agent "$ns" trust backup-now)" || fail "backup-now failed: $out"
  id="$(extract_run_id "$out")"
  while :; do
    run="$(agent_status "$ns" trust | jq -c --arg id "$id" '.lastRuns[] | select(.id == $id)')"
    [[ -n "$run" ]] && break
    ((SECONDS < deadline)) || fail "run $id did not finish within 60s"
    sleep 1
  done
  [[ "$(jq -r .result <<<"$run")" == "$want" ]] || fail "run $id: $(jq -c '{result, error, outputTail}' <<<"$run"), expected result $want"
  echo "$run"
}
metric() { k get --raw "/api/v1/namespaces/$ns/pods/trust:9779/proxy/metrics" | awk -v s="$1" '$1 == s {print $2}'; }

good="$(run_expecting success)"
good_id="$(jq -r .id <<<"$good")"
(($(jq .sizeBytes <<<"$good") > 200000)) || fail "a good run's sizeBytes: $(jq -c '{sizeBytes, files}' <<<"$good")"
[[ "$(latest)" == "snapshots/$good_id" ]] || fail "latest -> '$(latest)', expected snapshots/$good_id"
log "ok: good run $good_id, $(jq .sizeBytes <<<"$good") bytes"

k -n "$ns" exec trust -c db -- touch /tmp/wrong
empty="$(run_expecting empty)"
k -n "$ns" exec trust -c db -- rm /tmp/wrong
[[ "$(latest)" == "snapshots/$good_id" ]] || fail "an empty run moved latest to '$(latest)'"
[[ "$(rejected)" == "$(jq -r .id <<<"$empty").rejected" ]] || fail "rejected folders: '$(rejected)'"
refused="$(metric 'kab_backup_runs_total{backup_name="e2e-trust",result="empty"}')"
[[ "$refused" == 1 ]] || fail "kab_backup_runs_total{result=\"empty\"} is '$refused', expected 1 (the KabBackupRefused alert's input)"
log "ok: the wrong path ended empty, latest unchanged, the refused-run counter is 1"

fixed_id="$(jq -r .id <<<"$(run_expecting success)")"
[[ "$(latest)" == "snapshots/$fixed_id" ]] || fail "latest -> '$(latest)' after the fix, expected snapshots/$fixed_id"
log "ok: fixed, run $fixed_id succeeded"

k -n "$ns" exec trust -c db -- touch /tmp/truncate
bad="$(run_expecting verify_failed)"
k -n "$ns" exec trust -c db -- rm /tmp/truncate
[[ "$(latest)" == "snapshots/$fixed_id" ]] || fail "a verify_failed run moved latest to '$(latest)'"
[[ "$(rejected)" == "$(jq -r .id <<<"$bad").rejected" ]] || fail "rejected folders after verify_failed: '$(rejected)' (only the newest is kept)"
jq -e '.outputTail | contains("--- kab: the backup-verify script did not pass")' <<<"$bad" >/dev/null \
  || fail "the verify failure is not in the output tail: $(jq -r .outputTail <<<"$bad")"
size="$(metric 'kab_backup_last_run_size_bytes{backup_name="e2e-trust"}')"
log "ok: the truncated copy ended verify_failed; last good run size $size bytes"
log "PASS 13: empty and corrupt backups are refused, latest always holds the last good one"

delete_namespace "$ns"
