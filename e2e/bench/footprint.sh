#!/usr/bin/env bash
# Footprint: the idle agent's RSS and CPU with 1, 10 and 100 kab pods on the node (read from
# /proc in the kind node over a window, CPU extrapolated to an hour); then, on a quiet node, the
# cost of admission: the same Deployment shape with and without kab annotations scaled up in
# alternating bursts until CREATED pods of each were created, the API server's own latency for
# those pod creations (POST pods, webhook included) and its webhook histogram for kab's, and
# the injector's RSS meanwhile. The burst pods carry a scheduling gate, so they are created —
# admission, what is measured, happens — but never scheduled: the node stays quiet.
# BENCH_N=2 (quick mode) uses 1 and 2 pods, 4 created, and a 20 s window; otherwise
# FOOTPRINT_PODS ("1 10 100"; "" skips the idle part), FOOTPRINT_CREATED (200),
# FOOTPRINT_BURST (50) and FOOTPRINT_WINDOW (180 s) set them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-footprint
if ((BENCH_N <= 2)); then
  counts=(1 2); created=4; burst=2; window=20
else
  read -r -a counts <<<"${FOOTPRINT_PODS-1 10 100}"
  created="${FOOTPRINT_CREATED:-200}"; burst="${FOOTPRINT_BURST:-50}"; window="${FOOTPRINT_WINDOW:-180}"
fi
[[ "$created" =~ ^[1-9][0-9]*$ && "$burst" =~ ^[1-9][0-9]*$ ]] \
  || die "FOOTPRINT_CREATED='$created' and FOOTPRINT_BURST='$burst' must be positive integers"

