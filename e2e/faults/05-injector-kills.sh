#!/usr/bin/env bash
# Fault 5: the injector's replicas are killed again and again while a Deployment of kab pods
# scales up. Each step kills the injector — all replicas force-deleted, or one replica's process
# killed with -9, in turn — and at once asks for STEP more pods, so the ReplicaSet creates pods
# while the webhook is down or restarting. Outcomes: no pod is ever admitted without injection
# (failurePolicy Fail: the API server rejects them and the ReplicaSet retries), and all PODS
# pods end up Running, Ready and injected.
#   KAB_FAULT_PODS (default 60) and KAB_FAULT_STEP (default 10); docs/RELIABILITY.md says why
#   not 200 on the 2-CPU kind node.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-fault-swarm total="${KAB_FAULT_PODS:-60}" step="${KAB_FAULT_STEP:-10}"
[[ "$total" =~ ^[1-9][0-9]*$ && "$step" =~ ^[1-9][0-9]*$ ]] \
  || fail "KAB_FAULT_PODS='$total' and KAB_FAULT_STEP='$step' must be positive integers"
injector=(-n kab-system -l app.kubernetes.io/name=kab-injector)
clean_backup_folder fault-swarm
# node_pods : pods that hold one of the node's pod slots (namespaces still being deleted by
# earlier runs included).
node_pods() {
  k get pods -A --field-selector=spec.nodeName="$KAB_NODE_CONTAINER",status.phase!=Succeeded,status.phase!=Failed -o name | wc -l
}
max_pods="$(k get node "$KAB_NODE_CONTAINER" -o jsonpath='{.status.allocatable.pods}')"
room() { (($(node_pods) + total + 2 <= max_pods)); } # + the 2 injector replicas' replacements
wait_until 300 "room for $total more pods on the node (at most $max_pods)" room
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

kills=0 replicas=0
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
  # still answer for a moment), so that every step sees the injector go down.
  wait_injector_ready 180
done

all_ready() {
  local ready
  ready="$(k -n "$ns" get deployment swarm -o jsonpath='{.status.readyReplicas}')"
  ((${ready:-0} == total))
}
wait_until 600 "all $total swarm pods Ready" all_ready
check_none_uninjected
running="$(k -n "$ns" get pods -o json | jq '[.items[] | select(.status.phase == "Running")] | length')"
((running == total)) || fail "$running of $total swarm pods Running"
# What is left on the node for more kab pods (docs/RELIABILITY.md says why 60, not 200).
log "node $KAB_NODE_CONTAINER: $(node_pods) pods of $max_pods allowed; $(k describe node "$KAB_NODE_CONTAINER" | grep -E '^ +cpu ' | head -1 | tr -s ' ')"
rejected="$(k -n "$ns" get events --field-selector reason=FailedCreate -o json \
  | jq '[.items[] | select(.message | contains("inject.kab.boa.nu")) | .count // 1] | add // 0')"
log "the API server refused $rejected pod creations while the injector was down (FailedCreate events naming the webhook)"
log "PASS fault 5: $kills injector kills while scaling to $total kab pods: none admitted without injection, all Running and injected"

delete_namespace "$ns"
