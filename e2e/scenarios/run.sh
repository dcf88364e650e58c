#!/usr/bin/env bash
# The kab e2e suite on the kind cluster of `make kind-up`: loads the kab and test images, installs
# kab with the hostpath overlay and runs every scenario (or those named), timing each. On a
# failure it prints the pods' descriptions and logs and exports the cluster's logs into
# e2e/_artifacts/; on every path it deletes the namespaces it made.
#   e2e/scenarios/run.sh [scenario...]      e.g. run.sh 03-sqlite 05-snapshots
# Expects the images built (`make images e2e-images`) and the cluster up (`make kind-up`);
# `make e2e` does all of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Order: quick denials first; the scenarios that replace the cluster and everything on it last
# (14-offsite, 10-rebuild-any-order, 04-rebuild); each leaves kab installed for the next.
ALL=(07-denials 01-seed 03-sqlite 05-snapshots 06-metrics 08-restart 09-baseline 12-kubectl-kab 13-trust 15-drill 16-helm 14-offsite 10-rebuild-any-order 04-rebuild)
if (($#)); then SCENARIOS=("$@"); else SCENARIOS=("${ALL[@]}"); fi

suite_start=$SECONDS
failed=""
declare -a timings=()

diagnose() {
  local ns pod
  warn "diagnostics for the failed scenario ($1)"
  for ns in kab-system $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    echo "===== namespace $ns: pods and events" >&2
    k -n "$ns" get pods -o wide >&2 2>&1 || true
    k -n "$ns" get events --sort-by=.lastTimestamp 2>&1 | tail -40 >&2 || true
    for pod in $(k -n "$ns" get pods -o name 2>/dev/null); do
      echo "===== $ns $pod: describe" >&2
      k -n "$ns" describe "$pod" >&2 2>&1 || true
      echo "===== $ns $pod: logs (all containers)" >&2
      k -n "$ns" logs "$pod" --all-containers --prefix --tail=80 >&2 2>&1 || true
    done
  done
  export_cluster_logs "e2e-${1// /}"
}

cleanup() {
  local ns
  for ns in $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    delete_namespace "$ns"
  done
}

finish() {
  local rc=$? t
  if ((rc != 0)) && [[ -z "$failed" ]]; then
    failed="setup"
    diagnose setup
  fi
  cleanup
  for t in "${timings[@]}"; do log "$t"; done
  if [[ -n "$failed" ]]; then
    warn "e2e FAILED:$failed (after $((SECONDS - suite_start)) s)"
    exit 1
  fi
  log "e2e passed: ${#SCENARIOS[@]} scenarios in $((SECONDS - suite_start)) s"
}
trap finish EXIT

step_start=$SECONDS
load_all_images
"$SCENARIO_DIR/install.sh"
timings+=("setup (load images, install kab): $((SECONDS - step_start)) s")

for scenario in "${SCENARIOS[@]}"; do
  script="$SCENARIO_DIR/$scenario.sh"
  [[ -x "$script" ]] || die "no scenario $scenario ($script)"
  log "===== scenario $scenario"
  step_start=$SECONDS
  # A failed scenario is diagnosed while its pods still exist, then cleaned up, and the suite
  # goes on: one run reports every broken behaviour, not just the first.
  if ! "$script"; then
    failed+=" $scenario"
    timings+=("$scenario: FAILED after $((SECONDS - step_start)) s")
    diagnose "$scenario"
    cleanup
    continue
  fi
  timings+=("$scenario: passed in $((SECONDS - step_start)) s")
done
