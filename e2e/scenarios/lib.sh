# shellcheck shell=bash
# Helpers for the e2e scenarios: kubectl on the e2e cluster, bounded waits, checks that fail with
# a clear message, and the backup host folder. Source it after `set -euo pipefail`.

if [[ -n "${KAB_SCENARIO_LIB_LOADED:-}" ]]; then return 0; fi
KAB_SCENARIO_LIB_LOADED=1

source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
# The kind helper's image loader; it brings cluster.sh (cluster_exists, delete_cluster,
# export_cluster_logs, KAB_E2E_HOSTDIR = the host folder the node mounts at /var/lib/kab).
source "$KAB_ROOT/e2e/images/lib.sh"

SCENARIO_DIR="$KAB_ROOT/e2e/scenarios"
MANIFESTS="$SCENARIO_DIR/manifests"
export KAB_E2E_HOSTDIR
# Every namespace the suite creates carries this label, so diagnostics and cleanup find them all.
E2E_LABEL="kab.boa.nu/e2e=true"

# kind and the kubectl built for the cluster's version go first on PATH (not whatever else is
# installed); k always names the e2e cluster's context, so a user's current context is untouched.
use_cluster_tools
KAB_KUBECTL="$(command -v kubectl)"
export KAB_KUBECTL
k() { kubectl --context "$KAB_KUBE_CONTEXT" "$@"; }

# jq parses the agent's status JSON; the machines are fresh, so install it when missing.
apt_ensure jq jq

# Every image the suite runs: nothing can be pulled, so all of them are loaded into the node
# (kind skips what the node already has).
KAB_IMAGES=(kab-injector:dev kab-agent:dev)
TEST_IMAGES=(kab-test/busybox:e2e kab-test/sqlite:e2e kab-test/postgres:e2e)
load_all_images() { load_images "${KAB_IMAGES[@]}" "${TEST_IMAGES[@]}"; }

# fail MESSAGE : the scenario's verdict. run.sh prints diagnostics after a failed scenario.
fail() { die "$*"; }

# wait_until TIMEOUT_SECONDS DESCRIPTION COMMAND... : poll COMMAND every second until it
# succeeds; fail naming DESCRIPTION after the timeout. Never a fixed sleep.
wait_until() {
  local timeout="$1" what="$2"; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      fail "timed out after ${timeout}s waiting for: $what"
    fi
    sleep 1
  done
  log "ok: $what"
}

# now_ms : wall clock in milliseconds. seconds_since START_MS : elapsed seconds, one decimal.
now_ms() { date +%s%3N; }
seconds_since() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

# time_until CHECK START_MS TIMEOUT : polls CHECK every half second; prints the seconds from
# START_MS until it first passed, or nothing after TIMEOUT seconds. Run one per app in the
# background, so an app's time is not held up by the checks of the others (the rebuild RTOs).
time_until() {
  local deadline=$((SECONDS + $3))
  until "$1" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 0
    sleep 0.5
  done
  seconds_since "$2"
}

# new_namespace NAME [LABEL=VALUE...] : a fresh namespace for one scenario (deleted first if a
# failed run left it behind), labelled for diagnostics and cleanup.
new_namespace() {
  local ns="$1"; shift
  if k get namespace "$ns" >/dev/null 2>&1; then
    k delete namespace "$ns" --wait=true --timeout=120s >/dev/null
  fi
  k create namespace "$ns" >/dev/null
  k label namespace "$ns" "$E2E_LABEL" "$@" >/dev/null
  # Pods need the default ServiceAccount, which the controller-manager adds a moment later.
  wait_until 60 "ServiceAccount default in $ns" k -n "$ns" get serviceaccount default
}

# delete_namespace NAME : best effort, in the background of the cluster (no wait): cleanup must
# not cost the suite the pods' grace periods.
delete_namespace() { k delete namespace "$1" --wait=false --ignore-not-found >/dev/null 2>&1 || true; }

# wait_pod_ready NS POD [TIMEOUT]
wait_pod_ready() {
  local ns="$1" pod="$2" timeout="${3:-120}"
  k -n "$ns" wait --for=condition=Ready "pod/$pod" --timeout="${timeout}s" >/dev/null \
    || fail "pod $ns/$pod not Ready within ${timeout}s"
  log "ok: pod $ns/$pod Ready"
}

# delete_pod NS POD : delete now (the test apps need no graceful stop) and wait until it is gone.
delete_pod() {
  k -n "$1" delete pod "$2" --grace-period=1 --wait=true --timeout=60s >/dev/null
}

