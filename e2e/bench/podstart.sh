#!/usr/bin/env bash
# Pod start: create → Ready of the same app pod without and with kab's annotations (restore
# script `true`), BENCH_N of each, alternating; timed by kabbench from a watch, with when each
# container started, exited and turned ready, to show where kab's extra time goes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-podstart
new_namespace "$ns"
kabbench podstart --context "$KAB_KUBE_CONTEXT" --namespace "$ns" --n "$BENCH_N" \
  --plain "$BENCH_MANIFESTS/podstart-plain.yaml" --kab "$BENCH_MANIFESTS/podstart-kab.yaml"
delete_namespace "$ns"
