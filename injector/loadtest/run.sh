#!/usr/bin/env bash
# Load run of the admission path over real TLS: starts bin/kab-injector on loopback with a
# throw-away certificate, then drives POST /mutate with wrk (Debian's wrk) for the seed example
# pod (decode, mutate, diff, encode) and for a pod without kab annotations (decode, allow).
# Reports throughput, latency percentiles and the injector's RSS; asserts nothing.
#   make build && injector/loadtest/run.sh [seconds] [connections]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
secs="${1:-15}" conns="${2:-16}" addr=127.0.0.1:18443
injector="$root/bin/kab-injector"
[[ -x "$injector" ]] || injector="$root/bin/linux-$(go env GOARCH)/kab-injector"
[[ -x "$injector" ]] || { echo "no kab-injector binary: run make build" >&2; exit 1; }
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

for body in seed-review.json plain-review.json; do
  echo "== POST /mutate with $body, $conns connections, ${secs}s"
  BODY="$here/$body" wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/post.lua" "https://$addr/mutate" |
    grep -E 'Requests/sec|Latency|50%|90%|99%'
done
echo "injector RSS after the run: $(($(ps -o rss= -p "$pid") / 1024)) MiB"
