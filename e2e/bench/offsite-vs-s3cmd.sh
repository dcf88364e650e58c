#!/usr/bin/env bash
# Offsite upload: a 1 GiB snapshot uploaded by a real kab-agent (tar → zstd → age → S3) against
# `s3cmd put` (Debian's) of the same bytes as one plaintext tar, to the same real SeaweedFS in
# the same run, interleaved for ROUNDS rounds (default 3); prints min/median/max of both, the
# ratio of the medians and the agent's peak RSS. No cluster: the agent runs in Linux namespaces
# on this host (root), as in agent/cmd/kab-agent's integration tests. Timings are printed,
# never asserted.
#
#   e2e/bench/offsite-vs-s3cmd.sh            # ROUNDS=5 e2e/bench/offsite-vs-s3cmd.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$repo_root"

apt_ensure s3cmd s3cmd
weed_bin_dir=$(e2e/lib/build-seaweedfs.sh)
log "offsite upload vs s3cmd put, ${ROUNDS:-3} interleaved rounds of 1 GiB (a few minutes)"
out=$(mktemp -t kab-offsite-bench.XXXXXX)
if ! KAB_WEED_BIN_DIR=$weed_bin_dir KAB_OFFSITE_BENCH_ROUNDS=${ROUNDS:-3} \
  "${GO:-go}" test -v -tags integration -count=1 -run '^$' -bench 'OffsiteUpload1GiB$' -benchtime 1x -timeout 90m \
  ./agent/cmd/kab-agent/ >"$out" 2>&1; then
  tail -n 60 "$out" >&2
  log "benchmark failed; full output in $out"
  exit 1
fi
# SeaweedFS logs a lot; keep the figures.
grep -E '^(round|offsite upload|Benchmark)' "$out"
rm -f "$out"
