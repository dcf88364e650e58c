# shellcheck shell=bash
# The runner shared by the e2e scenarios (e2e/scenarios/run.sh) and the fault cases
# (e2e/faults/run.sh): load the images, install kab, run each script in turn, time it; after a
# failed script print the pods' descriptions and logs and export the cluster's logs into
# e2e/_artifacts/, then go on; on every path delete the namespaces the suite made.
#   run_suite SUITE ITEM DIR DESCRIBE_MAX NAME...
#     SUITE         e2e | faults: the verdict's first word and the artifacts' prefix
#     ITEM          what one script is, e.g. "scenario" or "fault case"
#     DIR           where the scripts NAME.sh live
#     DESCRIBE_MAX  describe at most this many pods per namespace (empty: all)

if [[ -n "${KAB_SUITE_LOADED:-}" ]]; then return 0; fi
KAB_SUITE_LOADED=1

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# suite_diagnose WHAT : kab-system's and every e2e namespace's pods, events, descriptions and
# logs on stderr, and the cluster's logs exported under the suite's name and WHAT.
suite_diagnose() {
  local ns pod
  warn "diagnostics for the failed $SUITE_ITEM ($1)"
  for ns in kab-system $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    echo "===== namespace $ns: pods and events" >&2
    k -n "$ns" get pods -o wide >&2 2>&1 || true
    k -n "$ns" get events --sort-by=.lastTimestamp 2>&1 | tail -40 >&2 || true
    for pod in $(k -n "$ns" get pods -o name 2>/dev/null | head -"${SUITE_DESCRIBE_MAX:-1000000}"); do
      echo "===== $ns $pod: describe" >&2
      k -n "$ns" describe "$pod" >&2 2>&1 || true
      echo "===== $ns $pod: logs (all containers)" >&2
      k -n "$ns" logs "$pod" --all-containers --prefix --tail=80 >&2 2>&1 || true
    done
  done
  export_cluster_logs "$SUITE_NAME-${1// /}"
}

# suite_cleanup : delete every namespace the suite made (in the background of the cluster).
suite_cleanup() {
  local ns
  for ns in $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    delete_namespace "$ns"
  done
}

# suite_finish : the EXIT trap: diagnose a failed setup, clean up, print the timings and the
# verdict; exit 1 when anything failed.
suite_finish() {
  local rc=$? t
  if ((rc != 0)) && [[ -z "$suite_failed" ]]; then
    suite_failed="setup"
    suite_diagnose setup
  fi
  suite_cleanup
  for t in "${suite_timings[@]}"; do log "$t"; done
  if [[ -n "$suite_failed" ]]; then
    warn "$SUITE_NAME FAILED:$suite_failed (after $((SECONDS - suite_start)) s)"
    exit 1
  fi
  log "$SUITE_NAME passed: $suite_count ${SUITE_ITEM}s in $((SECONDS - suite_start)) s"
}

# run_suite SUITE ITEM DIR DESCRIBE_MAX NAME... : set up, then run DIR/NAME.sh for each NAME.
run_suite() {
  local name script step_start
  # Globals, not locals: the diagnostics and the EXIT trap read them.
  SUITE_NAME="$1" SUITE_ITEM="$2" SUITE_DIR="$3" SUITE_DESCRIBE_MAX="$4"
  shift 4
  suite_start=$SECONDS suite_failed="" suite_count=$#
  suite_timings=()
  trap suite_finish EXIT

  step_start=$SECONDS
  load_all_images
  "$SCENARIO_DIR/install.sh"
  suite_timings+=("setup (load images, install kab): $((SECONDS - step_start)) s")

  for name in "$@"; do
    script="$SUITE_DIR/$name.sh"
    [[ -x "$script" ]] || die "no $SUITE_ITEM $name ($script)"
    log "===== $SUITE_ITEM $name"
    step_start=$SECONDS
    # A failed script is diagnosed while its pods still exist, then cleaned up, and the suite
    # goes on: one run reports every broken behaviour, not just the first.
    if ! "$script"; then
      suite_failed+=" $name"
      suite_timings+=("$name: FAILED after $((SECONDS - step_start)) s")
      suite_diagnose "$name"
      suite_cleanup
      continue
    fi
    suite_timings+=("$name: passed in $((SECONDS - step_start)) s")
  done
}
