# shellcheck shell=bash
# Docker Engine for the e2e scripts: use the one that answers, or start Debian's docker.io
# (containerd + dockerd) when none does, as on CI where every daemon of the previous session
# was killed. Source after common.sh.
#
# Ownership: a daemon kab starts is recorded in $KAB_DOCKER_STATE; `kind-down` stops only what
# that file names, and a failing script stops only what it started itself in this invocation
# (KAB_DOCKER_STARTED_NOW=1). A daemon kab did not start is only ever used, never touched.

KAB_DOCKER_STATE="${KAB_DOCKER_STATE:-$KAB_CACHE_DIR/docker-daemon}"
KAB_DOCKER_STARTED_NOW=0
DOCKER_PIDFILE=/var/run/docker.pid
DOCKER_SOCK=/var/run/docker.sock
CONTAINERD_SOCK=/run/containerd/containerd.sock
KAB_RUNTIME_NAME=kab-runc

docker_answers() { timeout 10 docker version --format '{{.Server.Version}}' >/dev/null 2>&1; }

containerd_answers() { timeout 5 ctr --address "$CONTAINERD_SOCK" version >/dev/null 2>&1; }

# pid_is PIDFILE NAME : the pid file names a live process called NAME.
pid_is() {
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]]
}

# The bounding set of this machine lacks CAP_SYS_RESOURCE (capability 24).
lacks_sys_resource() {
  local bnd
  bnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
  (( ((16#$bnd) >> 24 & 1) == 0 ))
}

# Installs the runtime wrapper (outside the work tree's scripts, so a running daemon never
# depends on files someone edits) and prints the dockerd flags that register it.
runtime_wrapper_flags() {
  lacks_sys_resource || return 0
  local runc wrapper="$KAB_DOCKER_STATE/runc-no-sys-resource"
  apt_ensure jq jq
  runc="$(command -v runc)" || die "runc not found (Debian package runc)"
  sed "s#@RUNC@#$runc#" "$KAB_ROOT/e2e/kind/runc-wrapper.sh" >"$wrapper.tmp"
  chmod 755 "$wrapper.tmp" && mv -f "$wrapper.tmp" "$wrapper"
  echo "--add-runtime=$KAB_RUNTIME_NAME=$wrapper --default-runtime=$KAB_RUNTIME_NAME"
}

wait_for() { # SECONDS WHAT CMD... : poll CMD once a second
  local secs="$1" what="$2" i; shift 2
  for ((i = 0; i < secs; i++)); do "$@" && return 0; sleep 1; done
  warn "$what did not answer within ${secs}s"
  return 1
}

docker_ensure() {
  if docker_answers; then
    if lacks_sys_resource && [[ "$(docker info -f '{{.DefaultRuntime}}' 2>/dev/null)" != "$KAB_RUNTIME_NAME" ]]; then
      warn "this machine lacks CAP_SYS_RESOURCE and the running Docker daemon (not started by kab) has no wrapper runtime: privileged containers (kind nodes) may fail"
    fi
    return 0
  fi
  if [[ -n "${DOCKER_HOST:-}" && "$DOCKER_HOST" != "unix://$DOCKER_SOCK" ]]; then
    die "DOCKER_HOST=$DOCKER_HOST does not answer; kab only starts a local daemon on $DOCKER_SOCK"
  fi
  apt_ensure dockerd docker.io
  command -v docker >/dev/null || apt_ensure docker docker.io
  mkdir -p "$KAB_DOCKER_STATE"

  # A live dockerd that does not answer may still be starting; never start a second one next
  # to it (a second daemon would fight over /var/lib/docker, iptables and docker0).
  if pid_is "$DOCKER_PIDFILE" dockerd; then
    log "dockerd (pid $(cat "$DOCKER_PIDFILE")) is running but not answering yet; waiting"
    wait_for 60 dockerd docker_answers && return 0
    die "dockerd pid $(cat "$DOCKER_PIDFILE") does not answer; stop it or fix it, kab will not start a second daemon"
  fi
  # What a killed daemon leaves behind: its pid file and socket (CI kills the session's
  # daemons before it runs, so this is the normal case there).
  rm -f "$DOCKER_PIDFILE" "$DOCKER_SOCK"

  local containerd_pid="" flags
  if containerd_answers; then
    log "using the containerd that answers on $CONTAINERD_SOCK"
  else
    rm -f "$CONTAINERD_SOCK"
    log "starting containerd (log: $KAB_DOCKER_STATE/containerd.log)"
    start_daemon "$KAB_DOCKER_STATE/containerd.log" containerd
    containerd_pid=$!
    echo "$containerd_pid" >"$KAB_DOCKER_STATE/containerd.pid"
    KAB_DOCKER_STARTED_NOW=1
    wait_for 30 containerd containerd_answers || { docker_stop_if_started_now; die "containerd did not start; see $KAB_DOCKER_STATE/containerd.log"; }
  fi

  flags="$(runtime_wrapper_flags)"
  log "starting dockerd ${flags:+with $flags }(log: $KAB_DOCKER_STATE/dockerd.log)"
  # shellcheck disable=SC2086 # flags are words
  start_daemon "$KAB_DOCKER_STATE/dockerd.log" dockerd --containerd="$CONTAINERD_SOCK" --pidfile="$DOCKER_PIDFILE" $flags
  echo $! >"$KAB_DOCKER_STATE/dockerd.pid"
  KAB_DOCKER_STARTED_NOW=1
  wait_for 60 dockerd docker_answers || { docker_stop_if_started_now; die "dockerd did not start; see $KAB_DOCKER_STATE/dockerd.log"; }
  # dockerd's own pid file is authoritative (setsid may have forked).
  cp "$DOCKER_PIDFILE" "$KAB_DOCKER_STATE/dockerd.pid"
  log "Docker $(docker version --format '{{.Server.Version}}') is up (started by kab; 'make kind-down' stops it)"
}

# start_daemon LOG CMD... : starts a long-lived daemon in its own session, in the background, with
# only stdin/stdout/stderr open. Every other descriptor is closed first: a daemon that inherits
# one keeps it for its whole life, so `flock e2e.lock make e2e` would stay locked (and a caller's
# pipe stay open) until the daemon exits. $! is the daemon's pid (setsid does not fork here, as
# a background subshell is no process-group leader).
start_daemon() {
  local log=$1 fd
  shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then eval "exec ${fd}>&-" 2>/dev/null || true; fi
    done
    exec setsid "$@" >>"$log" 2>&1 </dev/null
  ) &
}

# stop_pidfile PIDFILE NAME : TERM, wait, then KILL the process the file names, if it is NAME.
stop_pidfile() {
  local file="$1" name="$2" pid i
  if pid_is "$file" "$name"; then
    pid="$(cat "$file")"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 45; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && { warn "$name did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
}

# Stops the daemons named in the state file: only ever ones kab started.
docker_stop_if_ours() {
  [[ -f "$KAB_DOCKER_STATE/dockerd.pid" || -f "$KAB_DOCKER_STATE/containerd.pid" ]] || return 0
  stop_pidfile "$KAB_DOCKER_STATE/dockerd.pid" dockerd
  stop_pidfile "$KAB_DOCKER_STATE/containerd.pid" containerd
  KAB_DOCKER_STARTED_NOW=0
}

# For failure paths: stop the daemons only if this invocation started them.
docker_stop_if_started_now() {
  [[ "$KAB_DOCKER_STARTED_NOW" == 1 ]] || return 0
  docker_stop_if_ours
}

# docker_build ARGS... : `docker build` with the classic builder (no buildx plugin needed, works
# with Debian's Docker 20.10) that stays quiet unless it fails.
docker_build() {
  local out
  out="$(mktemp)"
  if ! DOCKER_BUILDKIT=0 docker build -q "$@" >"$out" 2>&1; then
    cat "$out" >&2; rm -f "$out"
    return 1
  fi
  rm -f "$out"
}
