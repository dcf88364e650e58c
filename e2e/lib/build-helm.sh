#!/usr/bin/env bash
# Builds the real helm CLI from Go modules, offline except for the Go module proxy.
#
#   e2e/lib/build-helm.sh
#
# Prints the bin dir on stdout; everything else goes to stderr. The binary is cached in
# ${KAB_CACHE_DIR:-<repo>/.cache}/helm/<version>/bin/helm, so a new version builds beside the old.
# deploy/chart_test.go runs it (helm lint, helm template compared with deploy/kab.yaml).
set -euo pipefail

HELM_VERSION=v4.3.2
HELM_MODULE=helm.sh/helm/v4

log() { printf 'build-helm: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${KAB_CACHE_DIR:-$repo_root/.cache}
base_dir=$cache_dir/helm/$HELM_VERSION
bin_dir=$base_dir/bin

[ $# -eq 0 ] || die "usage: $0 (takes no arguments)"
mkdir -p "$bin_dir"

if [ -x "$bin_dir/helm" ]; then
	log "cached: $bin_dir/helm"
	echo "$bin_dir"
	exit 0
fi

# Serialise concurrent callers, then re-check: the other one may have just finished.
exec 9>"$base_dir/.lock"
flock 9
if [ -x "$bin_dir/helm" ]; then
	log "built meanwhile by another run: $bin_dir/helm"
	echo "$bin_dir"
	exit 0
fi

# Holding the lock, no other build runs: temp dirs here were left by a killed build.
rm -rf "$base_dir"/.build.*
tmp_dir=$(mktemp -d "$base_dir/.build.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT

# `go install module@version` builds with helm's own go.mod, outside this repository's module.
# The module zip carries no commit id; stamp the release so `helm version` says what was built.
export GOWORK=off GOFLAGS= CGO_ENABLED=0 GOBIN=$tmp_dir
ldflags="-s -w -X $HELM_MODULE/internal/version.version=$HELM_VERSION"
log "building helm $HELM_VERSION"
start=$(date +%s)
(cd "$tmp_dir" && go install -trimpath -ldflags "$ldflags" "$HELM_MODULE/cmd/helm@$HELM_VERSION") >&2
mv -f "$tmp_dir/helm" "$bin_dir/helm"
log "built helm in $(($(date +%s) - start)) s"
echo "$bin_dir"
