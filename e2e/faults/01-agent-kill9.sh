#!/usr/bin/env bash
# Fault 1: kill -9 of the kab-agent process while a snapshot-mode backup is in progress.
# Outcomes: `latest` still points at the last good snapshot with the same content, and a new pod
# restores it; the restarted agent removes the killed run's .partial folder; the next run
# succeeds and becomes `latest`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-kill9 name=fault-kill9 mib="${KAB_FAULT_BLOB_MIB:-64}"
folder="$(host_backup "$name")"
clean_backup_folder "$name"
new_namespace "$ns"
apply_fault_manifest "$ns" held-backup-pod.yaml "s/FAULT_NAME/$name/" "s/BLOB_MIB/$mib/"
wait_pod_ready "$ns" held
assert_injected "$ns" held
sha="$(k -n "$ns" exec held -c app -- cat /data/blob.sha256)"

# A first good snapshot: what must survive.
good="$(backup_now "$ns" held)"
[[ "$(readlink "$folder/latest")" == "snapshots/$good" ]] || fail "latest -> '$(readlink "$folder/latest")', want snapshots/$good"

# A second run, held after it wrote its tar: certainly in progress when the agent dies.
k -n "$ns" exec held -c app -- touch /tmp/hold
held_id="$(start_backup "$ns" held)"
tar_written() { [[ "$(running_id "$ns" held)" == "$held_id" && -s "$folder/snapshots/$held_id.partial/data.tar" ]]; }
wait_until 60 "run $held_id in progress with its tar in snapshots/$held_id.partial" tar_written
pid="$(container_pid "$ns" held kab-agent)"
before="$(restarts "$ns" held kab-agent)"
in_node kill -9 "$pid"
log "killed kab-agent (node pid $pid) during run $held_id"

agent_back() { (($(restarts "$ns" held kab-agent) > before)) && container_ready "$ns" held kab-agent; }
wait_until 90 "the kab-agent sidecar restarted and ready" agent_back
partial_gone() { [[ -z "$(partial_snapshots host_ls "$folder")" ]]; }
wait_until 30 "the restarted agent removed the .partial folder" partial_gone
[[ "$(readlink "$folder/latest")" == "snapshots/$good" ]] || fail "latest moved to '$(readlink "$folder/latest")' after the kill, want snapshots/$good"
[[ "$(complete_snapshots host_ls "$folder")" == "$good" ]] || fail "snapshots after the kill: $(complete_snapshots host_ls "$folder" | tr '\n' ' '), want only $good"
[[ "$(tar -xOf "$folder/latest/data.tar" blob | sha256sum | cut -d' ' -f1)" == "$sha" ]] || fail "the blob in latest no longer matches the app's data"
log "ok: latest -> snapshots/$good intact, snapshots/$held_id.partial removed"

# The next run succeeds.
k -n "$ns" exec held -c app -- rm -f /tmp/hold
next="$(backup_now "$ns" held)"
[[ "$(readlink "$folder/latest")" == "snapshots/$next" ]] || fail "latest -> '$(readlink "$folder/latest")' after the next run, want snapshots/$next"

# A new pod of the same backup-name restores it.
apply_fault_manifest "$ns" held-backup-pod.yaml "s/FAULT_NAME/$name/" "s/BLOB_MIB/$mib/" 's/name: held$/name: restored/'
wait_pod_ready "$ns" restored
restored_sha="$(k -n "$ns" exec restored -c app -- sh -c 'sha256sum /data/blob | cut -d" " -f1')"
[[ "$restored_sha" == "$sha" ]] || fail "the new pod's restored blob has sha256 $restored_sha, want $sha"
grep -q "restored snapshots/$next" <(k -n "$ns" exec restored -c app -- cat /data/restores) \
  || fail "the new pod did not log a restore of snapshots/$next"
log "PASS fault 1: kill -9 mid-backup left latest intact, the partial folder was removed, the next run succeeded and restores"

delete_namespace "$ns"
