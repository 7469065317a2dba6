#!/usr/bin/env bash
# Starts the whole platform on this machine (deploy/local/platform.sh) with benchmark settings,
# runs one load-generator scenario against it from a separate process, then stops the platform.
#
#   bash load-tests/run-bench.sh direct --rate 1000 --duration 60
#   bash load-tests/run-bench.sh idle --sockets 10000
#
# Benchmark settings (and why): per-user send limit off (the generator's users send faster than
# people), cheap argon2 (registration of thousands of load users is setup, not the thing measured),
# LOG_LEVEL=warn. Everything else is the default configuration. Results: load-tests/results/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
# shellcheck source=../scripts/lib/bootstrap.sh
source scripts/lib/bootstrap.sh
im_bootstrap
node_modules/.bin/im-tsc -b

RUN="$ROOT/.run/bench"
mkdir -p "$RUN"
export LOG_LEVEL=${LOG_LEVEL:-warn} SEND_RATE_PER_SEC=100000 SEND_BURST=100000 ARGON2_MEMORY_KIB=1024 ARGON2_PASSES=1
export IM_NAME_PREFIX=${IM_NAME_PREFIX:-bench$(date +%s | tail -c 6)}
export IM_GATEWAY_PORT=${IM_GATEWAY_PORT:-18080}

bash deploy/local/platform.sh >"$RUN/platform.out" 2>&1 &
PLATFORM=$!
trap 'kill -TERM $PLATFORM 2>/dev/null; wait $PLATFORM 2>/dev/null || true' EXIT
for _ in $(seq 1 180); do
  grep -q '^platform ready' "$RUN/platform.out" && break
  kill -0 $PLATFORM 2>/dev/null || { tail -30 "$RUN/platform.out"; exit 1; }
  sleep 1
done
grep -q '^platform ready' "$RUN/platform.out" || { echo "platform did not start"; exit 1; }
node --max-old-space-size=4096 load-tests/dist/src/cli.js "$@" --gateway "http://127.0.0.1:$IM_GATEWAY_PORT"