# procs_of COMM : "pid rss_kib cpu_ticks" of every process named COMM in the node.
procs_of() {
  node_sh "for d in /proc/[0-9]*; do
    [ \"\$(cat \$d/comm 2>/dev/null)\" = '$1' ] || continue
    rss=\$(awk '/^VmRSS/ {print \$2}' \$d/status 2>/dev/null)
    cpu=\$(awk '{ sub(/^.*\\) /, \"\"); print \$12 + \$13 }' \$d/stat 2>/dev/null)
    [ -n \"\$rss\" ] && echo \"\${d#/proc/} \$rss \$cpu\"
  done; true"
}

# hist METRICS NAME FILTER... : one histogram of an API server /metrics dump, summed over the
# series whose labels contain every FILTER (e.g. 'verb="POST"'): cumulative "le count" lines,
# sorted, then "sum SECONDS".
hist() {
  local file="$1" name="$2"; shift 2
  awk -v name="$name" -v filters="$*" '
    BEGIN { nf = split(filters, f, " ") }
    index($0, name "_bucket{") == 1 || index($0, name "_sum{") == 1 {
      for (i = 1; i <= nf; i++) if (index($0, f[i]) == 0) next
      if (index($0, name "_sum{") == 1) { sum += $NF; next }
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); c[le] += $NF
    }
    END { for (le in c) print le, c[le] | "sort -g"; close("sort -g"); printf "sum %.6f\n", sum }' "$file"
}

# hist_add ACC BEFORE AFTER : ACC += AFTER - BEFORE, line by line (ACC may be empty).
hist_add() {
  awk 'FILENAME == ARGV[1] { acc[$1] = $2; next }
       FILENAME == ARGV[2] { before[$1] = $2; next }
       { printf "%s %.6f\n", $1, acc[$1] + $2 - before[$1] }' "$1" "$2" "$3" >"$1.new"
  mv "$1.new" "$1"
}

# count HIST : observations in a histogram. mean_ms HIST : their mean in ms.
count() { awk '$1 == "+Inf" { printf "%d", $2 }' "$1"; }
mean_ms() { awk '$1 == "+Inf" { n = $2 } $1 == "sum" { s = $2 } END { if (n > 0) printf "%.1f", 1000 * s / n; else print "n/a" }' "$1"; }

# quantile_ms Q HIST : histogram_quantile, interpolated inside the buckets as Prometheus does, in ms.
quantile_ms() {
  awk -v q="$1" '$1 != "sum" { le[++n] = $1; c[n] = $2 }
    END {
      total = c[n]; if (total <= 0) { print "n/a"; exit }
      prevle = 0; prevc = 0
      for (i = 1; i <= n; i++) {
        if (c[i] >= q * total) {
          if (le[i] == "+Inf") { printf ">%d", 1000 * prevle; exit }
          printf "%.1f", 1000 * (prevle + (le[i] - prevle) * (q * total - prevc) / (c[i] - prevc)); exit
        }
        prevle = le[i]; prevc = c[i]
      }
    }' "$2"
}

ready_count() { k -n "$ns" get deployment idle -o jsonpath='{.status.readyReplicas}'; }
has_ready() { [[ "$(ready_count)" -ge "$1" ]]; }

new_namespace "$ns"
k -n "$ns" apply -f "$BENCH_MANIFESTS/idle-deployment.yaml" >/dev/null
injector_idle="$(procs_of kab-injector | awk '{ printf "%s%.1f", sep, $2 / 1024; sep = ", " }')"
result "footprint injector RSS idle (MiB, per replica): $injector_idle"

for c in "${counts[@]}"; do
  k -n "$ns" scale deployment idle --replicas="$c" >/dev/null
  wait_until 900 "$c idle kab pods Ready" has_ready "$c"
  sleep 10 # let the new agents finish starting before the window opens
  procs_of kab-agent >"$BENCH_TMP/t0"
  sleep "$window"
  procs_of kab-agent >"$BENCH_TMP/t1"
  # Per agent alive in both snapshots: RSS at the end, CPU ticks (USER_HZ) over the window.
  hz="$(node_sh 'getconf CLK_TCK')"
  join <(sort "$BENCH_TMP/t0") <(sort "$BENCH_TMP/t1") >"$BENCH_TMP/joined"
  mapfile -t rss < <(awk '{ printf "%.1f\n", $4 / 1024 }' "$BENCH_TMP/joined")
  mapfile -t cpu < <(awk -v hz="$hz" -v w="$window" '{ printf "%.1f\n", ($5 - $3) / hz * 3600 / w }' "$BENCH_TMP/joined")
  result "footprint with $c kab pods ($(wc -l <"$BENCH_TMP/joined") agents on the node, ${window}s window):"
  result "  $(summary "agent RSS (MiB)" "${rss[@]}")"
  result "  $(summary "agent CPU per idle hour (s, extrapolated from ${window}s)" "${cpu[@]}")"
done

# Admission on a quiet node: the idle pods go first (an earlier version measured while 100 of
# them were still settling, and saw the saturated node, not admission).
k -n "$ns" scale deployment idle --replicas=0 >/dev/null
no_pods() { [[ -z "$(k -n "$ns" get pods -o name)" ]]; }
wait_until 600 "the idle kab pods gone" no_pods
log "admission: $created kab and $created plain pods in bursts of $burst, alternating; $(machine)"
touch "$BENCH_TMP/kab-create" "$BENCH_TMP/plain-create" "$BENCH_TMP/kab-webhook"
peak="$BENCH_TMP/injector-peak"
: >"$peak"
( while :; do procs_of kab-injector >>"$peak" || true; sleep 1; done ) &
sampler=$!
pods_of() { k -n "$ns" get pods -l "app=kab-bench-$1" -o name | wc -l; }
has_pods() { (($(pods_of "$1") >= $2)); }
no_pods_of() { (($(pods_of "$1") == 0)); }
for ((done_ = 0; done_ < created; done_ += burst)); do
  n=$((created - done_ < burst ? created - done_ : burst))
  for v in kab plain; do
    k get --raw /metrics >"$BENCH_TMP/m0"
    k -n "$ns" scale deployment "burst-$v" --replicas="$n" >/dev/null
    wait_until 300 "$n burst-$v pods created" has_pods "burst-$v" "$n"
    k get --raw /metrics >"$BENCH_TMP/m1"
    # What is measured must have happened: kab's pods injected, the plain ones not.
    injected="$(k -n "$ns" get pods -l "app=kab-bench-burst-$v" -o json \
      | jq '[.items[] | select(.metadata.annotations["kab.boa.nu/status"] == "injected")] | length')"
    [[ "$injected" == "$([[ $v == kab ]] && echo "$n" || echo 0)" ]] || die "$injected of $n burst-$v pods injected"
    for m in 0 1; do hist "$BENCH_TMP/m$m" apiserver_request_duration_seconds 'verb="POST"' 'resource="pods"' 'subresource=""' >"$BENCH_TMP/c$m"; done
    hist_add "$BENCH_TMP/$v-create" "$BENCH_TMP/c0" "$BENCH_TMP/c1"
    if [[ $v == kab ]]; then
      for m in 0 1; do hist "$BENCH_TMP/m$m" apiserver_admission_webhook_admission_duration_seconds 'name="inject.kab.boa.nu"' 'operation="CREATE"' >"$BENCH_TMP/w$m"; done
      hist_add "$BENCH_TMP/kab-webhook" "$BENCH_TMP/w0" "$BENCH_TMP/w1"
    fi
    k -n "$ns" scale deployment "burst-$v" --replicas=0 >/dev/null
    wait_until 300 "the burst-$v pods gone" no_pods_of "burst-$v"
  done
done
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
result "footprint injector RSS peak while $created kab pods were created (MiB, max of any replica): $(awk 'max < $2 { max = $2 } END { printf "%.1f", max / 1024 }' "$peak")"
for v in kab plain; do
  h="$BENCH_TMP/$v-create"
  result "footprint pod creation (POST pods) as the API server timed it, $v: $(count "$h") creations: mean $(mean_ms "$h") ms, p50 $(quantile_ms 0.5 "$h") ms, p99 $(quantile_ms 0.99 "$h") ms"
done
result "footprint pod creation kab / plain: mean $(ratio "$(mean_ms "$BENCH_TMP/kab-create")" "$(mean_ms "$BENCH_TMP/plain-create")")×, p50 $(ratio "$(quantile_ms 0.5 "$BENCH_TMP/kab-create")" "$(quantile_ms 0.5 "$BENCH_TMP/plain-create")")×, p99 $(ratio "$(quantile_ms 0.99 "$BENCH_TMP/kab-create")" "$(quantile_ms 0.99 "$BENCH_TMP/plain-create")")×"
# A pod can be sent to the webhook twice (reinvocationPolicy IfNeeded), so calls ≥ pods.
h="$BENCH_TMP/kab-webhook"
result "footprint kab webhook as the API server timed it: $(count "$h") calls for $created pods: mean $(mean_ms "$h") ms, p50 $(quantile_ms 0.5 "$h") ms, p99 $(quantile_ms 0.99 "$h") ms"
delete_namespace "$ns"
