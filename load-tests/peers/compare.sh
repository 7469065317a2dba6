#!/usr/bin/env bash
# The same 1:1 load against ejabberd + MAM (the durable XMPP peer) and against this platform, in one
# run on this machine, one system at a time: N pairs, fixed-size messages, open-loop rates,
# send → receive at the other user's connection, plus the CPU every process of each system spent.
#
#   bash load-tests/peers/compare.sh [--rates 200,500,1000] [--duration 10] [--pairs 50] [--bytes 100]
#
# Prints the table and writes load-tests/results/compare-<time>.{md,html} (the HTML plots p50/p99).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
RATES=200,500,1000 DURATION=10 PAIRS=50 BYTES=100
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) RATES=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --pairs) PAIRS=$2; shift 2 ;;
    --bytes) BYTES=$2; shift 2 ;;
    *) echo "unknown option $1"; exit 2 ;;
  esac
done
OUT="$ROOT/load-tests/results/compare-$(date -u +%Y%m%dT%H%M%S)"
mkdir -p "$OUT"
load() { node --max-old-space-size=4096 load-tests/dist/src/cli.js "$@"; }

# shellcheck source=../lib/bench-platform.sh
source load-tests/lib/bench-platform.sh
source "$ROOT/scripts/lib/bootstrap.sh"
im_bootstrap
"$ROOT/node_modules/.bin/im-tsc" -b

echo "== ejabberd + MAM"
bash load-tests/peers/ejabberd.sh up
# a discarded warm-up at the lowest rate, for both systems
load xmpp-direct --pairs "$PAIRS" --rate "${RATES%%,*}" --duration 5 --bytes "$BYTES" >/dev/null
for rate in ${RATES//,/ }; do
  load xmpp-direct --pairs "$PAIRS" --rate "$rate" --duration "$DURATION" --bytes "$BYTES" \
    | sed -n '/^{/,/^}/p' >"$OUT/ejabberd-$rate.json"
done
bash load-tests/peers/ejabberd.sh down

echo "== this platform"
bench_platform_up
load direct --pairs "$PAIRS" --rate "${RATES%%,*}" --duration 5 --bytes "$BYTES" \
  --gateway "http://127.0.0.1:$IM_GATEWAY_PORT" >/dev/null
for rate in ${RATES//,/ }; do
  load direct --pairs "$PAIRS" --rate "$rate" --duration "$DURATION" --bytes "$BYTES" \
    --gateway "http://127.0.0.1:$IM_GATEWAY_PORT" | sed -n '/^{/,/^}/p' >"$OUT/platform-$rate.json"
done

node load-tests/peers/compare-report.mjs "$OUT"
