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
source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/suite.sh"

# Order: the node reboot last (it restarts everything on the node).
ALL=(01-agent-kill9 02-volume-full 03-app-killed 05-injector-kills 04-node-reboot)
if (($#)); then CASES=("$@"); else CASES=("${ALL[@]}"); fi

# A case with many pods (the swarm of 05) describes a few of them, not all.
run_suite faults "fault case" "$FAULT_DIR" 5 "${CASES[@]}"
