#!/usr/bin/env bash
# make e2e-images: builds the test images the e2e suite uses, from Debian packages and with no
# registry, and loads them into the kab-e2e cluster:
#   kab-test/busybox:e2e  static busybox (Debian's busybox-static), FROM scratch
#   kab-test/sqlite:e2e   Debian minbase root filesystem with sqlite3 and a shell
#   kab-test/postgres:e2e Debian minbase root filesystem with Debian's postgresql (server and
#                         psql/pg_dump on PATH), user postgres = uid/gid 999, no cluster made
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
POSTGRES_IMAGE=kab-test/postgres:e2e

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

# postgres: the root filesystem (cached by rootfs.sh) trimmed and flattened into one layer, cached
# in Docker's image store under a tag keyed by the root filesystem and the trim. Trimmed: the
# LLVM JIT (libLLVM and libz3, 130 MB; without its provider the server runs queries without JIT),
# and the cluster Debian's package makes at install — a pod's data folder starts empty and the
# app's own command runs initdb, as the official image's entrypoint does. The user postgres gets
# a fixed uid/gid 999 that pods can name in runAsUser; the server's bin folder goes on PATH.
build_postgres() {
  local rootfs version trim flat cid config
  rootfs="$("$KAB_ROOT/e2e/kind/rootfs.sh" postgres postgresql)"
  version="$(docker run --rm "$rootfs" ls /usr/lib/postgresql)"
  [[ "$version" =~ ^[0-9]+$ ]] || die "expected one server version in /usr/lib/postgresql of $rootfs, found '$version'"
  trim="set -e
rm -f /usr/lib/postgresql/$version/lib/llvmjit.so /usr/lib/postgresql/$version/lib/llvmjit_types.bc
rm -rf /usr/lib/postgresql/$version/lib/bitcode /usr/lib/x86_64-linux-gnu/libLLVM-* /usr/lib/x86_64-linux-gnu/libz3.so*
rm -rf /var/lib/postgresql/$version /etc/postgresql/$version /var/cache/apt/* /var/lib/apt/lists/*
usermod -u 999 postgres && groupmod -g 999 postgres
mkdir -p /var/run/postgresql && chown -R 999:999 /var/lib/postgresql /var/run/postgresql"
  config=(--change "ENV PATH=/usr/lib/postgresql/$version/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    --change "USER 999:999" --change 'CMD ["postgres", "--version"]')
  flat="kab-e2e/postgres-flat:${rootfs##*:}-$(hash_str "$trim" "${config[@]}")"
  if ! docker image inspect "$flat" >/dev/null 2>&1; then
    cid="$(docker create "$rootfs" sh -c "$trim")"
    docker start -a "$cid" >&2 || { docker rm -f "$cid" >/dev/null; die "trimming $rootfs failed"; }
    docker export "$cid" | docker import "${config[@]}" - "$flat" >/dev/null
    docker rm "$cid" >/dev/null
  fi
  docker tag "$flat" "$POSTGRES_IMAGE"
  # It starts: a new cluster, the server as the postgres user, a query through the socket.
  docker run --rm "$POSTGRES_IMAGE" sh -c 'initdb -D /tmp/pg -U postgres --auth=trust >/dev/null &&
    pg_ctl -D /tmp/pg -o "-c listen_addresses=" -w start >/dev/null &&
    [ "$(psql -U postgres -Atc "select current_user")" = postgres ] && pg_ctl -D /tmp/pg -w stop >/dev/null' \
    || die "$POSTGRES_IMAGE does not work (initdb, pg_ctl start, psql as postgres)"
  log "built $POSTGRES_IMAGE (PostgreSQL $version, $(($(docker image inspect -f '{{.Size}}' "$POSTGRES_IMAGE") / 1048576)) MiB)"
}

build_busybox
build_sqlite
build_postgres
if [[ "$load" == 1 ]]; then
  use_cluster_tools
  load_images "$BUSYBOX_IMAGE" "$SQLITE_IMAGE" "$POSTGRES_IMAGE" "${extra[@]}"
fi
