#!/usr/bin/env bash
# Scenarios 1 and 2: the seed's example pod.
#  1. verbatim (local image, 5 s schedule): its backups appear in the host folder, on schedule;
#  2. deleted and re-created (with /data on a volume, so the app can see what the restore
#     container wrote): the restore container restores the content the first pod backed up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-seed
backup="$(host_backup my-app)/data.tar"
marker="seed-$(date +%s)-$RANDOM"

clean_backup_folder my-app
new_namespace "$ns"

# --- 1: backups on schedule ------------------------------------------------------------------
apply_manifest "$ns" seed-pod.yaml >&2
wait_pod_ready "$ns" app
assert_injected "$ns" app
k -n "$ns" exec app -c app -- sh -c "echo $marker > /data/hello.txt"

backup_has_marker() { [[ "$(tar -xOf "$backup" ./hello.txt 2>/dev/null)" == "$marker" ]]; }
wait_until 30 "the host folder's my-app/data.tar holds the app's /data/hello.txt" backup_has_marker

# On schedule: three successful runs, each about 5 s after the one before (the agent keeps the
# start times of its recent runs).
three_runs() { (($(successful_runs "$ns" app) >= 3)); }
wait_until 40 "three successful scheduled backups" three_runs
gaps="$(agent_status "$ns" app | jq -r '[.lastRuns[] | select(.result == "success") | .start
  | sub("\\.[0-9]+"; "") | fromdateiso8601] | sort | [range(1; length) as $i | .[$i] - .[$i-1]] | map(tostring) | join(" ")')"
for gap in $gaps; do
  ((gap >= 3 && gap <= 9)) || fail "backups are not on the 5 s schedule: gaps between runs are $gaps s"
done
log "PASS 1: seed pod backs up into the host folder every 5 s (gaps: $gaps s)"

# --- 2: delete, re-create, restored ----------------------------------------------------------
delete_pod "$ns" app
apply_manifest "$ns" seed-pod-datavolume.yaml >&2
wait_pod_ready "$ns" app
assert_injected "$ns" app
restore_exit="$(k -n "$ns" get pod app -o jsonpath='{.status.initContainerStatuses[?(@.name=="kab-restore")].state.terminated.exitCode}')"
[[ "$restore_exit" == 0 ]] || fail "kab-restore did not exit 0 (exit code '$restore_exit')"
restored="$(k -n "$ns" exec app -c app -- cat /data/hello.txt 2>&1)" \
  || fail "the re-created pod has no /data/hello.txt: the restore did not happen ($restored)"
[[ "$restored" == "$marker" ]] || fail "restored /data/hello.txt holds '$restored', expected '$marker'"
log "PASS 2: the re-created pod's restore container restored /data/hello.txt ($marker)"

delete_namespace "$ns"
