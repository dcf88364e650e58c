#!/usr/bin/env bash
# Assembles the offline kind node image (kind's own `build node-image` fetches images from a
# registry, so it cannot work here):
#   1. binaries: Kubernetes and etcd (e2e/lib/build-k8s.sh, build-etcd.sh), containerd, crictl,
#      CoreDNS and pause (build-tools.sh);
#   2. Debian root filesystems (rootfs.sh): "node" for the node, "slim" for kube-proxy;
#   3. component images tagged exactly as `kubeadm config images list` names them;
#   4. the base image (node/Dockerfile), then a container from it running only containerd,
#      into which the component images are imported, committed as the node image.
# The tag is keyed by versions and a hash of every input file, so Docker's image store is the
# cache and a warm run returns at once. Prints the node image tag on stdout.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
source "$KAB_ROOT/e2e/lib/docker.sh"

here="$KAB_ROOT/e2e/kind"
K8S_COMPONENTS=(kubelet kubeadm kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy)
NODE_PACKAGES=(systemd systemd-sysv dbus runc containernetworking-plugins iptables conntrack
  iproute2 procps kmod mount util-linux ca-certificates)
SLIM_PACKAGES=(iptables conntrack)

key="$(hash_str "$KAB_K8S_VERSION" "${NODE_PACKAGES[*]}" "${SLIM_PACKAGES[*]}" \
  "$(hash_inputs "$here/node" "$here/pause" "${BASH_SOURCE[0]}" "$here/build-tools.sh" "$here/rootfs.sh" \
     "$KAB_ROOT/e2e/lib/build-k8s.sh" "$KAB_ROOT/e2e/lib/build-etcd.sh" "$KAB_ROOT/e2e/lib/wrapper-module.sh")")"
tag="kab-e2e/node:$KAB_K8S_VERSION-$key"

docker_ensure
if docker image inspect "$tag" >/dev/null 2>&1; then
  log "cached: $tag"
  echo "$tag"; exit 0
fi

mkdir -p "$KAB_CACHE_DIR"
exec 8>"$KAB_CACHE_DIR/.node-image.lock"
flock 8
if docker image inspect "$tag" >/dev/null 2>&1; then echo "$tag"; exit 0; fi

