#!/usr/bin/env bash
# Scenario 5: snapshot mode (backup-keep: 2, every 3 s). Only the newest 2 complete snapshots
# are kept and `latest` points at the newest; while the backup script fails, no snapshot is
# added, no partial folder stays, and `latest` (and what it holds) does not change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-snapshots
folder="$(host_backup e2e-snapshots)"

clean_backup_folder e2e-snapshots
new_namespace "$ns"
apply_manifest "$ns" snapshot-pod.yaml >&2
wait_pod_ready "$ns" snap
assert_injected "$ns" snap

complete_snapshots() { find "$folder/snapshots" -mindepth 1 -maxdepth 1 -type d ! -name '*.partial' -printf '%f\n' 2>/dev/null | sort; }
latest() { readlink "$folder/latest"; }
failures() { agent_status "$ns" snap | jq '[.lastRuns[] | select(.result != "success")] | length'; }

four_runs() { (($(successful_runs "$ns" snap) >= 4)); }
wait_until 45 "four successful snapshot runs" four_runs

# Keep N: after 4+ runs exactly 2 remain (checked between runs: a run's rename comes just
# before its pruning, so 3 can be seen for an instant).
two_kept() { [[ "$(complete_snapshots | wc -l)" == 2 ]]; }
wait_until 10 "exactly 2 complete snapshots kept" two_kept
newest="$(complete_snapshots | tail -1)"
[[ "$(latest)" == "snapshots/$newest" ]] || fail "latest -> '$(latest)', expected the newest snapshot snapshots/$newest"
[[ -f "$folder/latest/stamp" ]] || fail "latest/stamp missing: the snapshot is not complete"
log "ok: 2 snapshots kept, latest -> snapshots/$newest"

# A failing backup leaves latest intact. Switch failures on, let one failed run pass (so no good
# run is in flight), then note latest and watch two more runs fail.
k -n "$ns" exec snap -c app -- touch /tmp/fail
at_least_failures() { (($(failures) >= $1)); }
wait_until 20 "a failed backup run" at_least_failures 1
before_latest="$(latest)"
before_stamp="$(cat "$folder/latest/stamp")"
before_failures="$(failures)"
wait_until 20 "two more failed backup runs" at_least_failures $((before_failures + 2))
[[ "$(latest)" == "$before_latest" ]] || fail "a failed run replaced latest: '$before_latest' -> '$(latest)'"
[[ "$(cat "$folder/latest/stamp")" == "$before_stamp" ]] || fail "the content of latest changed while runs failed"
[[ "$(complete_snapshots | tail -1)" == "${before_latest#snapshots/}" ]] \
  || fail "a failed run left a snapshot newer than latest: $(complete_snapshots | tr '\n' ' ')"
(($(complete_snapshots | wc -l) <= 2)) || fail "more than 2 snapshots while runs fail: $(complete_snapshots | tr '\n' ' ')"
last_result="$(agent_status "$ns" snap | jq -r '.lastRuns[0] | "\(.result) \(.exitCode)"')"
[[ "$last_result" == "failure 3" ]] || fail "the agent reports the last run as '$last_result', expected 'failure 3'"
log "ok: failed runs (exit 3) left latest -> $before_latest untouched"

# And the next good run moves latest on again.
k -n "$ns" exec snap -c app -- rm /tmp/fail
latest_moved() { [[ "$(latest)" != "$before_latest" ]]; }
wait_until 20 "latest moves on after the script succeeds again" latest_moved
log "PASS 5: snapshot mode keeps 2, failing backups leave latest intact"

delete_namespace "$ns"
