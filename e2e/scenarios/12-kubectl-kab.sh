#!/usr/bin/env bash
# Scenario 12: the kubectl-kab plugin against real agents. Three namespaces: one pod whose
# backups succeed, one whose backup script fails, one that never gets scheduled (its agent
# cannot answer). `backup --wait` follows the run's log and exits with its result; `status -A`
# shows one row per pod with the right verdicts and exits 1; `status` of a healthy namespace
# exits 0; `get` copies the latest snapshot to this machine.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/kubectl-kab" "$KAB_ROOT/kubectl-kab/cmd/kubectl-kab"
kk() { "$tmp/kubectl-kab" --context "$KAB_KUBE_CONTEXT" "$@"; }

ok=kab-e2e-kk-ok fail=kab-e2e-kk-fail lost=kab-e2e-kk-lost
for ns in "$ok" "$fail" "$lost"; do
  clean_backup_folder "e2e-${ns#kab-e2e-}"
  new_namespace "$ns"
  # One run an hour: only the plugin starts runs here.
  apply_manifest "$ns" snapshot-pod.yaml "s/e2e-snapshots/e2e-${ns#kab-e2e-}/" 's/"3s"/"1h"/' >&2
done
# The lost pod asks for a node that does not exist: injected, never running.
k -n "$lost" delete pod snap --wait=true >/dev/null
apply_manifest "$lost" snapshot-pod.yaml 's/e2e-snapshots/e2e-kk-lost/' 's/"3s"/"1h"/' \
  's/^spec:/spec:\n  nodeSelector: {kab-e2e: no-such-node}/' >&2
wait_pod_ready "$ok" snap
wait_pod_ready "$fail" snap
assert_injected "$lost" snap

# backup --wait: exit 0 and the run's own log for a good run...
rc=0; kk backup -n "$ok" snap --wait >"$tmp/ok.out" 2>&1 || rc=$?
cat "$tmp/ok.out" >&2
((rc == 0)) || fail "kubectl kab backup --wait of a good run exited $rc"
grep -q ': success in ' "$tmp/ok.out" || fail "no success summary in the output of backup --wait"
# ...exit 1 and the script's stderr for a failing one.
k -n "$fail" exec snap -c app -- touch /tmp/fail
rc=0; kk backup -n "$fail" snap --wait >"$tmp/fail.out" 2>&1 || rc=$?
cat "$tmp/fail.out" >&2
((rc == 1)) || fail "kubectl kab backup --wait of a failing run exited $rc, want 1"
grep -q 'failing on purpose' "$tmp/fail.out" || fail "backup --wait did not stream the run's output"
log "ok: backup --wait exits 0 on success, 1 on failure, and streams the run's log"

# status -A: one row per pod, exit 1 because of the failing and the unknown one.
rc=0; kk status -A >"$tmp/table" || rc=$?
cat "$tmp/table" >&2
((rc == 1)) || fail "status -A exited $rc with a failing and an unknown backup, want 1"
rc=0; kk status -A -o json >"$tmp/status.json" || rc=$?
((rc == 1)) || fail "status -A -o json exited $rc, want 1"
state() { jq -r --arg ns "$1" '.items[] | select(.namespace == $ns) | .state' "$tmp/status.json"; }
[[ "$(state "$ok")" == ok ]] || fail "row of $ok: $(state "$ok"), want ok"
[[ "$(state "$fail")" == failing ]] || fail "row of $fail: $(state "$fail"), want failing"
[[ "$(state "$lost")" == unknown ]] || fail "row of $lost: $(state "$lost"), want unknown"
snapshots="$(jq -r --arg ns "$ok" '.items[] | select(.namespace == $ns) | .snapshots' "$tmp/status.json")"
[[ "$snapshots" == 1 ]] || fail "row of $ok: $snapshots snapshots, want 1"
rc=0; kk status -n "$ok" >&2 || rc=$?
((rc == 0)) || fail "status of the healthy namespace exited $rc, want 0"
log "ok: status -A shows ok, failing and unknown rows and exits 1; a healthy namespace exits 0"

# get: the latest snapshot, copied through exec + tar.
kk get -n "$ok" snap latest -o "$tmp/copy" >&2
[[ -s "$tmp/copy/stamp" && -s "$tmp/copy/hostname" ]] || fail "get latest did not copy the snapshot: $(ls -la "$tmp/copy")"
log "PASS 12: kubectl kab status, backup --wait and get against real agents"

for ns in "$ok" "$fail" "$lost"; do delete_namespace "$ns"; done
