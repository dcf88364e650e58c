#!/usr/bin/env bash
# Builds SeaweedFS's `weed` (the real S3-compatible server kab's offsite tests run against) from
# its Go module, offline except for the Go module proxy.
#
#   e2e/lib/build-seaweedfs.sh        prints the bin dir holding `weed` on stdout
#
# The binary is cached in ${KAB_CACHE_DIR:-<repo>/.cache}/seaweedfs/<version>/bin, keyed by
# version, so a warm run only checks that the file exists. `go install` of the module path does
# not work (its go.mod has a replace directive), so we download the module, copy its source out of
# the read-only module cache and `go build ./weed` inside that copy, where the replace resolves
# as upstream intends. A cold build takes 6–8 min on 2 cores.
set -euo pipefail

SEAWEEDFS_MODULE=github.com/seaweedfs/seaweedfs
SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6

log() { printf 'build-seaweedfs: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${KAB_CACHE_DIR:-$repo_root/.cache}
base_dir=$cache_dir/seaweedfs/$SEAWEEDFS_VERSION
bin_dir=$base_dir/bin
src_dir=$base_dir/src

mkdir -p "$bin_dir"
# Binaries are only ever moved into bin_dir complete, so existence is enough.
if [ -x "$bin_dir/weed" ]; then
	log "cached: weed in $bin_dir"
	echo "$bin_dir"
	exit 0
fi

# Two callers may build at once; serialise on the version directory, then re-check.
exec 9>"$base_dir/.lock"
if ! flock -n 9; then
	log "waiting for another build of SeaweedFS $SEAWEEDFS_VERSION to finish"
	flock 9
fi
if [ -x "$bin_dir/weed" ]; then
	log "built meanwhile by another run: weed"
	echo "$bin_dir"
	exit 0
fi
# Holding the lock, no other build runs: temp dirs here were left by a killed build.
rm -rf "$base_dir"/.build.*

# The module must not be influenced by a go.work of the repo around it.
export GOWORK=off CGO_ENABLED=0

if [ ! -f "$src_dir/.ready" ]; then
	log "downloading $SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION"
	rm -rf "$src_dir" "$src_dir.tmp"
	dl_json=$(cd "$base_dir" && go mod download -json "$SEAWEEDFS_MODULE@$SEAWEEDFS_VERSION")
	mod_src=$(printf '%s\n' "$dl_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$mod_src" ] || die "go mod download did not give $SEAWEEDFS_MODULE's source (got: $dl_json)"
	# The module cache is read-only; the build needs a writable tree of its own.
	cp -r "$mod_src" "$src_dir.tmp"
	chmod -R u+w "$src_dir.tmp"
	mv "$src_dir.tmp" "$src_dir"
	touch "$src_dir/.ready"
fi

tmp_dir=$(mktemp -d "$base_dir/.build.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
log "building weed (a cold build takes 6–8 min on 2 cores)"
start=$(date +%s)
(cd "$src_dir" && GOFLAGS=-mod=mod go build -trimpath -ldflags '-s -w' -o "$tmp_dir/weed" ./weed) >&2
mv -f "$tmp_dir/weed" "$bin_dir/weed"
log "built weed in $(($(date +%s) - start)) s"
echo "$bin_dir"
