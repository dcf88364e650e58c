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
source "$(dirname "${BASH_SOURCE[0]}")/suite.sh"

# Order: quick denials first; the scenarios that replace the cluster and everything on it last
# (14-offsite, 10-rebuild-any-order, 04-rebuild); each leaves kab installed for the next.
ALL=(07-denials 01-seed 03-sqlite 05-snapshots 06-metrics 08-restart 09-baseline 12-kubectl-kab 13-trust 15-drill 16-helm 14-offsite 10-rebuild-any-order 04-rebuild)
if (($#)); then SCENARIOS=("$@"); else SCENARIOS=("${ALL[@]}"); fi

run_suite e2e scenario "$SCENARIO_DIR" "" "${SCENARIOS[@]}"
