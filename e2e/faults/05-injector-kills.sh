#!/usr/bin/env bash
# Fault 5: the injector's replicas are killed again and again while a Deployment of kab pods
# scales up. Each step kills the injector — all replicas force-deleted, or one replica's process
# killed with -9, in turn — and at once asks for STEP more pods, so the ReplicaSet creates pods
# while the webhook is down or restarting. Outcomes: no pod is ever admitted without injection
# (failurePolicy Fail: the API server rejects them and the ReplicaSet retries), and all PODS
# pods end up Running, Ready and injected.
#   KAB_FAULT_PODS (default 200, the issue's number) and KAB_FAULT_STEP (default 20).
# The node must hold them: the kind config of e2e/kind/up.sh raises the kubelet's maxPods, and
# this case lowers the agent's CPU request for its duration (see lower_agent_cpu).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-swarm total="${KAB_FAULT_PODS:-200}" step="${KAB_FAULT_STEP:-20}"
[[ "$total" =~ ^[1-9][0-9]*$ && "$step" =~ ^[1-9][0-9]*$ ]] \
  || fail "KAB_FAULT_PODS='$total' and KAB_FAULT_STEP='$step' must be positive integers"
injector=(-n kab-system -l app.kubernetes.io/name=kab-injector)
clean_backup_folder fault-swarm

# The agent's CPU request. The injector gives every agent the config's agentResources (10m CPU
# by default) and kab has no per-pod or per-namespace override; a LimitRange only fills in
# requests a container leaves out, and the injector always sets one. 200 agents × 10m are the
# whole 2-CPU kind node, so for this case only the injector runs a copy of its installed config
# whose agent asks for 1m: a new ConfigMap and the Deployment pointed at it, the way a config
# change rolls out (deploy/base: a new generated name rolls the Deployment). The original comes
# back on every way out (the EXIT trap); install.sh, which every suite run starts with, would
# restore it too. The default stays 10m for users.
agent_cpu=1m
swarm_config=kab-injector-config-fault-swarm
original_config=""
set_injector_config() {
  k -n kab-system patch deployment kab-injector --type=strategic \
    -p "{\"spec\":{\"template\":{\"spec\":{\"volumes\":[{\"name\":\"config\",\"configMap\":{\"name\":\"$1\"}}]}}}}" >/dev/null
}
lower_agent_cpu() {
  local config lowered
  original_config="$(k -n kab-system get deployment kab-injector \
    -o jsonpath='{.spec.template.spec.volumes[?(@.name=="config")].configMap.name}')"
  [[ -n "$original_config" ]] || fail "the kab-injector Deployment has no ConfigMap volume named config"
  config="$(k -n kab-system get configmap "$original_config" -o jsonpath='{.data.config\.yaml}')"
  (($(grep -c 'cpu: 10m' <<<"$config") == 1)) \
    || fail "the installed injector config ($original_config) should name the agent's CPU request once as 'cpu: 10m' (deploy/overlays/hostpath/config.yaml); it has: $(grep -n cpu <<<"$config" | tr '\n' ' ')"
  lowered="${config/cpu: 10m/cpu: $agent_cpu}"
  k -n kab-system create configmap "$swarm_config" --from-literal=config.yaml="$lowered" \
    --dry-run=client -o yaml | k apply -f - >/dev/null
  set_injector_config "$swarm_config"
  log "injector config for this case: $swarm_config (agent CPU request $agent_cpu instead of 10m)"
  wait_injector_ready 180
}
restore_injector_config() {
  local rc=$?
  if [[ -n "$original_config" ]]; then
    log "restoring the injector config $original_config"
    set_injector_config "$original_config" || warn "could not point kab-injector back at $original_config"
    k -n kab-system delete configmap "$swarm_config" --ignore-not-found >/dev/null || true
    # Generous: right after the swarm the controllers and the kubelet are still catching up.
    (wait_injector_ready 300) || rc=1
  fi
  exit "$rc"
}
trap restore_injector_config EXIT
trap 'exit 130' INT TERM

# node_pods : pods that hold one of the node's pod slots (namespaces still being deleted by
# earlier runs included).
node_pods() {
  k get pods -A --field-selector=spec.nodeName="$KAB_NODE_CONTAINER",status.phase!=Succeeded,status.phase!=Failed -o name | wc -l
}
max_pods="$(k get node "$KAB_NODE_CONTAINER" -o jsonpath='{.status.allocatable.pods}')"
# A cluster from before maxPods was raised fails here with the cure, not after the wait below
# (12: the system's pods and the injector's, about).
((total + 12 <= max_pods)) \
  || fail "the node allows $max_pods pods, too few for $total kab pods and the system's: re-create the cluster (make kind-down kind-up; e2e/kind/up.sh sets maxPods) or lower KAB_FAULT_PODS"
room() { (($(node_pods) + total + 2 <= max_pods)); } # + the 2 injector replicas' replacements
wait_until 300 "room for $total more pods on the node (at most $max_pods)" room
lower_agent_cpu
new_namespace "$ns"
apply_fault_manifest "$ns" swarm.yaml

