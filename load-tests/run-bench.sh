#!/usr/bin/env bash
# Starts the whole platform on this machine (deploy/local/platform.sh) with benchmark settings,
# runs one load-generator scenario against it from a separate process, then stops the platform.
#
#   bash load-tests/run-bench.sh direct --rate 1000 --duration 60
#   bash load-tests/run-bench.sh idle --sockets 10000
#
# Settings: see lib/bench-platform.sh. Results: load-tests/results/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=lib/bench-platform.sh
source load-tests/lib/bench-platform.sh
bench_platform_up
node --max-old-space-size=4096 load-tests/dist/src/cli.js "$@" --gateway "http://127.0.0.1:$IM_GATEWAY_PORT"