# assert_injected NS POD : the pod as stored carries kab's marks and the agent sidecar.
assert_injected() {
  local ns="$1" pod="$2" status agent
  status="$(k -n "$ns" get pod "$pod" -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}')"
  [[ "$status" == injected ]] || fail "pod $ns/$pod is not injected (kab.boa.nu/status=\"$status\")"
  agent="$(k -n "$ns" get pod "$pod" -o jsonpath='{.spec.initContainers[?(@.name=="kab-agent")].restartPolicy}')"
  [[ "$agent" == Always ]] || fail "pod $ns/$pod has no kab-agent native sidecar"
}

# agent NS POD ARGS... : run the agent's CLI in the sidecar (the image has no shell).
agent() {
  local ns="$1" pod="$2"; shift 2
  k -n "$ns" exec "$pod" -c kab-agent -- /kab-agent "$@"
}

# agent_status NS POD : the agent's /status JSON (DESIGN §6).
agent_status() { agent "$1" "$2" status; }

# successful_runs NS POD : how many of the agent's recent runs succeeded (at most 10 are kept).
successful_runs() {
  agent_status "$1" "$2" | jq '[.lastRuns[] | select(.result == "success")] | length'
}

# backup_now NS POD [TIMEOUT] : start a backup through the control API and wait until the agent
# reports it finished; fail unless it succeeded. Prints the run's id.
backup_now() {
  local ns="$1" pod="$2" timeout="${3:-60}" out id result deadline
  out="$(agent "$ns" "$pod" backup-now)" || fail "kab-agent backup-now failed in $ns/$pod: $out"
  id="$(extract_run_id "$out")"
  [[ -n "$id" ]] || fail "kab-agent backup-now printed no run id: $out"
  deadline=$((SECONDS + timeout))
  while :; do
    result="$(agent_status "$ns" "$pod" | jq -r --arg id "$id" '.lastRuns[] | select(.id == $id) | .result')"
    [[ -n "$result" ]] && break
    ((SECONDS < deadline)) || fail "backup run $id in $ns/$pod did not finish within ${timeout}s"
    sleep 1
  done
  if [[ "$result" != success ]]; then
    agent_status "$ns" "$pod" >&2 || true
    fail "backup run $id in $ns/$pod ended with result $result"
  fi
  log "ok: backup-now run $id in $ns/$pod succeeded"
  echo "$id"
}

# extract_run_id OUTPUT : the run id from backup-now's output, JSON ({"id": …}) or text.
extract_run_id() {
  local out="$1" id
  id="$(jq -r '.id // empty' <<<"$out" 2>/dev/null || true)"
  if [[ -z "$id" ]]; then
    id="$(grep -oE '"id" *: *"[^"]+"' <<<"$out" | head -1 | sed -E 's/.*"([^"]+)"$/\1/' || true)"
  fi
  if [[ -z "$id" ]]; then
    id="$(grep -oE '[0-9]{8}T[0-9]{6}[.0-9]*Z[^ ]*|run[ -=:]+[^ ]+' <<<"$out" | head -1 | sed -E 's/^run[ -=:]+//' || true)"
  fi
  echo "$id"
}

# host_backup PATH : a path under this scenario run's backup host folder.
host_backup() { echo "$KAB_E2E_HOSTDIR/$1"; }

# clean_backup_folder NAME : forget what an earlier run backed up under NAME, so a check can only
# pass on what this run wrote.
clean_backup_folder() {
  [[ -n "$1" && "$1" != */* ]] || fail "bad backup folder name '$1'"
  rm -rf "${KAB_E2E_HOSTDIR:?}/$1"
}

# injects_now : a server-side dry run of an annotated pod comes back injected. It exercises the
# whole path — Service, TLS with the caBundle the injector patched in, mutation — and stores
# nothing (the webhook declares no side effects).
injects_now() {
  local status
  status="$(k -n default create --dry-run=server -o jsonpath='{.metadata.annotations.kab\.boa\.nu/status}' \
    -f "$MANIFESTS/probe-pod.yaml" 2>/dev/null)" || return 1
  [[ "$status" == injected ]]
}

# wait_injector_ready TIMEOUT : the injector's Deployment is rolled out and injects.
wait_injector_ready() {
  local timeout="${1:-180}"
  k -n kab-system rollout status deployment/kab-injector --timeout="${timeout}s" >&2 \
    || fail "the kab-injector Deployment did not roll out within ${timeout}s"
  wait_until "$timeout" "the injector injects (server-side dry run)" injects_now
}

# apply_manifest NS FILE [SED_EXPR...] : apply a manifest from manifests/ into NS, with optional
# sed substitutions (short schedules, names) so the files stay readable.
apply_manifest() {
  local ns="$1" file="$2"; shift 2
  local expr=() e
  for e in "$@"; do expr+=(-e "$e"); done
  if ((${#expr[@]})); then
    sed "${expr[@]}" "$MANIFESTS/$file" | k -n "$ns" apply -f -
  else
    k -n "$ns" apply -f "$MANIFESTS/$file"
  fi
}
