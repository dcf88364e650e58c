#!/usr/bin/env bash
# `make bench-e2e`: kab's performance on the kind cluster, each figure a ratio to a baseline
# measured in the same run, interleaved, printed as min/median/max with n (docs/PERFORMANCE.md).
# Nothing here asserts a timing; a benchmark fails only when what it measures did not happen.
#   e2e/bench/run.sh [benchmark...]     podstart podstart-evented trigger backup footprint (default: all)
#   BENCH_N=2 e2e/bench/run.sh          quick mode: only shows the scripts work
# Expects the images built and the cluster up (`make bench-e2e` does both) and kab installed
# (installed here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ALL=(podstart podstart-evented trigger backup footprint)
if (($#)); then BENCHES=("$@"); else BENCHES=("${ALL[@]}"); fi
for b in "${BENCHES[@]}"; do
  [[ -x "$BENCH_DIR/$b.sh" ]] || die "no benchmark '$b'; choose from: ${ALL[*]}"
done

cleanup() {
  local ns
  for ns in $(k get namespaces -l "$E2E_LABEL" -o name 2>/dev/null | sed 's#namespace/##'); do
    delete_namespace "$ns"
  done
}
trap cleanup EXIT

machine
load_all_images
"$SCENARIO_DIR/install.sh"
kabbench_build # now, not inside the first measurement
failed=""
for b in "${BENCHES[@]}"; do
  log "===== benchmark $b (BENCH_N=$BENCH_N)"
  start=$SECONDS
  if ! "$BENCH_DIR/$b.sh"; then
    failed+=" $b"
    warn "benchmark $b FAILED after $((SECONDS - start)) s"
    cleanup
    continue
  fi
  log "benchmark $b done in $((SECONDS - start)) s"
done
[[ -z "$failed" ]] || die "bench-e2e: failed:$failed"
log "bench-e2e: ${BENCHES[*]} done"
