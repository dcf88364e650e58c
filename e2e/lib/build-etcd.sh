#!/usr/bin/env bash
# Builds the etcd server from Go modules, offline except for the Go module proxy.
#
#   e2e/lib/build-etcd.sh
#
# Prints the bin dir on stdout; everything else goes to stderr. The binary is cached in
# ${KAB_CACHE_DIR:-<repo>/.cache}/etcd/<version>/bin/etcd. go.etcd.io/etcd/server/v3's go.mod
# replaces its sibling modules (api, client, pkg) with ../ paths, which only work inside etcd's own
# repository, so we build through a wrapper module that pins each sibling at the same release.
set -euo pipefail

ETCD_VERSION=v3.7.0
ETCD_SERVER_MODULE=go.etcd.io/etcd/server/v3

log() { printf 'build-etcd: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/wrapper-module.sh"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${KAB_CACHE_DIR:-$repo_root/.cache}
base_dir=$cache_dir/etcd/$ETCD_VERSION
bin_dir=$base_dir/bin
mod_dir=$base_dir/module

[ $# -eq 0 ] || die "usage: $0 (takes no arguments)"
mkdir -p "$bin_dir"

if [ -x "$bin_dir/etcd" ]; then
	log "cached: $bin_dir/etcd"
	echo "$bin_dir"
	exit 0
fi

# Serialise concurrent callers, then re-check: the other one may have just finished.
exec 9>"$base_dir/.lock"
flock 9
if [ -x "$bin_dir/etcd" ]; then
	log "built meanwhile by another run: $bin_dir/etcd"
	echo "$bin_dir"
	exit 0
fi

# Holding the lock, no other build runs: temp dirs here were left by a killed build.
rm -rf "$base_dir"/.build.*

export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

prepare_wrapper_module "$mod_dir" "$ETCD_SERVER_MODULE" "$ETCD_VERSION" ../ "$ETCD_VERSION" "$ETCD_SERVER_MODULE"

# The module zip carries no commit id; record the release tag instead of etcd's
# "Not provided (use ./build instead of go build)" so `etcd --version` says what was built.
ldflags="-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"

tmp_dir=$(mktemp -d "$base_dir/.build.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
log "building etcd $ETCD_VERSION"
start=$(date +%s)
(cd "$mod_dir" && go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/etcd" "$ETCD_SERVER_MODULE") >&2
mv -f "$tmp_dir/etcd" "$bin_dir/etcd"
log "built etcd in $(($(date +%s) - start)) s"
echo "$bin_dir"
