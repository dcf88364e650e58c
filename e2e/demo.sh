#!/usr/bin/env bash
# `make demo`: kab on the local kind cluster with an example app (deploy/examples/plain-files.yaml,
# on a 10 s schedule) backing itself up into a folder on this machine; prints where to look.
# Expects the images built and the cluster up (`make demo` does both first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/scenarios/lib.sh"

ns=kab-demo
load_all_images
"$SCENARIO_DIR/install.sh"

k create namespace "$ns" --dry-run=client -o yaml | k apply -f - >/dev/null
wait_until 60 "ServiceAccount default in $ns" k -n "$ns" get serviceaccount default
# The example as users get it, with the locally built busybox (nothing can be pulled here) and a
# schedule short enough to watch.
sed -e 's#image: busybox:1.37#image: kab-test/busybox:e2e#' \
    -e 's#backup-schedule: "3600"#backup-schedule: "10"#' \
    "$KAB_ROOT/deploy/examples/plain-files.yaml" | k -n "$ns" apply -f - >&2
k -n "$ns" rollout status deployment/files-app --timeout=120s >&2
backup="$KAB_E2E_HOSTDIR/files-app/data.tar"
wait_until 60 "the first backup in $backup" test -s "$backup"

kubectl_cmd="$KAB_KUBECTL --context $KAB_KUBE_CONTEXT -n $ns"
cat <<EOF

kab is running on the kind cluster '$KAB_CLUSTER_NAME' (context $KAB_KUBE_CONTEXT), and the app
'files-app' (deploy/examples/plain-files.yaml) backs itself up every 10 seconds.

  Backups on this machine:  $KAB_E2E_HOSTDIR/files-app/   (tar -tvf $backup)

  alias k='$kubectl_cmd'
  k get pods -o wide                                   # app + kab-agent sidecar (2/2)
  k get pod -l app=files-app -o yaml | less             # what the injector added
  k logs deploy/files-app -c kab-agent -f               # each backup run, its output
  k exec deploy/files-app -c kab-agent -- /kab-agent status        # last runs, next run
  k exec deploy/files-app -c kab-agent -- /kab-agent backup-now    # one backup now

  Restore: delete the pod; the new one's kab-restore container untars the backup first:
  k delete pod -l app=files-app && k rollout status deploy/files-app
  k exec deploy/files-app -c app -- cat /data/started.log          # one line per start, kept
  k logs deploy/files-app -c kab-restore

  Stop everything: make kind-down
EOF
