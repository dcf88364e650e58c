# shellcheck shell=bash
# Helpers for the fault cases, on top of the scenarios' (kubectl on the e2e cluster, bounded
# waits, the agent's status): commands inside the kind node, the pid of one container, and the
# state of a snapshot-mode backup folder. Source it after `set -euo pipefail`.

if [[ -n "${KAB_FAULTS_LIB_LOADED:-}" ]]; then return 0; fi
KAB_FAULTS_LIB_LOADED=1

source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/lib.sh"

FAULT_DIR="$KAB_ROOT/e2e/faults"
FAULT_MANIFESTS="$FAULT_DIR/manifests"

# in_node ARGS... : a command inside the kind node's container (its mount and PID namespaces).
in_node() { docker exec "$KAB_NODE_CONTAINER" "$@"; }

# apply_fault_manifest NS FILE [SED_EXPR...] : apply a manifest from e2e/faults/manifests/.
apply_fault_manifest() {
  local ns="$1" file="$2"; shift 2
  local expr=(-e '') e
  for e in "$@"; do expr+=(-e "$e"); done
  sed "${expr[@]}" "$FAULT_MANIFESTS/$file" | k -n "$ns" apply -f - >&2
}

# container_pid NS POD CONTAINER : the node-side pid of the container's main process (crictl
# inspect of the running container; fails when it is not running).
container_pid() {
  local ns="$1" pod="$2" name="$3" id pid
  id="$(in_node crictl ps -q --state running --name "^$name\$" --label "io.kubernetes.pod.namespace=$ns" \
    --label "io.kubernetes.pod.name=$pod")"
  [[ -n "$id" && "$id" != *$'\n'* ]] || fail "no single running container $name in $ns/$pod (crictl: '$id')"
  pid="$(in_node crictl inspect --output go-template --template '{{.info.pid}}' "$id")"
  [[ "$pid" =~ ^[0-9]+$ && "$pid" -gt 1 ]] || fail "crictl gave no pid for $name in $ns/$pod: '$pid'"
  echo "$pid"
}

# restarts NS POD CONTAINER : the container's restart count (app containers and native sidecars).
restarts() {
  k -n "$1" get pod "$2" -o json | jq -r --arg c "$3" \
    '[(.status.containerStatuses // [])[], (.status.initContainerStatuses // [])[]] | map(select(.name == $c)) | .[0].restartCount // 0'
}

# container_ready NS POD CONTAINER : the container (or native sidecar) reports ready.
container_ready() {
  [[ "$(k -n "$1" get pod "$2" -o json | jq -r --arg c "$3" \
    '[(.status.containerStatuses // [])[], (.status.initContainerStatuses // [])[]] | map(select(.name == $c)) | .[0].ready')" == true ]]
}

# running_id NS POD : the id of the agent's run in progress, empty when none.
running_id() { agent_status "$1" "$2" | jq -r '.running.id // empty'; }

# run_field NS POD ID FIELD : one field of a finished run in the agent's status.
run_field() {
  agent_status "$1" "$2" | jq -r --arg id "$3" --arg f "$4" '.lastRuns[] | select(.id == $id) | .[$f] // empty'
}

# start_backup NS POD : POST /backup through the agent's CLI; prints the run id.
start_backup() {
  local out id
  out="$(agent "$1" "$2" backup-now)" || fail "kab-agent backup-now failed in $1/$2: $out"
  id="$(extract_run_id "$out")"
  [[ -n "$id" ]] || fail "kab-agent backup-now printed no run id: $out"
  echo "$id"
}

# wait_run_finished NS POD ID [TIMEOUT] : until the run shows up among the finished runs.
wait_run_finished() {
  local ns="$1" pod="$2" id="$3" timeout="${4:-60}"
  # shellcheck disable=SC2317 # called through wait_until
  finished() { [[ -n "$(run_field "$ns" "$pod" "$id" result)" ]]; }
  wait_until "$timeout" "run $id in $ns/$pod finished" finished
}

# Snapshot-mode folders, read by a lister LS (a command that prints a folder's entries, one per
# line, e.g. `ls -1` on this machine or `in_node ls -1` inside the node).
# complete_snapshots LS DIR : the promoted snapshots, sorted by name (= by time).
complete_snapshots() { $1 "$2/snapshots" 2>/dev/null | grep -vE '\.(partial|rejected)$' | sort || true; }
# partial_snapshots LS DIR : the .partial folders (runs in progress or left by a killed agent).
partial_snapshots() { $1 "$2/snapshots" 2>/dev/null | grep -E '\.partial$' || true; }

host_ls() { ls -1A "$1"; }
node_ls() { in_node ls -1A "$1"; }
