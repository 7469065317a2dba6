#!/usr/bin/env bash
# The same 1:1 load against ejabberd + MAM (the durable XMPP peer) and against this platform, in one
# run on this machine, one system at a time: N pairs, fixed-size messages, open-loop rates,
# send → receive at the other user's connection, plus the CPU every process of each system spent.
#
#   bash load-tests/peers/compare.sh [--rates 200,500,1000] [--duration 10] [--pairs 50] [--bytes 100]
#                                    [--repeat 1] [--warmup 15]
#
# Each system first takes a discarded warm-up (--warmup seconds at 400 msg/s, or at the first rate
# listed if that is lower), then every rate in turn, --repeat times over (rounds, so the repeats of a rate are spread
# over the run). One run of a system spreads more than many a change does (docs/benchmarks.md): the
# report gives the median of the repeats with their range, and the ratios of the medians.
# Prints the table and writes load-tests/results/compare-<time>.{md,html} (the HTML plots p50/p99).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RATES=200,500,1000 DURATION=10 PAIRS=50 BYTES=100 REPEAT=1 WARMUP=15
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --bytes) BYTES=$2; shift 2 ;;
    --repeat) REPEAT=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
done
OUT="$ROOT/load-tests/results/compare-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
load() { node --max-old-space-size=4096 load-tests/dist/src/cli.js "$@"; }
FIRST_RATE=${RATES%%,*}
WARMUP_RATE=$((FIRST_RATE < 400 ? FIRST_RATE : 400))
# the warm-up, then every rate once per round, REPEAT rounds; $1: the system, $2: its scenario,
# then the scenario's own options
rounds() {
  local system=$1 scenario=$2
  shift 2
  load "$scenario" --pairs "$PAIRS" --rate "$WARMUP_RATE" --duration "$WARMUP" --bytes "$BYTES" "$@" >/dev/null
  for round in $(seq 1 "$REPEAT"); do
    for rate in ${RATES//,/ }; do
      load "$scenario" --pairs "$PAIRS" --rate "$rate" --duration "$DURATION" --bytes "$BYTES" "$@" \
        | sed -n '/^{/,/^}/p' >"$OUT/$system-$rate-$round.json"
    done
  done
}

# shellcheck source=../lib/bench-platform.sh
source load-tests/lib/bench-platform.sh
source "$ROOT/scripts/lib/bootstrap.sh"
im_bootstrap
"$ROOT/node_modules/.bin/im-tsc" -b

echo "== ejabberd + MAM"
bash load-tests/peers/ejabberd.sh up
rounds ejabberd xmpp-direct
bash load-tests/peers/ejabberd.sh down

echo "== this platform"
bench_platform_up
rounds platform direct --gateway "http://127.0.0.1:$IM_GATEWAY_PORT"

node load-tests/peers/compare-report.mjs "$OUT"
