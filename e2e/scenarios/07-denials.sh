#!/usr/bin/env bash
# Scenario 7: pods kab cannot serve are refused, and the user sees why in kubectl's own output:
# a typo in an annotation key, and two containers without kab.boa.nu/container-name.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-denials
new_namespace "$ns"

# expect_denied FILE NEEDLE... : kubectl apply fails, says the kab webhook denied it, and its
# message contains every NEEDLE.
expect_denied() {
  local file="$1" out needle; shift
  if out="$(apply_manifest "$ns" "$file" 2>&1)"; then
    fail "$file was admitted, expected a denial: $out"
  fi
  [[ "$out" == *"denied the request"* ]] || fail "$file: kubectl's error is not a webhook denial: $out"
  for needle in "$@"; do
    [[ "$out" == *"$needle"* ]] || fail "$file: the denial does not mention '$needle': $out"
  done
  log "ok: $file refused: $out"
}

expect_denied bad-typo-pod.yaml kab.boa.nu/backup-shedule backup-schedule
expect_denied bad-two-containers-pod.yaml container-name web worker
[[ -z "$(k -n "$ns" get pods -o name)" ]] || fail "a refused pod exists anyway: $(k -n "$ns" get pods -o name)"
log "PASS 7: bad pods are refused with the injector's message in kubectl's output"

delete_namespace "$ns"
