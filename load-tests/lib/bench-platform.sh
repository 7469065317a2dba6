# shellcheck shell=bash
# Starts the whole platform (deploy/local/platform.sh) with benchmark settings and stops it on exit.
# Sourced by run-bench.sh and peers/compare.sh, which set ROOT first.
#
# Benchmark settings (and why): per-user send limit and registration limits off (the generator's
# users send and register faster than people; each run registers into a tenant of its own, made by registering), cheap argon2 (registration of thousands of load users is setup, not the thing measured),
# LOG_LEVEL=warn. Everything else is the default configuration.
bench_platform_up() {
  ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
  # shellcheck source=../../scripts/lib/bootstrap.sh
  source "$ROOT/scripts/lib/bootstrap.sh"
  im_bootstrap
  "$ROOT/node_modules/.bin/im-tsc" -b
  BENCH_RUN="$ROOT/.run/bench"
  mkdir -p "$BENCH_RUN"
  export LOG_LEVEL=${LOG_LEVEL:-warn} SEND_RATE_PER_SEC=100000 SEND_BURST=100000 ARGON2_MEMORY_KIB=1024 ARGON2_PASSES=1 \
    REGISTER_MAX_PER_IP_PER_MIN=0 REGISTER_MAX_PER_TENANT_PER_MIN=0 AUTH_ALLOW_TENANT_CREATION=true
  export IM_NAME_PREFIX=${IM_NAME_PREFIX:-bench$(date +%s | tail -c 6)}
  export IM_GATEWAY_PORT=${IM_GATEWAY_PORT:-18080}
  # BENCH_NODE_OPTIONS: for the platform's processes only (e.g. --cpu-prof, warm-runs.sh)
  NODE_OPTIONS="${BENCH_NODE_OPTIONS:-${NODE_OPTIONS:-}}" bash "$ROOT/deploy/local/platform.sh" >"$BENCH_RUN/platform.out" 2>&1 &
  BENCH_PLATFORM=$!
  trap 'kill -TERM $BENCH_PLATFORM 2>/dev/null; wait $BENCH_PLATFORM 2>/dev/null || true' EXIT
  for _ in $(seq 1 180); do
    if grep -q '^platform ready' "$BENCH_RUN/platform.out"; then
      # the generator's own Kafka client (search-seed) logs in like the platform's tools do
      if [ -z "${KAFKA_BROKERS:-}" ] && [ -f "${IM_RUN_DIR:-$ROOT/.run}/infra/env" ]; then
        eval "$(grep -E '^export KAFKA_(BROKERS|USERNAME|PASSWORD|SASL_MECHANISM)=' "${IM_RUN_DIR:-$ROOT/.run}/infra/env")"
      fi
      # thousands of tables left by earlier test and bench runs double Cassandra's CPU per request
      # (docs/benchmarks.md): the keyspaces of earlier runs of this script go (the prefixes it
      # makes, bench + digits; a prefix given, e.g. a seeded history, is never one), and the
      # count of what is left is printed next to the numbers
      (set -a && source "$ROOT/.run/infra/env" &&
        node "$ROOT/tools/cassandra-leftovers.mjs" --drop-prefixed --matching '^bench[0-9]+$' --keep "$IM_NAME_PREFIX" &&
        node "$ROOT/tools/cassandra-leftovers.mjs" --count | sed 's/^/cassandra holds /') >&2 || true
      return 0
    fi
    kill -0 $BENCH_PLATFORM 2>/dev/null || { tail -30 "$BENCH_RUN/platform.out"; return 1; }
    sleep 1
  done
  echo "platform did not start"
  return 1
}

