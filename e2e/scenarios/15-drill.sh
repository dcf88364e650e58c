#!/usr/bin/env bash
# Scenario 15: restore drills with `kubectl kab drill`. Two snapshots are taken; then the older
# one is corrupted on the host, as bit rot would. A drill of latest restores into a throwaway pod
# (the data it restored is what the good snapshot holds, seen by backup-verify in that pod) and
# exits 0; a drill of the corrupt snapshot exits 1 through backup-verify; a drill of a stamp that
# does not exist exits non-zero listing the snapshots. Nothing in the live backup folder changes
# (checksums of every entry on the host, before and after), the live pod keeps running
# untouched, and no drill pod is left behind.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kubectl-kab" "$KAB_ROOT/kubectl-kab/cmd/kubectl-kab"
kk() { "$tmp/kubectl-kab" --context "$KAB_KUBE_CONTEXT" "$@"; }

ns=kab-e2e-drill
folder="$(host_backup e2e-drill)"
clean_backup_folder e2e-drill
new_namespace "$ns"
apply_manifest "$ns" drill-pod.yaml >&2
wait_pod_ready "$ns" drilled
assert_injected "$ns" drilled
live_uid="$(k -n "$ns" get pod drilled -o jsonpath='{.metadata.uid}')"

# Two good snapshots with different values.
kk backup -n "$ns" drilled --wait >&2 || fail "first backup failed"
first="$(readlink "$folder/latest")"; first="${first#snapshots/}"
k -n "$ns" exec drilled -c app -- sh -c 'echo "good second" > /data/value'
kk backup -n "$ns" drilled --wait >&2 || fail "second backup failed"
second="$(readlink "$folder/latest")"; second="${second#snapshots/}"
[[ -n "$first" && -n "$second" && "$first" != "$second" ]] || fail "want two snapshots, got '$first' and '$second'"
# Bit rot in the older snapshot, after its backup was verified.
echo "garbage" >"$folder/snapshots/$first/value"
log "ok: snapshots $first (corrupted on the host) and $second (good)"

# Every entry of the live folder: path, type, mode, owner, size, mtime, link target, content.
fingerprint() {
  (cd "$folder" && find . -printf '%p %y %m %U:%G %s %T@ %l\n' | sort
   cd "$folder" && find . -type f -exec sha256sum {} + | sort) | sha256sum
}
before="$(fingerprint)"

# A good drill: exit 0, the restored value is the good snapshot's.
rc=0; kk drill -n "$ns" drilled >"$tmp/good.table" || rc=$?
cat "$tmp/good.table" >&2
((rc == 0)) || fail "drill of latest ($second) exited $rc, want 0"
rc=0; kk drill -n "$ns" drilled -o json >"$tmp/good.json" || rc=$?
((rc == 0)) || fail "drill of latest -o json exited $rc, want 0"
jq . "$tmp/good.json" >&2
[[ "$(jq -r .snapshot "$tmp/good.json")" == "$second" ]] || fail "the drill restored $(jq -r .snapshot "$tmp/good.json"), want $second"
[[ "$(jq -r .verify "$tmp/good.json")" == passed ]] || fail "backup-verify did not pass in the good drill"
[[ "$(jq -r .verifyOutput "$tmp/good.json")" == "good second" ]] \
  || fail "the drill pod's restored data is '$(jq -r .verifyOutput "$tmp/good.json")', want 'good second'"
jq -e '.restoreSeconds != null and .readySeconds != null' "$tmp/good.json" >/dev/null || fail "the report has no restore or ready time"
log "ok: drill of $second exits 0 and its pod restored 'good second'"

# A corrupt snapshot: the restore runs, backup-verify fails, exit 1.
rc=0; kk drill -n "$ns" drilled --snapshot "$first" >"$tmp/bad.table" 2>"$tmp/bad.err" || rc=$?
cat "$tmp/bad.table" "$tmp/bad.err" >&2
((rc == 1)) || fail "drill of the corrupt snapshot $first exited $rc, want 1"
grep -q 'backup-verify exited with code 1' "$tmp/bad.table" || fail "the report does not say backup-verify failed"
log "ok: drill of the corrupt snapshot $first exits 1 through backup-verify"

# A stamp that does not exist: one line naming the snapshots there are.
rc=0; kk drill -n "$ns" drilled --snapshot 20200101T000000.000Z >"$tmp/none.out" 2>"$tmp/none.err" || rc=$?
cat "$tmp/none.err" >&2
((rc != 0)) || fail "drill of a missing snapshot exited 0"
grep -q "snapshot 20200101T000000.000Z does not exist; the snapshots are: $second, $first" "$tmp/none.err" \
  || fail "the error does not list the snapshots: $(cat "$tmp/none.err")"
log "ok: drill of a missing snapshot exits $rc and lists the snapshots"

# The live folder, the live pod and the namespace after the drills.
[[ "$(fingerprint)" == "$before" ]] || fail "the live backup folder changed during the drills"
[[ "$(k -n "$ns" get pod drilled -o jsonpath='{.metadata.uid}')" == "$live_uid" ]] || fail "the live pod was replaced"
[[ "$(k -n "$ns" get pod drilled -o jsonpath='{.status.containerStatuses[0].restartCount}')" == 0 ]] || fail "the live app restarted"
no_drill_pods() { [[ -z "$(k -n "$ns" get pods -l kab.boa.nu/drill=true -o name)" ]]; }
wait_until 60 "no drill pod left in $ns" no_drill_pods
log "PASS 15: drills of a good, a corrupt and a missing snapshot; the live folder unchanged"

delete_namespace "$ns"
