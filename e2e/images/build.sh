#!/usr/bin/env bash
# make e2e-images: builds the test images the e2e suite uses, from Debian packages and with no
# registry, and loads them into the kab-e2e cluster:
#   kab-test/busybox:e2e  static busybox (Debian's busybox-static), FROM scratch
#   kab-test/sqlite:e2e   Debian minbase root filesystem with sqlite3 and a shell
# Usage: build.sh [--no-load] [IMAGE...]   extra IMAGEs (already built, e.g. kab-agent:dev)
#        are loaded together with the test images.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"
source "$KAB_ROOT/e2e/images/lib.sh"

load=1
if [[ "${1:-}" == --no-load ]]; then load=0; shift; fi
extra=("$@")

BUSYBOX_IMAGE=kab-test/busybox:e2e
SQLITE_IMAGE=kab-test/sqlite:e2e

on_exit() {
  local rc=$?
  [[ $rc -eq 0 ]] || { warn "e2e-images FAILED (exit $rc)"; docker_stop_if_started_now || true; }
}
trap on_exit EXIT

docker_ensure

# busybox: the .deb is fetched with apt-get download and unpacked into the cache, so the
# machine's own busybox (if any) is left alone.
build_busybox() {
  local version dir ctx
  version="$(apt-cache policy busybox-static 2>/dev/null | awk '/Candidate:/ {print $2}')"
  if [[ -z "$version" || "$version" == "(none)" ]]; then
    apt-get update -qq >&2
    version="$(apt-cache policy busybox-static | awk '/Candidate:/ {print $2}')"
  fi
  dir="$KAB_CACHE_DIR/build/busybox-static-${version//[:~+]/_}"
  if [[ ! -x "$dir/root/bin/busybox" ]]; then
    log "fetching busybox-static $version (apt-get download)"
    rm -rf "$dir" && mkdir -p "$dir"
    (cd "$dir" && apt-get download -qq -o APT::Sandbox::User=root "busybox-static=$version" >&2 && dpkg-deb -x ./*.deb root)
  fi
  ctx="$dir/ctx"
  rm -rf "$ctx" && mkdir -p "$ctx/bin" "$ctx/etc" "$ctx/tmp" && chmod 1777 "$ctx/tmp"
  cp "$dir/root/bin/busybox" "$ctx/bin/busybox"
  # Users for images that run as non-root (uid 65534) and for `ps`/`id` to show names.
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' >"$ctx/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$ctx/etc/group"
  cat >"$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY . /
# Applet links (sh, ps, nc, httpd, ...) made by busybox itself.
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV PATH=/bin
CMD ["/bin/sh"]
DOCKERFILE
  rm -f "$ctx/Dockerfile.tmp"
  docker_build -t "$BUSYBOX_IMAGE" "$ctx"
  docker run --rm "$BUSYBOX_IMAGE" sh -c 'ps >/dev/null && nc --help >/dev/null 2>&1; test -x /bin/httpd' \
    || die "$BUSYBOX_IMAGE does not work (sh/ps/nc/httpd)"
  log "built $BUSYBOX_IMAGE"
}

build_sqlite() {
  local rootfs
  rootfs="$("$KAB_ROOT/e2e/kind/rootfs.sh" sqlite sqlite3)"
  docker tag "$rootfs" "$SQLITE_IMAGE"
  docker run --rm "$SQLITE_IMAGE" sh -c 'sqlite3 :memory: "select 1;" >/dev/null' \
    || die "$SQLITE_IMAGE does not work (sqlite3)"
  log "built $SQLITE_IMAGE"
}

build_busybox
build_sqlite
if [[ "$load" == 1 ]]; then
  use_cluster_tools
  load_images "$BUSYBOX_IMAGE" "$SQLITE_IMAGE" "${extra[@]}"
fi
