#!/usr/bin/env bash
# Load run of the admission path over real TLS: starts kab-injector on loopback with a
# throw-away certificate, then drives POST /mutate with wrk (Debian's wrk) for the seed example
# pod (decode, mutate, diff, encode) and for a pod without kab annotations (decode, allow: the
# floor), alternating the two for ROUNDS rounds so both see the same machine. Prints each run's
# throughput and latency percentiles, then min / median / max req/s of each and the ratio of
# the medians, and the injector's RSS; asserts nothing.
#   make build && injector/loadtest/run.sh [seconds] [connections]
#   ROUNDS=5 KAB_INJECTOR=/path/to/kab-injector injector/loadtest/run.sh 10 16
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-15}" conns="${2:-16}" rounds="${ROUNDS:-3}" addr="${ADDR:-127.0.0.1:18443}"
injector="${KAB_INJECTOR:-$root/bin/kab-injector}"
[[ -x "$injector" ]] || injector="$root/bin/linux-$(go env GOARCH)/kab-injector"
[[ -x "$injector" ]] || { echo "no kab-injector binary: run make build, or set KAB_INJECTOR" >&2; exit 1; }
command -v wrk >/dev/null || apt-get install -y -qq wrk >&2

work="$(mktemp -d)"
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
printf 'agentImage: kab-agent:dev\nvolume:\n  hostPath: {path: /var/lib/kab}\n' >"$work/config.yaml"

"$injector" --listen "$addr" --tls-cert-file "$work/cert.pem" --tls-key-file "$work/key.pem" \
  --config "$work/config.yaml" --log-format json >"$work/injector.log" 2>&1 &
pid=$!
for _ in $(seq 50); do curl -skf "https://$addr/healthz" >/dev/null && break; sleep 0.1; done
# Both bodies must get the answer they are measured for: a patch, and a plain allow.
for body in seed-review.json plain-review.json; do
  curl -sk -H 'Content-Type: application/json' --data-binary "@$here/$body" "https://$addr/mutate" >"$work/$body.answer"
done
grep -q '"patch"' "$work/seed-review.json.answer" || { echo "seed pod was not patched:" >&2; cat "$work/seed-review.json.answer" >&2; exit 1; }
grep -q '"allowed":true' "$work/plain-review.json.answer" && ! grep -q '"patch"' "$work/plain-review.json.answer" ||
  { echo "plain pod was not a plain allow:" >&2; cat "$work/plain-review.json.answer" >&2; exit 1; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
  for body in seed-review.json plain-review.json; do
    echo "== round $round: POST /mutate with $body, $conns connections, ${secs}s"
    BODY="$here/$body" wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/post.lua" "https://$addr/mutate" |
      tee "$work/wrk.out" | grep -E 'Requests/sec|Latency|50%|90%|99%|Non-2xx|errors'
    awk '/Requests\/sec/ {print $2}' "$work/wrk.out" >>"$work/$body.rps"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

summary() { sort -n "$work/$1.rps" | awk '{v[NR]=$1} END {m = NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2; printf "%.0f %.0f %.0f %d\n", v[1], m, v[NR], NR}'; }
read -r smin smed smax n < <(summary seed-review.json)
read -r pmin pmed pmax _ < <(summary plain-review.json)
echo "RESULT req/s over TLS, n=$n each: seed (decode, mutate, diff, encode) min/median/max $smin / $smed / $smax;" \
  "plain (decode, allow) $pmin / $pmed / $pmax; seed/plain medians $(awk -v a="$smed" -v b="$pmed" 'BEGIN {printf "%.0f %%", 100*a/b}')"
echo "injector RSS after the run: $(($(ps -o rss= -p "$pid") / 1024)) MiB"
