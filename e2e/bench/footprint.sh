#!/usr/bin/env bash
# Footprint: the idle agent's RSS and CPU with 1, 10 and 100 kab pods on the node (read from
# /proc in the kind node over a window, CPU extrapolated to an hour), and the injector's RSS
# and the API server's admission-webhook latency (its own histogram) while 200 kab pods are
# created. BENCH_N=2 (quick mode) uses 1 and 2 pods, 4 created, and a 20 s window; otherwise
# FOOTPRINT_PODS ("1 10 100"), FOOTPRINT_CREATED (200) and FOOTPRINT_WINDOW (180 s) set them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ns=kab-bench-footprint
if ((BENCH_N <= 2)); then
  counts=(1 2); created=4; window=20
else
  read -r -a counts <<<"${FOOTPRINT_PODS:-1 10 100}"; created="${FOOTPRINT_CREATED:-200}"; window="${FOOTPRINT_WINDOW:-180}"
fi

# procs_of COMM : "pid rss_kib cpu_ticks" of every process named COMM in the node.
procs_of() {
  node_sh "for d in /proc/[0-9]*; do
    [ \"\$(cat \$d/comm 2>/dev/null)\" = '$1' ] || continue
    rss=\$(awk '/^VmRSS/ {print \$2}' \$d/status 2>/dev/null)
    cpu=\$(awk '{ sub(/^.*\\) /, \"\"); print \$12 + \$13 }' \$d/stat 2>/dev/null)
    [ -n \"\$rss\" ] && echo \"\${d#/proc/} \$rss \$cpu\"
  done; true"
}

# webhook_buckets : cumulative buckets of the API server's kab webhook admission latency, as
# "le count" lines.
webhook_buckets() {
  k get --raw /metrics | awk '
    /^apiserver_admission_webhook_admission_duration_seconds_bucket/ && /name="inject.kab.boa.nu"/ && /operation="CREATE"/ {
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); sum[le] += $NF
    }
    END { for (le in sum) print le, sum[le] }' | sort -g
}

# quantile Q BEFORE AFTER : histogram_quantile over the difference of two bucket snapshots.
quantile() {
  awk -v q="$1" 'FNR == NR { before[$1] = $2; next } { le[++n] = $1; c[n] = $2 - before[$1] }
    END {
      total = c[n]; if (total <= 0) { print "n/a"; exit }
      prevle = 0; prevc = 0
      for (i = 1; i <= n; i++) {
        if (c[i] >= q * total) {
          if (le[i] == "+Inf") { printf ">%s s\n", prevle; exit }
          printf "%.1f ms\n", 1000 * (prevle + (le[i] - prevle) * (q * total - prevc) / (c[i] - prevc)); exit
        }
        prevle = le[i]; prevc = c[i]
      }
    }' "$2" "$3"
}

ready_count() { k -n "$ns" get deployment idle -o jsonpath='{.status.readyReplicas}'; }
has_ready() { [[ "$(ready_count)" -ge "$1" ]]; }

new_namespace "$ns"
k -n "$ns" apply -f "$BENCH_MANIFESTS/idle-deployment.yaml" >/dev/null
webhook_buckets >"$BENCH_TMP/before"
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

# The injector while the rest of the kab pods up to $created are created (pods beyond what the
# node holds stay Pending: admission, which is what is measured here, has happened).
peak="$BENCH_TMP/injector-peak"
: >"$peak"
( while :; do procs_of kab-injector >>"$peak" || true; sleep 1; done ) &
sampler=$!
k -n "$ns" scale deployment idle --replicas="$created" >/dev/null
created_all() { [[ "$(k -n "$ns" get pods -o name | wc -l)" -ge "$created" ]]; }
wait_until 900 "$created kab pods created" created_all
sleep 3
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
webhook_buckets >"$BENCH_TMP/after"
total="$(awk 'FNR == NR { b[$1] = $2; next } $1 == "+Inf" { print $2 - b[$1] }' "$BENCH_TMP/before" "$BENCH_TMP/after")"
result "footprint injector RSS peak while $created kab pods were created (MiB, max of any replica): $(awk 'max < $2 { max = $2 } END { printf "%.1f", max / 1024 }' "$peak")"
# A pod can be sent to the webhook twice (reinvocationPolicy IfNeeded), so calls ≥ pods.
result "footprint admission webhook latency seen by the API server, ${total:-0} webhook calls for $created pods: p50 $(quantile 0.5 "$BENCH_TMP/before" "$BENCH_TMP/after"), p99 $(quantile 0.99 "$BENCH_TMP/before" "$BENCH_TMP/after")"
k -n "$ns" scale deployment idle --replicas=0 >/dev/null
delete_namespace "$ns"
