#!/usr/bin/env bash
# Installs kab on the e2e cluster with the hostpath overlay (backups under the node's
# /var/lib/kab = the host folder) and waits until the injector really injects: a server-side
# dry run of an annotated pod goes through the webhook without creating anything.
#   e2e/scenarios/install.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

k apply -k "$KAB_ROOT/deploy/overlays/hostpath" >&2
# The tag stays kab-injector:dev across builds, so an unchanged Deployment keeps running the
# injector of an earlier build: restart it onto the image just loaded.
k -n kab-system rollout restart deployment/kab-injector >&2
wait_injector_ready 180
