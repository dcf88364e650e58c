#!/usr/bin/env bash
# Fault 4: the node reboots (`docker restart` of the kind node container: every process on it
# dies, /run is emptied, /var and the backup folder stay). Outcomes: the cluster comes back;
# every kab pod comes back injected and its restore runs again from `latest`; no snapshot is lost
# or added by the reboot and no .partial folder stays; backups continue (the next run of each
# pod adds exactly its own snapshot); the injector injects again.
# Restarts the shared cluster's node: run it only under the kind lock (make faults is).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-reboot
pods=(a b)
new_namespace "$ns"
for p in "${pods[@]}"; do
  clean_backup_folder "fault-reboot-$p"
  apply_fault_manifest "$ns" held-backup-pod.yaml "s/FAULT_NAME/fault-reboot-$p/" "s/BLOB_MIB/4/" "s/name: held\$/name: $p/"
done
declare -A before latest
for p in "${pods[@]}"; do
  wait_pod_ready "$ns" "$p"
  assert_injected "$ns" "$p"
  backup_now "$ns" "$p" >/dev/null
  latest[$p]="$(readlink "$(host_backup "fault-reboot-$p")/latest")"
  before[$p]="$(complete_snapshots host_ls "$(host_backup "fault-reboot-$p")" | tr '\n' ' ')"
  [[ "${before[$p]}" == "${latest[$p]#snapshots/} " ]] || fail "pod $p before the reboot: snapshots '${before[$p]}', latest ${latest[$p]}"
  [[ -z "$(k -n "$ns" exec "$p" -c app -- sh -c 'cat /data/restores 2>/dev/null || true')" ]] \
    || fail "pod $p restored before the reboot although it started with no backup"
done
uid_a="$(k -n "$ns" get pod a -o jsonpath='{.metadata.uid}')"

# came_back POD : the pod is Ready on fresh status — its app and agent started after the reboot
# (right after it, the API server still shows the statuses from before).
came_back() {
  k -n "$ns" get pod "$1" -o json | jq -e --arg t "$reboot_at" '
    [(.status.containerStatuses // [])[], ((.status.initContainerStatuses // [])[] | select(.name == "kab-agent"))]
    | length == 2 and all(.ready and (.state.running.startedAt // "") > $t)' >/dev/null
}
reboot_at="$(date -u +%FT%TZ)"
log "restarting the node container $KAB_NODE_CONTAINER"
docker restart -t 10 "$KAB_NODE_CONTAINER" >/dev/null
wait_until 300 "the cluster answers and its node is Ready again" cluster_healthy
for p in "${pods[@]}"; do wait_until 300 "pod $p running again after the reboot" came_back "$p"; done
[[ "$(k -n "$ns" get pod a -o jsonpath='{.metadata.uid}')" == "$uid_a" ]] || fail "pod a was replaced, not restarted, by the reboot"

for p in "${pods[@]}"; do
  folder="$(host_backup "fault-reboot-$p")"
  assert_injected "$ns" "$p"
  restores="$(k -n "$ns" exec "$p" -c app -- cat /data/restores)"
  [[ "$restores" == "restored ${latest[$p]}" ]] || fail "pod $p after the reboot: restores '$restores', want one restore of ${latest[$p]}"
  sha="$(k -n "$ns" exec "$p" -c app -- cat /data/blob.sha256)"
  [[ "$(k -n "$ns" exec "$p" -c app -- sha256sum /data/blob | cut -d' ' -f1)" == "$sha" ]] || fail "pod $p: the restored blob does not match its sha256"
  [[ "$(complete_snapshots host_ls "$folder" | tr '\n' ' ')" == "${before[$p]}" ]] \
    || fail "pod $p: the reboot changed the snapshots: '${before[$p]}' -> '$(complete_snapshots host_ls "$folder" | tr '\n' ' ')'"
  [[ -z "$(partial_snapshots host_ls "$folder")" ]] || fail "pod $p: a .partial folder after the reboot"
  [[ "$(readlink "$folder/latest")" == "${latest[$p]}" ]] || fail "pod $p: latest moved across the reboot"
  log "ok: pod $p came back injected, restored ${latest[$p]}, snapshots unchanged"
done

# Backups continue: one run each adds exactly that run's snapshot.
for p in "${pods[@]}"; do
  folder="$(host_backup "fault-reboot-$p")"
  id="$(backup_now "$ns" "$p")"
  [[ "$(complete_snapshots host_ls "$folder" | tr '\n' ' ')" == "${before[$p]}$id " ]] \
    || fail "pod $p after one more run: snapshots '$(complete_snapshots host_ls "$folder" | tr '\n' ' ')', want '${before[$p]}$id '"
  [[ "$(readlink "$folder/latest")" == "snapshots/$id" ]] || fail "pod $p: latest did not move to the new run $id"
done
wait_injector_ready 180
log "PASS fault 4: after a node restart every kab pod came back and restored, no snapshot lost or duplicated, backups continue"

delete_namespace "$ns"
