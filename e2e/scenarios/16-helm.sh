#!/usr/bin/env bash
# Scenario 16: the Helm chart on a real cluster (issue 15, DESIGN §12). kab is installed from
# deploy/chart with the real helm (built from Go modules) in place of the kustomize install, with
# the values that mean what the e2e overlay means (hostPath volume, heal off, the images built
# locally). Then:
#   - a backup made under the kustomize install restores into a pod injected by the chart's
#     injector, which backs up in turn;
#   - `helm upgrade` (one replica, a larger agent memory limit) rolls the injector: a new pod
#     gets the new limit and still restores the existing backup;
#   - `helm upgrade` to layout namespaced: a new pod's backup folder is <namespace>/<backup-name>;
#   - the dashboard's metric names are checked against /metrics scraped from a running agent
#     through the API server's pod proxy (deploy/dashboard_test.go with KAB_AGENT_METRICS);
#   - `helm uninstall` removes every object, cluster-scoped ones included.
# The chart and the kustomize tree render the same cluster-scoped objects (webhook, ClusterRoles),
# so they cannot coexist: the kustomize install is removed first and put back exactly as
# install.sh makes it on every exit, so the scenarios after this one are unaffected.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-e2e-helm
name=e2e-helm
release=kab
work="$(mktemp -d)"
helm_bin="$("$KAB_ROOT/e2e/lib/build-helm.sh")/helm"
# The chart creates kab-system itself (namespace.create, as deploy/kab.yaml does), so the release
# record lives in `default`.
h() { "$helm_bin" --kube-context "$KAB_KUBE_CONTEXT" --namespace default "$@"; }

# What e2e/scenarios/install.sh applies (deploy/overlays/hostpath), as chart values — except its
# watch-only heal (heal.evict=false), left off here so the release's objects stay the chart's minimum.
cat >"$work/values.yaml" <<'EOF'
volume:
  kind: hostPath
  hostPath: {path: /var/lib/kab, type: DirectoryOrCreate}
heal:
  enabled: false
injector:
  image: kab-injector:dev
  imagePullPolicy: IfNotPresent
agentImage: kab-agent:dev
EOF

kab_system_gone() { ! k get namespace kab-system >/dev/null 2>&1; }

# remove_kustomize_install : what install.sh applied, plus heal's objects should scenario 10's
# install have been left behind (its tree is the hostpath overlay with the heal component).
remove_kustomize_install() {
  k delete -k "$MANIFESTS/heal-hostpath" --ignore-not-found --wait=true --timeout=180s >&2
  wait_until 180 "the kustomize install of kab is gone (namespace kab-system deleted)" kab_system_gone
}

# reinstate : on every exit, uninstall the release if it is still there and put the kustomize
# install back as run.sh had it.
reinstate() {
  local rc=$?
  set +e
  if h status "$release" >/dev/null 2>&1; then
    warn "uninstalling the Helm release $release left by a failed run"
    h uninstall "$release" --wait --timeout=180s >&2
  fi
  local deadline=$((SECONDS + 180))
  until kab_system_gone || ((SECONDS >= deadline)); do sleep 1; done
  if ! kab_system_gone; then
    warn "kab-system is still there 180 s after the Helm release went: cannot reinstate the kustomize install"
    rc=1
  elif ! "$SCENARIO_DIR/install.sh"; then
    warn "could not reinstate the kustomize install of kab: later scenarios will fail"
    rc=1
  else
    log "ok: the kustomize install of kab is back (install.sh)"
  fi
  rm -rf "$work"
  exit "$rc"
}

# subpath NS POD : the folder of the backup volume the pod's app container mounts.
subpath() {
  k -n "$1" get pod "$2" -o jsonpath='{.spec.containers[?(@.name=="app")].volumeMounts[?(@.name=="kab-backup")].subPath}'
}

# app_pod POD : the README's example app with /data on a volume (so a restore reaches the app)
# under this scenario's backup-name, hourly (only backup-now runs a backup here).
app_pod() {
  apply_manifest "$ns" seed-pod-datavolume.yaml "s/^  name: app$/  name: $1/" "s/backup-name: my-app/backup-name: $name/" \
    's/backup-schedule: "5"/backup-schedule: "1h"/' >&2
  wait_pod_ready "$ns" "$1"
  assert_injected "$ns" "$1"
}

# --- before: a backup made under the kustomize install (run.sh installed it) ------------------
clean_backup_folder "$name"
clean_backup_folder "$name-metrics"
new_namespace "$ns"
app_pod app
note="written under the kustomize install ($RANDOM$RANDOM)"
k -n "$ns" exec app -c app -- sh -c "echo '$note' > /data/note.txt"
backup_now "$ns" app >/dev/null
[[ -f "$(host_backup "$name")/data.tar" ]] || fail "backup-now succeeded but $(host_backup "$name")/data.tar is missing"
delete_pod "$ns" app

# --- helm install --------------------------------------------------------------------------
trap reinstate EXIT
remove_kustomize_install
h install "$release" "$KAB_ROOT/deploy/chart" -f "$work/values.yaml" --wait --timeout=180s >&2 \
  || fail "helm install $release deploy/chart failed"
wait_injector_ready 180
owner="$(k get mutatingwebhookconfiguration kab-injector -o jsonpath='{.metadata.annotations.meta\.helm\.sh/release-name}')"
[[ "$owner" == "$release" ]] || fail "the webhook in force is not the Helm release's (meta.helm.sh/release-name=\"$owner\")"
log "ok: helm install: revision $(h status "$release" -o json | jq -r .version), the webhook belongs to the release"

app_pod app
[[ "$(k -n "$ns" exec app -c app -- cat /data/note.txt)" == "$note" ]] \
  || fail "the pod injected by the chart's injector did not restore the backup made under the kustomize install"
