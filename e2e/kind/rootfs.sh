#!/usr/bin/env bash
# Builds a Debian root filesystem image (mmdebstrap --variant=minbase, from the same Debian
# archive and suite this machine uses) with extra packages, and imports it into Docker.
# Usage: rootfs.sh NAME [PACKAGE...]   Prints the image tag on stdout.
# The tag is keyed by suite, package list and this script, so Docker's image store is the cache;
# `make kind-clean` removes the kab-e2e/* images.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

name="${1:?usage: rootfs.sh NAME [PACKAGE...]}"; shift
packages=("$@")

# shellcheck disable=SC1091
suite="$(. /etc/os-release && echo "${VERSION_CODENAME:?}")"
tag="kab-e2e/rootfs-$name:$suite-$(hash_str "$suite" "${packages[@]}" "$(hash_inputs "${BASH_SOURCE[0]}")")"

if docker image inspect "$tag" >/dev/null 2>&1; then
  log "cached: $tag"
  echo "$tag"; exit 0
fi

apt_ensure mmdebstrap mmdebstrap

# Use the host's own apt sources (Debian entries only), so no mirror is named here and the
# rootfs comes from wherever this machine gets its packages.
sources=()
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [[ -f "$f" ]] && grep -qE '^[^#]*/debian' "$f" && sources+=("$f")
done
[[ ${#sources[@]} -gt 0 ]] || die "no Debian apt sources found in /etc/apt"

# Pass on a proxy the host's apt uses, if any.
aptopts=(--aptopt='Acquire::Check-Valid-Until "false"')
while read -r line; do aptopts+=(--aptopt="$line"); done \
  < <(apt-config dump 2>/dev/null | grep -iE '^Acquire::(http|https)::Proxy ' || true)

include=""
[[ ${#packages[@]} -gt 0 ]] && include="--include=$(IFS=,; echo "${packages[*]}")"

log "building Debian $suite rootfs '$name' (${packages[*]:-minbase only})"
start=$SECONDS
# Docs, man pages and locales are dead weight in test images.
mmdebstrap --quiet --variant=minbase ${include:+"$include"} "${aptopts[@]}" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  "$suite" - "${sources[@]}" \
  | docker import - "$tag" >/dev/null
log "built $tag in $((SECONDS - start))s"
echo "$tag"
