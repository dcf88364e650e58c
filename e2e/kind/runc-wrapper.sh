#!/bin/bash
# OCI runtime wrapper for Docker on machines whose capability bounding set lacks
# CAP_SYS_RESOURCE (some VMs and sandboxes). Docker asks for every capability for
# `--privileged` containers and `exec --privileged`, and kind always uses them; runc then
# fails with "unable to apply caps: operation not permitted". This wrapper removes
# CAP_SYS_RESOURCE from the OCI spec (create/run) or the process spec (exec) and runs runc.
# e2e/lib/docker.sh installs it with @RUNC@ replaced by the real runc's path and registers
# it with `dockerd --add-runtime ... --default-runtime ...`.
set -euo pipefail

runc='@RUNC@'
drop='map(select(. != "CAP_SYS_RESOURCE"))'

strip_caps() { # FILE JQ-PATH
  local file="$1" path="$2" tmp
  [[ -f "$file" ]] || return 0
  tmp="$(mktemp "$file.XXXXXX")"
  jq -c "if $path.capabilities then $path.capabilities |= with_entries(.value |= (. // [] | $drop)) else . end" \
    "$file" >"$tmp"
  mv -f "$tmp" "$file"
}

cmd="" bundle="" process=""
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  a="${args[i]}"
  case "$a" in
    create|run|exec) [[ -z "$cmd" ]] && cmd="$a" ;;
    --bundle|-b) bundle="${args[i+1]:-}" ;;
    --bundle=*) bundle="${a#--bundle=}" ;;
    --process|-p) process="${args[i+1]:-}" ;;
    --process=*) process="${a#--process=}" ;;
  esac
done

case "$cmd" in
  create|run) strip_caps "${bundle:-$PWD}/config.json" ".process" ;;
  exec) [[ -n "$process" ]] && strip_caps "$process" "" ;;
esac
exec "$runc" "$@"