[[ "$(subpath "$ns" app)" == "$name" ]] || fail "subPath \"$(subpath "$ns" app)\", want \"$name\" (layout flat)"
backup_now "$ns" app >/dev/null
log "ok: the chart's injector injects; the pod restored the earlier backup and backs up"

# --- helm upgrade: one replica, a larger agent memory limit -----------------------------------
h upgrade "$release" "$KAB_ROOT/deploy/chart" --reuse-values --set injector.replicas=1 \
  --set agentResources.limits.memory=768Mi --wait --timeout=180s >&2 || fail "helm upgrade (replicas, agent memory) failed"
wait_injector_ready 180
one_replica() {
  [[ "$(k -n kab-system get deployment kab-injector -o jsonpath='{.spec.replicas}/{.status.readyReplicas}/{.status.replicas}')" == 1/1/1 ]]
}
wait_until 60 "the injector Deployment runs 1 replica after helm upgrade --set injector.replicas=1" one_replica
delete_pod "$ns" app
app_pod app
limit="$(k -n "$ns" get pod app -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].resources.limits.memory}')"
[[ "$limit" == 768Mi ]] || fail "a pod injected after the upgrade has a kab-agent memory limit of \"$limit\", want 768Mi"
[[ "$(k -n "$ns" exec app -c app -- cat /data/note.txt)" == "$note" ]] || fail "after helm upgrade the existing backup no longer restores"
backup_now "$ns" app >/dev/null
log "ok: helm upgrade: 1 injector replica, new pods get the 768Mi agent limit, the existing backup restores"

# --- the dashboard against a running agent's /metrics ----------------------------------------
# An agent with every optional family: an offsite Secret (its endpoint refuses connections, so
# the kab_offsite_* series exist, counting failures) — the folder holds a backup already, so
# kab-fetch has nothing to fetch and the pod starts.
mkdir -p "$(host_backup "$name-metrics")"
echo seeded >"$(host_backup "$name-metrics")/seeded"
age-keygen -o "$work/key.txt" 2>/dev/null
k -n "$ns" create secret generic kab-offsite --from-literal=endpoint=http://127.0.0.1:9 \
  --from-literal=bucket=kab --from-literal=accessKeyID=e2e --from-literal=secretAccessKey=e2e-secret \
  --from-literal=recipients="$(age-keygen -y "$work/key.txt")" --from-file=identity="$work/key.txt" >/dev/null
apply_manifest "$ns" seed-pod.yaml 's/^  name: app$/  name: scraped/' "s/backup-name: my-app/backup-name: $name-metrics/" \
  's/backup-schedule: "5"/backup-schedule: "1h"/' 's/^  annotations:$/  annotations:\n    kab.boa.nu\/offsite: kab-offsite/' >&2
wait_pod_ready "$ns" scraped
assert_injected "$ns" scraped
backup_now "$ns" scraped >/dev/null
port="$(k -n "$ns" get pod scraped -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].ports[?(@.name=="kab-metrics")].containerPort}')"
[[ -n "$port" ]] || fail "the kab-agent container has no port named kab-metrics"
k get --raw "/api/v1/namespaces/$ns/pods/scraped:$port/proxy/metrics" >"$work/metrics.txt" \
  || fail "could not scrape /metrics of $ns/scraped through the API server's pod proxy"
log "scraped $(grep -c '^kab_' "$work/metrics.txt") kab_ samples from $ns/scraped:$port/metrics"
(cd "$KAB_ROOT" && KAB_AGENT_METRICS="$work/metrics.txt" go test -count=1 -v -run '^TestDashboardQueries$' ./deploy/) >&2 \
  || fail "the dashboard uses metric names the running agent does not expose (deploy/dashboard_test.go above)"
log "ok: every metric the dashboard's expressions use is in the running agent's /metrics"

# --- helm upgrade: layout namespaced -------------------------------------------------------
h upgrade "$release" "$KAB_ROOT/deploy/chart" --reuse-values --set layout=namespaced --wait --timeout=180s >&2 \
  || fail "helm upgrade --set layout=namespaced failed"
wait_injector_ready 180
clean_backup_folder "$ns"
app_pod app2
[[ "$(subpath "$ns" app2)" == "$ns/$name" ]] || fail "after helm upgrade to layout namespaced a new pod mounts \"$(subpath "$ns" app2)\", want \"$ns/$name\""
k -n "$ns" exec app2 -c app -- sh -c "echo namespaced > /data/note.txt"
backup_now "$ns" app2 >/dev/null
[[ -f "$(host_backup "$ns/$name")/data.tar" ]] || fail "the namespaced backup is not in $(host_backup "$ns/$name")"
backup_now "$ns" app >/dev/null  # the pod injected before keeps its flat folder
log "ok: helm upgrade to layout namespaced: a new pod backs up into $ns/$name; revisions: $(h history "$release" -o json | jq -c '[.[] | {revision, status}]')"

# --- helm uninstall --------------------------------------------------------------------------
h uninstall "$release" --wait --timeout=180s >&2 || fail "helm uninstall $release failed"
wait_until 180 "kab-system is gone after helm uninstall" kab_system_gone
for obj in mutatingwebhookconfiguration/kab-injector clusterrole/kab-injector clusterrolebinding/kab-injector; do
  ! k get "$obj" >/dev/null 2>&1 || fail "helm uninstall left $obj behind"
done
log "ok: helm uninstall removed kab, cluster-scoped objects included"
log "PASS 16: helm install, two upgrades and uninstall on kind; backups restore across them; the dashboard matches a running agent's /metrics"
delete_namespace "$ns"
