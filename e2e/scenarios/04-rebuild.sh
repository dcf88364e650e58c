#!/usr/bin/env bash
# Scenario 4: cluster rebuild. An app backs up on the old cluster; the whole kind cluster is
# deleted and a new one created on the same host folder; kab's manifests and the app's are
# applied together, the GitOps way, while the injector has no ready replica. The app's pods must
# be refused and retried (FailedCreate events carry the webhook's error), never run without
# injection; once the injector is scaled up, the app starts injected and restored from the
# folder the old cluster wrote.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-rebuild
marker="written on the old cluster at $(date -u +%FT%TZ) ($RANDOM)"
backup="$(host_backup e2e-rebuild)/data.tar"

# --- the old cluster: the app writes and backs up --------------------------------------------
clean_backup_folder e2e-rebuild
new_namespace "$ns"
apply_manifest "$ns" rebuild-app.yaml >&2
k -n "$ns" rollout status deployment/notes --timeout=120s >&2 || fail "the app did not start on the old cluster"
pod="$(k -n "$ns" get pods -l app=notes -o jsonpath='{.items[0].metadata.name}')"
k -n "$ns" exec "$pod" -c notes -- sh -c "echo '$marker' > /data/note.txt"
backup_now "$ns" "$pod" >/dev/null
[[ "$(tar -xOf "$backup" ./note.txt)" == "$marker" ]] || fail "the old cluster's backup does not hold the note"

# --- a brand-new cluster on the same folder ---------------------------------------------------
log "deleting the whole cluster $KAB_CLUSTER_NAME"
# kind itself, not `make kind-down`: that would also stop the Docker daemon kab started.
delete_cluster
make -C "$KAB_ROOT" --no-print-directory kind-up >&2
load_all_images

# kab (hostpath overlay) with its injector at 0 replicas, then the app's namespace and
# Deployment, as a GitOps tool syncs a repo that holds both. kab must be registered FIRST (an
# Argo CD sync wave, a Flux dependsOn): in one apply, kustomize and kubectl put the
# MutatingWebhookConfiguration after the Deployments, and the API server starts calling a new
# webhook only a moment after it is stored — a kab pod created in between is not injected
# (measured here). The webhook is in force when a server-side dry run is refused by it.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
k kustomize "$KAB_ROOT/deploy/overlays/hostpath" >"$work/kab.yaml"
cat >"$work/kustomization.yaml" <<KUST
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [kab.yaml]
replicas:
  - {name: kab-injector, count: 0}
KUST
k apply -k "$work" >&2
webhook_in_force() {
  local out
  out="$(k -n default create --dry-run=server -f "$MANIFESTS/probe-pod.yaml" 2>&1)" && return 1
  [[ "$out" == *"failed calling webhook"* ]]
}
wait_until 60 "the kab webhook is in force (and refuses: no injector is ready)" webhook_in_force

{
  cat <<NS
apiVersion: v1
kind: Namespace
metadata:
  name: $ns
  labels: {kab.boa.nu/e2e: "true"}
---
NS
  cat "$MANIFESTS/rebuild-app.yaml"
} | sed "s/^  name: notes$/  name: notes\n  namespace: $ns/" | k apply -f - >&2

failed_create_messages() { k -n "$ns" get events --field-selector reason=FailedCreate -o jsonpath='{.items[*].message}'; }
webhook_refused() { [[ "$(failed_create_messages)" == *"failed calling webhook"* ]]; }
wait_until 90 "FailedCreate events carrying the webhook's error" webhook_refused
event="$(failed_create_messages | grep -o 'Error creating: .*failed calling webhook "[^"]*"' | head -1 || true)"
log "ok: refused while the injector is down: ${event:-(see events)}"
# Retried, never run un-injected: for a while, the ReplicaSet keeps failing and no pod exists.
for _ in 1 2 3 4 5; do
  pods="$(k -n "$ns" get pods -o name)"
  [[ -z "$pods" ]] || fail "a pod of the app exists while the injector is down: $pods"
  sleep 1
done

k -n kab-system scale deployment/kab-injector --replicas=2 >&2
wait_injector_ready 180
# The ReplicaSet controller retries with a growing back-off, hence the generous timeout.
k -n "$ns" rollout status deployment/notes --timeout=180s >&2 || fail "the app did not start after the injector came up"
pod="$(k -n "$ns" get pods -l app=notes -o jsonpath='{.items[0].metadata.name}')"
assert_injected "$ns" "$pod"
restored="$(k -n "$ns" exec "$pod" -c notes -- cat /data/note.txt 2>&1)" \
  || fail "the app on the new cluster has no /data/note.txt: not restored ($restored)"
[[ "$restored" == "$marker" ]] || fail "restored note is '$restored', expected '$marker'"
log "PASS 4: after a cluster rebuild the app waited for the injector, then started injected and restored"

delete_namespace "$ns"