start=$SECONDS
build_dir="$KAB_CACHE_DIR/build/node-$key"
builder="kab-e2e-node-build-$key"
component_images=()
cleanup() {
  docker rm -f "$builder" >/dev/null 2>&1 || true
  [[ ${#component_images[@]} -eq 0 ]] || docker rmi "${component_images[@]}" >/dev/null 2>&1 || true
  docker rmi "kab-e2e/node-base:$key" >/dev/null 2>&1 || true
  rm -rf "$build_dir"
}
trap cleanup EXIT

# --- 1. binaries (each script caches by version) -------------------------------------------
log "step 1/4: binaries"
k8s_bin="$("$KAB_ROOT/e2e/lib/build-k8s.sh" "${K8S_COMPONENTS[@]}")"
etcd_bin="$("$KAB_ROOT/e2e/lib/build-etcd.sh")"
tools_out="$("$here/build-tools.sh" containerd crictl coredns pause)"
declare -A tool
while IFS='=' read -r name dir; do tool[$name]="$dir"; done <<<"$tools_out"

# --- 2. root filesystems -----------------------------------------------------------------
log "step 2/4: Debian root filesystems"
node_rootfs="$("$here/rootfs.sh" node "${NODE_PACKAGES[@]}")"
slim_rootfs="$("$here/rootfs.sh" slim "${SLIM_PACKAGES[@]}")"

# --- 3. component images, named as kubeadm expects them -----------------------------------
log "step 3/4: component images"
rm -rf "$build_dir" && mkdir -p "$build_dir"
images_out="$("$k8s_bin/kubeadm" config images list --kubernetes-version "$KAB_K8S_VERSION" 2>/dev/null)" \
  || die "kubeadm config images list failed"
mapfile -t wanted <<<"$images_out"
[[ ${#wanted[@]} -ge 7 ]] || die "kubeadm config images list gave: ${wanted[*]:-nothing}"

# scratch_image NAME BINARY [ENTRYPOINT] : a FROM-scratch image with one static binary.
scratch_image() {
  local name="$1" bin="$2" entry="${3:-}" ctx
  ctx="$build_dir/img-${bin##*/}"
  mkdir -p "$ctx/tmp" && chmod 1777 "$ctx/tmp"
  cp -l "$bin" "$ctx/" 2>/dev/null || cp "$bin" "$ctx/"
  {
    echo "FROM scratch"
    echo "COPY tmp /tmp"
    echo "COPY ${bin##*/} /usr/local/bin/${bin##*/}"
    echo "ENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    [[ -z "$entry" ]] || echo "ENTRYPOINT [\"/usr/local/bin/${bin##*/}\"]"
  } >"$ctx/Dockerfile"
  docker_build -t "$name" "$ctx"
}

pause_image=""
for image in "${wanted[@]}"; do
  base="${image##*/}"; base="${base%%:*}"
  case "$base" in
    kube-apiserver|kube-controller-manager|kube-scheduler) scratch_image "$image" "$k8s_bin/$base" ;;
    etcd) scratch_image "$image" "$etcd_bin/etcd" ;;
    coredns) scratch_image "$image" "${tool[coredns]}/coredns" entrypoint ;;
    pause) scratch_image "$image" "${tool[pause]}/pause" entrypoint; pause_image="$image" ;;
    kube-proxy)
      # kube-proxy programs iptables, so it needs the tools and libraries of a distribution.
      ctx="$build_dir/img-kube-proxy"; mkdir -p "$ctx"
      cp -l "$k8s_bin/kube-proxy" "$ctx/" 2>/dev/null || cp "$k8s_bin/kube-proxy" "$ctx/"
      printf 'FROM %s\nCOPY kube-proxy /usr/local/bin/kube-proxy\n' "$slim_rootfs" >"$ctx/Dockerfile"
      docker_build -t "$image" "$ctx" ;;
    *) die "kubeadm wants an image this script does not know how to build: $image" ;;
  esac
  component_images+=("$image")
  log "  $image"
done
[[ -n "$pause_image" ]] || die "kubeadm names no pause image"

# --- 4. node image ---------------------------------------------------------------------------
log "step 4/4: node image"
ctx="$build_dir/node"
cp -r "$here/node" "$ctx"
mkdir -p "$ctx/bin" "$ctx/kube"
for b in containerd containerd-shim-runc-v2 ctr; do cp -l "${tool[containerd]}/$b" "$ctx/bin/" 2>/dev/null || cp "${tool[containerd]}/$b" "$ctx/bin/"; done
cp "${tool[crictl]}/crictl" "$ctx/bin/"
for b in kubelet kubeadm kubectl; do cp -l "$k8s_bin/$b" "$ctx/kube/" 2>/dev/null || cp "$k8s_bin/$b" "$ctx/kube/"; done
echo "$KAB_K8S_VERSION" >"$ctx/version"
sed -i "s#@PAUSE_IMAGE@#$pause_image#" "$ctx/containerd-config.toml"
docker_build --build-arg ROOTFS="$node_rootfs" -t "kab-e2e/node-base:$key" "$ctx"

# Import the component images into the node's containerd. Only the content store is needed
# (--no-unpack: the CRI plugin unpacks on first use, on the node's /var volume); the
# "pinned" label keeps the kubelet's image GC away from them.
docker rm -f "$builder" >/dev/null 2>&1 || true
docker run -d --privileged --name "$builder" --entrypoint /usr/local/bin/containerd "kab-e2e/node-base:$key" >/dev/null
# ctr warns about cgroup v1 on every call; keep the log readable.
node_ctr() { docker exec -i "$builder" ctr --namespace=k8s.io "$@" 2> >(grep -v 'DEPRECATION' >&2); }
wait_for 30 "containerd in $builder" node_ctr version >/dev/null \
  || { docker logs "$builder" >&2; die "containerd did not start in the build container"; }
docker save "${component_images[@]}" \
  | node_ctr images import --all-platforms --no-unpack --digests --label=io.cri-containerd.pinned=pinned - >/dev/null
imported="$(node_ctr images list -q)"
for image in "${component_images[@]}"; do
  grep -qxF "$image" <<<"$imported" || die "image $image missing in the node's containerd after import"
done
docker stop -t 30 "$builder" >/dev/null
docker commit \
  --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
  --change "LABEL io.kab.e2e.node-key=$key" \
  "$builder" "$tag" >/dev/null
# Older node images (other inputs) only take disk; one still used by a container stays.
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' kab-e2e/node); do
  [[ "$old" == "$tag" ]] || docker rmi "$old" >/dev/null 2>&1 || true
done
log "built $tag in $((SECONDS - start))s"
echo "$tag"
