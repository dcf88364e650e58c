#!/usr/bin/env bash
# Pod start: create → Ready of the same app pod three ways — plain, with kab's annotations
# (restore script `true`), and plain with kab's pod shape built by hand (an init container
# running `true` and a native sidecar, same image, no kab) — BENCH_N of each, the order rotated;
# timed by kabbench from a watch, with when each container started, exited and turned ready, to
# show where kab's extra time goes and how much of it the pod shape alone costs.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-podstart
new_namespace "$ns"
kabbench podstart --context "$KAB_KUBE_CONTEXT" --namespace "$ns" --n "$BENCH_N" \
  --plain "$BENCH_MANIFESTS/podstart-plain.yaml" --kab "$BENCH_MANIFESTS/podstart-kab.yaml" \
  --shape "$BENCH_MANIFESTS/podstart-shape.yaml"
delete_namespace "$ns"
