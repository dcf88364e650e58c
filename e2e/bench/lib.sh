# shellcheck shell=bash
# Helpers for the benchmarks of `make bench-e2e`: the scenario helpers (kubectl on the e2e
# cluster, bounded waits, namespaces the runner cleans up), the number of samples, the
# kabbench tool, and min/median/max summaries. Benchmarks print; they never judge a timing.

if [[ -n "${KAB_BENCH_LIB_LOADED:-}" ]]; then return 0; fi
KAB_BENCH_LIB_LOADED=1

source "$(dirname "${BASH_SOURCE[0]}")/../scenarios/lib.sh"

BENCH_DIR="$KAB_ROOT/e2e/bench"
# shellcheck disable=SC2034 # used by the benchmark scripts that source this file
BENCH_MANIFESTS="$BENCH_DIR/manifests"
# Samples per variant; BENCH_N=2 is the quick mode that only shows the scripts work.
BENCH_N="${BENCH_N:-20}"
[[ "$BENCH_N" =~ ^[1-9][0-9]*$ ]] || die "BENCH_N must be a positive integer, got '$BENCH_N'"
KABBENCH="$KAB_CACHE_DIR/build/kabbench"
# Scratch files of one benchmark script.
# shellcheck disable=SC2034
BENCH_TMP="$(mktemp -d /tmp/kab-bench.XXXXXX)"

# kabbench_build : the measuring tool (e2e/bench/kabbench) at $KABBENCH, built static so the
# trigger benchmark can copy the same binary into a busybox container.
kabbench_build() {
  if [[ ! -x "$KABBENCH" || -n "$(find "$BENCH_DIR/kabbench" -newer "$KABBENCH" -name '*.go' -print -quit)" ]]; then
    mkdir -p "$(dirname "$KABBENCH")"
    (cd "$KAB_ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o "$KABBENCH" ./e2e/bench/kabbench) || die "building kabbench failed"
  fi
}

# kabbench ARGS...
kabbench() { kabbench_build; "$KABBENCH" "$@"; }

# node_sh SCRIPT : run a shell script in the kind node's container.
node_sh() { docker exec "$KAB_NODE_CONTAINER" sh -c "$1"; }

# now_ns : wall clock in nanoseconds.
now_ns() { date +%s%N; }

# summary LABEL VALUE... : "LABEL: n=N min A median B max C" of numbers (any unit, same for all).
summary() {
  local label="$1"; shift
  printf '%s\n' "$@" | sort -g | awk -v label="$label" '
    { v[NR] = $1 }
    END {
      if (NR == 0) { printf "%s: n=0\n", label; exit }
      m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
      printf "%s: n=%d min %.3f median %.3f max %.3f\n", label, NR, v[1], m, v[NR]
    }'
}

# median VALUE... : the median alone.
median() {
  printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B : A/B to two decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else printf "%.2f", a / b }'; }

# result LINE : a figure for docs/PERFORMANCE.md, easy to find in a long log.
result() { echo "RESULT $*"; }

# machine : what the figures were measured on.
machine() {
  echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo), kernel $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
