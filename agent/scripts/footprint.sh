#!/bin/sh
# Measures kab-agent's footprint: binary size, idle RSS and CPU per idle minute, with an "app"
# process carrying the marker (so the agent has found its target and waits on its pidfd, as in
# a pod). Run as root from the repository root:  sh agent/scripts/footprint.sh [seconds]
set -eu
secs=${1:-60}
work=$(mktemp -d)
trap 'kill $agent $app 2>/dev/null || true; rm -rf "$work"' EXIT

CGO_ENABLED=0 go build -tags nethttpomithttp2 -trimpath -ldflags='-s -w' -o "$work/kab-agent" ./agent/cmd/kab-agent
echo "binary_bytes $(stat -c %s "$work/kab-agent")"

mkdir "$work/backup"
env -i KAB_CONTAINER=app sleep 100000 &
app=$!
env -i KAB_CONTAINER=app KAB_BACKUP_EXEC=true KAB_BACKUP_SCHEDULE=1h KAB_BACKUP_DIR="$work/backup" \
	KAB_METRICS_ADDR=127.0.0.1:0 KAB_CONTROL_ADDR=127.0.0.1:0 "$work/kab-agent" 2>"$work/agent.log" &
agent=$!
sleep 5
ticks=$(getconf CLK_TCK)
cpu() { awk '{ print $14 + $15 }' "/proc/$agent/stat"; }
before=$(cpu)
sleep "$secs"
after=$(cpu)
echo "idle_rss_kib $(awk '/^VmRSS/ { print $2 }' "/proc/$agent/status")"
echo "idle_cpu_seconds_per_minute $(echo "$before $after $ticks $secs" | awk '{ printf "%.4f", ($2 - $1) / $3 * 60 / $4 }')"
grep -q '"app process found"' "$work/agent.log" && echo "target found: yes" || echo "target found: no"
