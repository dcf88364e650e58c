#!/usr/bin/env bash
# The kab fault suite on the kind cluster of `make kind-up` (docs/RELIABILITY.md): loads the
# images, installs kab with the hostpath overlay and runs every fault case (or those named).
# Each case injects one fault and asserts outcomes — pods injected, files intact, results
# recorded — never durations. On a failure it prints the pods' descriptions and logs and exports
# the cluster's logs into e2e/_artifacts/; on every path it deletes the namespaces it made.
#   e2e/faults/run.sh [case...]      e.g. run.sh 01-agent-kill9 04-node-reboot
# Expects the images built (`make images e2e-images`) and the cluster up (`make kind-up`);
# `make faults` does all of it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Order: the node reboot last (it restarts everything on the node).
ALL=(01-agent-kill9 02-volume-full 03-app-killed 05-injector-kills 04-node-reboot)
if (($#)); then CASES=("$@"); else CASES=("${ALL[@]}"); fi

suite_start=$SECONDS
failed=""
declare -a timings=()

diagnose() {
  local ns pod
  warn "diagnostics for the failed fault case ($1)"
  for ns in kab-system $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    echo "===== namespace $ns: pods and events" >&2
    k -n "$ns" get pods -o wide >&2 2>&1 || true
    k -n "$ns" get events --sort-by=.lastTimestamp 2>&1 | tail -40 >&2 || true
    # A case with many pods describes a few, not all.
    for pod in $(k -n "$ns" get pods -o name 2>/dev/null | head -5); do
      echo "===== $ns $pod: describe" >&2
      k -n "$ns" describe "$pod" >&2 2>&1 || true
      echo "===== $ns $pod: logs (all containers)" >&2
      k -n "$ns" logs "$pod" --all-containers --prefix --tail=80 >&2 2>&1 || true
    done
  done
  export_cluster_logs "faults-${1// /}"
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
    warn "faults FAILED:$failed (after $((SECONDS - suite_start)) s)"
    exit 1
  fi
  log "faults passed: ${#CASES[@]} cases in $((SECONDS - suite_start)) s"
}
trap finish EXIT

step_start=$SECONDS
load_all_images
"$SCENARIO_DIR/install.sh"
timings+=("setup (load images, install kab): $((SECONDS - step_start)) s")

for case in "${CASES[@]}"; do
  script="$FAULT_DIR/$case.sh"
  [[ -x "$script" ]] || die "no fault case $case ($script)"
  log "===== fault $case"
  step_start=$SECONDS
  # A failed case is diagnosed while its pods still exist, then cleaned up, and the suite goes
  # on: one run reports every broken behaviour, not just the first.
  if ! "$script"; then
    failed+=" $case"
    timings+=("$case: FAILED after $((SECONDS - step_start)) s")
    diagnose "$case"
    cleanup
    continue
  fi
  timings+=("$case: passed in $((SECONDS - step_start)) s")
done
