#!/usr/bin/env bash
# Builds Kubernetes components from Go modules, offline except for the Go module proxy.
#
#   e2e/lib/build-k8s.sh <component>...   (kube-apiserver kubectl kubelet kubeadm
#                                          kube-controller-manager kube-scheduler kube-proxy)
#
# Prints the bin dir on stdout; everything else goes to stderr. Binaries are cached in
# ${KAB_CACHE_DIR:-<repo>/.cache}/k8s/<version>/bin, keyed by version, so a warm run only checks
# that the files exist. k8s.io/kubernetes cannot be built with a plain `go install`: its go.mod
# points the staging modules (k8s.io/api, k8s.io/apiserver, ...) at ./staging, so we generate a
# wrapper module that requires it and replaces every staging module with its published version.
set -euo pipefail

K8S_VERSION=v1.37.2
# Staging modules are published as v0.<minor>.<patch> of the same release.
STAGING_VERSION=v0.37.2
KNOWN_COMPONENTS="kube-apiserver kubectl kubelet kubeadm kube-controller-manager kube-scheduler kube-proxy"

log() { printf 'build-k8s: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
source "$(dirname "${BASH_SOURCE[0]}")/wrapper-module.sh"

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache_dir=${KAB_CACHE_DIR:-$repo_root/.cache}
base_dir=$cache_dir/k8s/$K8S_VERSION
bin_dir=$base_dir/bin
mod_dir=$base_dir/module

[ $# -gt 0 ] || die "usage: $0 <component>... (one of: $KNOWN_COMPONENTS)"
for c in "$@"; do
	case " $KNOWN_COMPONENTS " in
	*" $c "*) ;;
	*) die "unknown component '$c' (known: $KNOWN_COMPONENTS)" ;;
	esac
done

mkdir -p "$bin_dir"

# Warm path: nothing to do when every requested binary is already installed. Binaries are only
# ever moved into bin_dir complete, so existence is enough.
missing=()
for c in "$@"; do
	[ -x "$bin_dir/$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ]; then
	log "cached: $* in $bin_dir"
	echo "$bin_dir"
	exit 0
fi

# Two callers (two engineers, or make -j) may build at once; serialise on the version directory
# so they do not race on the wrapper module, then re-check what the other one already built.
exec 9>"$base_dir/.lock"
if ! flock -n 9; then
	log "waiting for another build of Kubernetes $K8S_VERSION to finish"
	flock 9
fi
missing=()
for c in "$@"; do
	[ -x "$bin_dir/$c" ] || missing+=("$c")
done
if [ ${#missing[@]} -eq 0 ]; then
	log "built meanwhile by another run: $*"
	echo "$bin_dir"
	exit 0
fi

# Holding the lock, no other build runs: temp dirs here were left by a killed build.
rm -rf "$base_dir"/.build.*

# The wrapper module must not be influenced by a go.work of the repo around it.
export GOWORK=off GOFLAGS=-mod=mod CGO_ENABLED=0

tools=()
for c in $KNOWN_COMPONENTS; do tools+=("k8s.io/kubernetes/cmd/$c"); done
prepare_wrapper_module "$mod_dir" k8s.io/kubernetes "$K8S_VERSION" ./staging/ "$STAGING_VERSION" "${tools[@]}"
if [ ! -f "$mod_dir/build-date" ]; then
	# The release date makes buildDate reproducible instead of "now".
	sed -n 's/^[[:space:]]*"Info": "\(.*\)",$/\1/p' "$mod_dir/download.json" |
		xargs sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' >"$mod_dir/build-date"
fi

major=${K8S_VERSION#v}
major=${major%%.*}
minor=${K8S_VERSION#v*.}
minor=${minor%%.*}
build_date=$(cat "$mod_dir/build-date")
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
	ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done

# Build into a temporary dir next to bin_dir (same filesystem), then rename each binary: a killed
# build leaves no half-written file under a final name.
tmp_dir=$(mktemp -d "$base_dir/.build.XXXXXX")
trap 'rm -rf "$tmp_dir"' EXIT
pkgs=()
for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
case " ${missing[*]} " in
*" kube-apiserver "*) log "building ${missing[*]} (a cold kube-apiserver takes ~4 min on 2 cores)" ;;
*) log "building ${missing[*]}" ;;
esac
start=$(date +%s)
(cd "$mod_dir" && go build -trimpath -ldflags "$ldflags" -o "$tmp_dir/" "${pkgs[@]}") >&2
for c in "${missing[@]}"; do
	mv -f "$tmp_dir/$c" "$bin_dir/$c"
done
log "built ${missing[*]} in $(($(date +%s) - start)) s"
echo "$bin_dir"
