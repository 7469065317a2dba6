#!/usr/bin/env bash
# Warm runs of the direct scenario on one freshly started platform: 15 s at 400 msg/s to warm it
# up (not reported), then 10 s at each rate given, in order, against the same platform. The
# figures of docs/benchmarks.md marked "warm runs" come from here.
#
#   bash load-tests/warm-runs.sh 500 500 1000
#
# 50 pairs, 100-byte messages; settings of lib/bench-platform.sh; CPU per message from /proc, all
# processes of the platform, and the sequencer's time per stage (sequencerStagesMs, from the message
# service's im_message_sequencer_stage_ms). Results: load-tests/results/.
# PROFILE_DIR=/tmp/prof: every service writes a CPU profile there when the platform stops
# (node --cpu-prof); `node tools/cpuprofile-top.mjs /tmp/prof --match message` reads them.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
[ $# -gt 0 ] || { echo "usage: bash load-tests/warm-runs.sh RATE [RATE...]" >&2; exit 64; }
# shellcheck source=lib/bench-platform.sh
source load-tests/lib/bench-platform.sh
if [ -n "${PROFILE_DIR:-}" ]; then
  mkdir -p "$PROFILE_DIR"
  export BENCH_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=$PROFILE_DIR"
fi
bench_platform_up
direct() {
  node --max-old-space-size=4096 load-tests/dist/src/cli.js direct --pairs 50 --rate "$1" --duration "$2" \
    --bytes 100 --gateway "http://127.0.0.1:$IM_GATEWAY_PORT" \
    --message-metrics "http://127.0.0.1:${IM_MESSAGE_HTTP_PORT:-9102}/metrics"
}
echo "== warm-up: 400 msg/s for 15 s"
direct 400 15 >/dev/null
for rate in "$@"; do
  echo "== $rate msg/s for 10 s"
  direct "$rate" 10
done
