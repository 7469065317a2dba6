#!/usr/bin/env bash
# CPU of every process of an idle platform: started with the benchmark settings, left alone for
# SETTLE seconds (20), then sampled for 20 s from /proc. Prints milliseconds of CPU per second by
# process: what the platform costs with nobody on it (long polls, timers, heartbeats).
#
#   bash load-tests/idle-cpu.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# shellcheck source=lib/bench-platform.sh
source load-tests/lib/bench-platform.sh
bench_platform_up
sleep "${SETTLE:-20}"
node --input-type=module -e "
import { platformPids, cpuMs } from '$ROOT/load-tests/dist/src/metrics.js';
const pids = platformPids();
const before = new Map([...pids.keys()].map((p) => [p, cpuMs(p)]));
await new Promise((r) => setTimeout(r, 20_000));
const byProcess = {};
let total = 0;
for (const [pid, label] of pids) {
  const perSec = (cpuMs(pid) - before.get(pid)) / 20;
  byProcess[label] = (byProcess[label] ?? 0) + perSec;
  total += perSec;
}
console.log(JSON.stringify({ idleCpuMsPerSec: byProcess, total: Math.round(total * 10) / 10 }));
"
