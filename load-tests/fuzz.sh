#!/usr/bin/env bash
# The fuzz suite of tests/e2e (random WebSocket frames and REST bodies against a real platform:
# never a crash, never a 5xx, errors in the stable shape, nothing stored that was not acked), run
# long: FUZZ_RUNS frames (default 50 000; CI runs 2 000; each test has the e2e phase's 10 minutes) and a quarter as many REST bodies.
#
#   bash load-tests/fuzz.sh            # or FUZZ_RUNS=100000 bash load-tests/fuzz.sh
#
# Starts the local infrastructure like the test command (and stops it afterwards unless it was up).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export FUZZ_RUNS=${FUZZ_RUNS:-50000}
exec bash "$ROOT/scripts/test.sh" --phase e2e --only fuzz
