#!/usr/bin/env bash
# Builds the two kab images, kab-injector:dev and kab-agent:dev, from the static binaries of
# `make build`. The Dockerfiles are FROM scratch with no build stage, so this works with no
# registry. Prints the image sizes.
#   e2e/scenarios/build-images.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"

arch="${GOARCH:-$(go env GOARCH)}"
tag="${KAB_IMAGE_TAG:-dev}"

# One folder per target architecture, the layout the Dockerfiles read (bin/linux-$TARGETARCH):
# a multi-arch build fills several of them and buildx picks the right one per platform.
log "building the static binaries for linux/$arch"
make -C "$KAB_ROOT" --no-print-directory build GOARCH="$arch" BIN="bin/linux-$arch" >&2

docker_ensure
for image in injector agent; do
  log "docker build kab-$image:$tag"
  # The legacy builder does not set TARGETARCH itself; BuildKit would, to the same value.
  docker build --quiet -f "$KAB_ROOT/Dockerfile.$image" --build-arg "TARGETARCH=$arch" \
    --build-arg "VERSION=$tag" -t "kab-$image:$tag" "$KAB_ROOT" >/dev/null
  size="$(docker image inspect -f '{{.Size}}' "kab-$image:$tag")"
  log "kab-$image:$tag: $((size / 1024)) KiB ($size bytes)"
done