# uninjected : pods of the swarm stored without kab's marks or without the agent sidecar.
uninjected() {
  k -n "$ns" get pods -o json | jq -r '.items[]
    | select(.metadata.annotations["kab.boa.nu/status"] != "injected"
             or ([.spec.initContainers[]? | select(.name == "kab-agent" and .restartPolicy == "Always")] | length) != 1)
    | .metadata.name'
}
check_none_uninjected() {
  local bad
  bad="$(uninjected)"
  [[ -z "$bad" ]] || fail "pods admitted without injection: $(tr '\n' ' ' <<<"$bad")"
}

# ready N : at least N of the swarm's pods are Ready.
ready() {
  local n
  n="$(k -n "$ns" get deployment swarm -o jsonpath='{.status.readyReplicas}')"
  ((${n:-0} >= $1))
}

# not_ready : why the swarm is not all Ready yet — pods per phase, and the scheduler's word on
# one that waits (e.g. "Insufficient cpu" when the node cannot hold them).
not_ready() {
  k -n "$ns" get pods -o json | jq -r '
    ([.items[] | .status.phase] | group_by(.) | map("\(length) \(.[0])") | join(", ")) as $phases
    | ([.items[] | .status.conditions[]? | select(.type == "PodScheduled" and .status != "True") | .message] | first // "") as $why
    | "\($phases)\(if $why != "" then "; unscheduled: " + $why else "" end)"'
}
# wait_swarm_ready N TIMEOUT : until N of the swarm's pods are Ready; fail saying why not.
wait_swarm_ready() {
  local deadline=$((SECONDS + $2))
  until ready "$1"; do
    ((SECONDS < deadline)) || fail "not $1 swarm pods Ready after $2 s: $(not_ready)"
    sleep 2
  done
  log "ok: $1 swarm pods Ready"
}

started=$SECONDS kills=0 replicas=0
while ((replicas < total)); do
  if ((kills % 2 == 0)); then
    k delete pod "${injector[@]}" --force --grace-period=0 --wait=false >/dev/null 2>&1
    how="all replicas force-deleted"
  else
    victim="$(k get pods "${injector[@]}" --field-selector=status.phase=Running -o jsonpath='{.items[0].metadata.name}')"
    in_node kill -9 "$(container_pid kab-system "$victim" injector)"
    how="kill -9 of $victim's process"
  fi
  kills=$((kills + 1))
  replicas=$((replicas + step > total ? total : replicas + step))
  k -n "$ns" scale deployment/swarm --replicas="$replicas" >/dev/null
  log "kill $kills ($how), swarm scaled to $replicas while the injector restarts"
  check_none_uninjected
  # The next kill only once both replicas are back and inject (a force-deleted pod's process can
  # still answer for a moment), so that every step sees the injector go down; and once this
  # step's pods are Ready, so that at most STEP pods start at a time. All 200 at once swamped
  # the 2-CPU node: probes timed out, liveness restarted agents, and the restarts fed the storm
  # (a first run took 21 minutes to settle).
  wait_injector_ready 180
  wait_swarm_ready "$replicas" 600
done

log "ok: all $total swarm pods Ready, $((SECONDS - started)) s after the first kill"
check_none_uninjected
running="$(k -n "$ns" get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length')"
((running == total)) || fail "$running of $total swarm pods Running"
# The premise: the swarm's agents asked for the lowered CPU (else the node was filled another way).
request="$(k -n "$ns" get pods -o json | jq -r '[.items[].spec.initContainers[] | select(.name == "kab-agent") | .resources.requests.cpu] | unique | join(" ")')"
[[ "$request" == "$agent_cpu" ]] || fail "the swarm's agents request CPU '$request', want $agent_cpu from the case's injector config"
log "node $KAB_NODE_CONTAINER: $(node_pods) pods of $max_pods allowed; requests and limits:$(k describe node "$KAB_NODE_CONTAINER" \
  | grep -E '^ +(cpu|memory) ' | head -2 | tr -s ' ' | tr '\n' ';') allocatable memory $(k get node "$KAB_NODE_CONTAINER" -o jsonpath='{.status.allocatable.memory}')"
rejected="$(k -n "$ns" get events --field-selector reason=FailedCreate -o json \
  | jq '[.items[] | select(.message | contains("inject.kab.boa.nu")) | .count // 1] | add // 0')"
log "the API server refused $rejected pod creations while the injector was down (FailedCreate events naming the webhook)"
log "PASS fault 5: $kills injector kills while scaling to $total kab pods: none admitted without injection, all Running and injected"

# The next case starts on a quiet node: wait for the swarm to be gone (bounded), not just asked
# to go; 200 pods take the kubelet minutes to stop on a busy 2-CPU node.
gone_at=$SECONDS
k delete namespace "$ns" --wait=true --timeout=600s >/dev/null || warn "namespace $ns still deleting after 600 s"
log "swarm deleted in $((SECONDS - gone_at)) s"
