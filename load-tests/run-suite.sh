#!/usr/bin/env bash
# The benchmark matrix of docs/benchmarks.md, one fresh platform per scenario (about 30 minutes).
# Run it on an otherwise idle machine: the generator shares the CPUs with the platform.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
run() { echo "=== $*"; bash load-tests/run-bench.sh "$@" 2>&1 | grep -v '^{' | grep -E '^\[load\]|result written|error' || true; }
run direct --rate 1000 --duration 60 --pairs 200
run direct --rate 5000 --duration 30 --pairs 500
run group --members 100 --senders 10 --rate 20 --duration 60
run idle --sockets 10000 --users 1000 --hold 30
run presence --users 2000 --watches 20 --churn 20 --down 10 --duration 60
PRESENCE_OFFLINE_GRACE_MS=0 run presence --users 2000 --watches 20 --churn 20 --down 10 --duration 60
run ramp --pairs 500 --rates 500,1000,1500,2000,3000,4000,6000 --step 20 --sustain 300
OTEL_SDK_DISABLED=true run direct --rate 1000 --duration 60 --pairs 200
echo "=== done"
