#!/usr/bin/env bash
# Installs what the unit tests need on a fresh machine: the agent's tests build app root file
# systems from a statically linked busybox (Debian's busybox-static), and the metric and alert
# rule checks run promtool (Debian's prometheus package), and the retention reference test runs restic.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
  # apt_ensure keys on a command; busybox may exist dynamically linked, so check the package.
  log "installing busybox-static (apt) for the agent's real-process tests"
  compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2 \
    || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static >&2; }
fi
apt_ensure promtool prometheus
# agent/retention compares its decisions with Debian's restic forget (the reference semantics).
apt_ensure restic restic

# Offsite copies: the e2e restores one with Debian's age and zstd (no kab code), and the offsite
# benchmark compares the upload with s3cmd.
apt_ensure age age
apt_ensure zstd zstd
apt_ensure s3cmd s3cmd
