#!/usr/bin/env bash
# Scenario 9: injected pods pass Pod Security `baseline`. A hostPath volume is outside baseline by
# definition, so for baseline namespaces the injector mounts a PVC (deploy/overlays/hostpath/claim)
# bound to a static hostPath PersistentVolume on the same node folder. The namespace enforces
# baseline: the pod is only created if the injected pod passes, and then it must back up.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-baseline

# switch_source OVERLAY : reconfigure the injector and wait until it injects with the new config
# (a restart, so the check does not depend on how fast the injector notices a changed file).
switch_source() {
  k apply -k "$KAB_ROOT/deploy/overlays/$1" >&2
  k -n kab-system rollout restart deployment/kab-injector >&2
  wait_injector_ready 180
}
restore_hostpath() { switch_source hostpath >/dev/null 2>&1 || warn "could not switch the injector back to the hostpath overlay"; }

clean_backup_folder e2e-baseline
new_namespace "$ns" pod-security.kubernetes.io/enforce=baseline pod-security.kubernetes.io/enforce-version=latest
trap restore_hostpath EXIT
switch_source hostpath/claim

# The claim `kab` in this namespace, bound to its own static PV on the node's /var/lib/kab.
sed "s/NAMESPACE/$ns/g" "$KAB_ROOT/deploy/overlays/hostpath/claim/backup-claim.yaml" | k apply -f - >&2
bound() { [[ "$(k -n "$ns" get pvc kab -o jsonpath='{.status.phase}')" == Bound ]]; }
wait_until 60 "PVC $ns/kab bound to its hostPath PV" bound

out="$(apply_manifest "$ns" baseline-pod.yaml 2>&1)" || fail "the injected pod was refused in a baseline namespace: $out"
[[ "$out" != *"violate"* ]] || fail "Pod Security warned about the injected pod: $out"
wait_pod_ready "$ns" baseline-app
assert_injected "$ns" baseline-app
claim="$(k -n "$ns" get pod baseline-app -o jsonpath='{.spec.volumes[?(@.name=="kab-backup")].persistentVolumeClaim.claimName}')"
[[ "$claim" == kab ]] || fail "the kab-backup volume is not the PVC kab (claimName '$claim')"
proof="$(host_backup e2e-baseline)/proof.txt"
wait_until 30 "a backup from the baseline namespace in the host folder" test -s "$proof"
# Prove the check has teeth: the same namespace refuses a pod that is not baseline.
if out="$(k -n "$ns" run privileged-probe --image=kab-test/busybox:e2e --restart=Never \
  --overrides='{"spec":{"containers":[{"name":"privileged-probe","image":"kab-test/busybox:e2e","securityContext":{"privileged":true}}]}}' 2>&1)"; then
  fail "the namespace does not enforce baseline: a privileged pod was admitted"
fi
log "PASS 9: injected pod admitted and backing up in a namespace enforcing baseline (privileged refused: ${out:0:120}…)"

trap - EXIT
restore_hostpath
delete_namespace "$ns"
# The PV is cluster-scoped: remove it with its namespace.
k delete pv "kab-$ns" --wait=false --ignore-not-found >/dev/null 2>&1 || true
