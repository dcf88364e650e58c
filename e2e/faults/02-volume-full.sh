#!/usr/bin/env bash
# Fault 2: the backup volume is full. The pod's backup folder is a size-limited tmpfs mounted
# inside the kind node at /var/lib/kab/<backup-name> (the hostPath subPath the pod mounts); a
# filler file leaves less room than one backup needs. Outcomes: the run fails and its status says
# "no space left"; `latest` still points at the good snapshot with the same content; no .partial
# folder stays; once the filler is removed the next run succeeds.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-full name=fault-full
dir="$KAB_NODE_BACKUP_DIR/$name" # inside the node; the host does not see the tmpfs
clean_backup_folder "$name"
in_node mkdir -p "$dir"
in_node mount -t tmpfs -o size=24m "tmpfs-$name" "$dir"
# Lazy: the pod may still hold the mount while its namespace goes away in the background.
trap 'in_node umount -l "$dir" >/dev/null 2>&1 || true' EXIT

new_namespace "$ns"
apply_fault_manifest "$ns" held-backup-pod.yaml "s/FAULT_NAME/$name/" "s/BLOB_MIB/4/"
wait_pod_ready "$ns" held
assert_injected "$ns" held
sha="$(k -n "$ns" exec held -c app -- cat /data/blob.sha256)"
latest_sha() { in_node cat "$dir/latest/data.tar" | tar -xO blob | sha256sum | cut -d' ' -f1; }

good="$(backup_now "$ns" held)"
[[ "$(in_node readlink "$dir/latest")" == "snapshots/$good" ]] || fail "latest -> '$(in_node readlink "$dir/latest")', want snapshots/$good"

# Fill the volume so that 2 MiB stay free: less than the 4 MiB tar of the next run.
avail_kib="$(in_node df -k --output=avail "$dir" | tail -1 | tr -d ' ')"
((avail_kib > 2048)) || fail "only $avail_kib KiB free on the tmpfs before filling it"
in_node dd if=/dev/zero of="$dir/filler" bs=1K count=$((avail_kib - 2048)) status=none
log "volume filled: $(in_node df -h --output=size,used,avail "$dir" | tail -1)"

failing="$(start_backup "$ns" held)"
wait_run_finished "$ns" held "$failing"
result="$(run_field "$ns" held "$failing" result)"
[[ "$result" == failure ]] || fail "the run on a full volume ended '$result', want failure"
run_json="$(agent_status "$ns" held | jq -c --arg id "$failing" '.lastRuns[] | select(.id == $id)')"
grep -qi "no space left" <<<"$run_json" || fail "the failed run's status does not say 'no space left': $run_json"
log "ok: run $failing failed: $(jq -r '.error' <<<"$run_json"); tail: $(jq -r '.outputTail' <<<"$run_json" | tail -1)"
[[ -z "$(partial_snapshots node_ls "$dir")" ]] || fail "a .partial folder stayed after the failed run: $(partial_snapshots node_ls "$dir")"
[[ "$(complete_snapshots node_ls "$dir")" == "$good" ]] || fail "snapshots after the failed run: $(complete_snapshots node_ls "$dir" | tr '\n' ' '), want only $good"
[[ "$(in_node readlink "$dir/latest")" == "snapshots/$good" ]] || fail "the failed run moved latest to '$(in_node readlink "$dir/latest")'"
[[ "$(latest_sha)" == "$sha" ]] || fail "the blob in latest no longer matches the app's data"
log "ok: latest -> snapshots/$good intact, no partial folder"

# Space freed: the next run succeeds.
in_node rm -f "$dir/filler"
next="$(backup_now "$ns" held)"
[[ "$(in_node readlink "$dir/latest")" == "snapshots/$next" ]] || fail "latest -> '$(in_node readlink "$dir/latest")' after space was freed, want snapshots/$next"
[[ "$(latest_sha)" == "$sha" ]] || fail "the blob in the new latest does not match the app's data"
log "PASS fault 2: a full volume failed the run with 'no space left', latest intact, success once space was freed"

delete_namespace "$ns"
