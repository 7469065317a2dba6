#!/usr/bin/env bash
# The whole platform on this machine: NATS, Kafka, Cassandra, OpenSearch and the S3 store
# (deploy/local/infra.sh) plus the
# six services as processes. Prints where to connect, then stays in the foreground; Ctrl-C (or
# SIGTERM) stops the services and the infrastructure it started itself.
#
#   bash deploy/local/platform.sh
#
# Uses existing infrastructure when KAFKA_BROKERS, CASSANDRA_CONTACT_POINTS, NATS_URL,
# OPENSEARCH_URL and S3_ENDPOINT (with S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY) are set.
# Ports (defaults): IM_GATEWAY_PORT=8080, service gRPC ports IM_<SERVICE>_GRPC_PORT=50051..50055,
# health ports IM_<SERVICE>_HTTP_PORT=9100..9105. Logs: .run/platform/<service>.log
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"
# shellcheck source=../../scripts/lib/bootstrap.sh
source scripts/lib/bootstrap.sh
im_bootstrap

RUN=${IM_RUN_DIR:-$ROOT/.run}/platform
mkdir -p "$RUN"
log() { printf '[platform] %s\n' "$*" >&2; }

GATEWAY_PORT=${IM_GATEWAY_PORT:-8080}
declare -A GRPC=(
  [auth]=${IM_AUTH_GRPC_PORT:-50051} [message]=${IM_MESSAGE_GRPC_PORT:-50052} [presence]=${IM_PRESENCE_GRPC_PORT:-50053}
  [media]=${IM_MEDIA_GRPC_PORT:-50054} [notification]=${IM_NOTIFICATION_GRPC_PORT:-50055}
)
declare -A HTTP=(
  [gateway]=${IM_GATEWAY_HTTP_PORT:-9100} [auth]=${IM_AUTH_HTTP_PORT:-9101} [message]=${IM_MESSAGE_HTTP_PORT:-9102}
  [presence]=${IM_PRESENCE_HTTP_PORT:-9103} [media]=${IM_MEDIA_HTTP_PORT:-9104} [notification]=${IM_NOTIFICATION_HTTP_PORT:-9105}
)
ORDER=(auth message presence media notification gateway)

log "building"
node_modules/.bin/im-tsc -b
npm run build --silent -w apps/web >"$RUN/web-build.log" 2>&1 || {
  tail -n 20 "$RUN/web-build.log" >&2
  log "the web client did not build (log: $RUN/web-build.log)"
  exit 1
}

STARTED_INFRA=0
if [ -z "${KAFKA_BROKERS:-}" ] || [ -z "${CASSANDRA_CONTACT_POINTS:-}" ] || [ -z "${NATS_URL:-}" ] ||
  [ -z "${OPENSEARCH_URL:-}" ] || [ -z "${S3_ENDPOINT:-}" ]; then
  if ! bash "$HERE/infra.sh" status >/dev/null 2>&1; then STARTED_INFRA=1; fi
  bash "$HERE/infra.sh" up
  # shellcheck disable=SC1091
  source "${IM_RUN_DIR:-$ROOT/.run}/infra/env"
fi

# A port held by another process would answer our readiness probes for it: refuse to start.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in "$GATEWAY_PORT" "${GRPC[@]}" "${HTTP[@]}"; do
  if port_open "$port"; then
    log "port $port is already in use (another platform.sh?): stop it or override the ports (see the header of $0)"
    exit 1
  fi
done

declare -A PIDS=()
stopping=0
stop_all() {
  [ $stopping -eq 1 ] && return
  stopping=1
  trap - INT TERM
  log "stopping services"
  local i name
  for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do
    name=${ORDER[$i]}
    [ -n "${PIDS[$name]:-}" ] && kill -TERM "${PIDS[$name]}" 2>/dev/null || true
  done
  for name in "${ORDER[@]}"; do
    [ -n "${PIDS[$name]:-}" ] && wait "${PIDS[$name]}" 2>/dev/null || true
  done
  if [ $STARTED_INFRA -eq 1 ]; then bash "$HERE/infra.sh" down; fi
  log "stopped"
}
trap 'stop_all; exit 0' INT TERM

common_env() {
  echo "KAFKA_BROKERS=$KAFKA_BROKERS" "KAFKA_SASL_MECHANISM=${KAFKA_SASL_MECHANISM:-scram-sha-512}" "CASSANDRA_CONTACT_POINTS=$CASSANDRA_CONTACT_POINTS" \
    "CASSANDRA_LOCAL_DC=${CASSANDRA_LOCAL_DC:-datacenter1}" "NATS_URL=$NATS_URL" "OPENSEARCH_URL=$OPENSEARCH_URL" \
    "CASSANDRA_CONSISTENCY=${CASSANDRA_CONSISTENCY:-LOCAL_ONE}" "LOG_LEVEL=${LOG_LEVEL:-info}" \
    "S3_ENDPOINT=$S3_ENDPOINT" "S3_REGION=${S3_REGION:-us-east-1}" "S3_ACCESS_KEY_ID=${S3_ACCESS_KEY_ID:-}" \
    "S3_SECRET_ACCESS_KEY=${S3_SECRET_ACCESS_KEY:-}"
}

# Each service is its own NATS user, Cassandra role and Kafka user when deploy/local has them (ADR
# 0023, 0024, 0028): `env` options that drop every password a service must not hold (the
# infrastructure's admin ones, the other services'), then its own. On infrastructure of your own, or
# under IM_NAME_PREFIX, NATS_USER/NATS_PASS, CASSANDRA_USERNAME/PASSWORD and
# KAFKA_USERNAME/PASSWORD are shared as given.
own_credentials() {
  local var nats="IM_NATS_PASS_${1^^}" cassandra="IM_CASSANDRA_PASS_${1^^}" kafka="IM_KAFKA_PASS_${1^^}" unset=() own=()
  for var in $(compgen -e | grep -E '^IM_(NATS|CASSANDRA|KAFKA)_[A-Z_]*PASS'); do unset+=(-u "$var"); done
  if [ -z "${IM_NAME_PREFIX:-}" ] && [ -n "${IM_NATS_PASS_GATEWAY:-}" ]; then
    unset+=(-u NATS_USER -u NATS_PASS)
    if [ -n "${!nats:-}" ]; then own+=("NATS_USER=$1" "NATS_PASS=${!nats}"); fi
  fi
  if [ -z "${IM_NAME_PREFIX:-}" ] && [ -n "${IM_CASSANDRA_PASS_MESSAGE:-}" ]; then
    unset+=(-u CASSANDRA_USERNAME -u CASSANDRA_PASSWORD)
    if [ -n "${!cassandra:-}" ]; then own+=("CASSANDRA_USERNAME=$1" "CASSANDRA_PASSWORD=${!cassandra}"); fi
  fi
  if [ -z "${IM_NAME_PREFIX:-}" ] && [ -n "${IM_KAFKA_PASS_MESSAGE:-}" ]; then
    unset+=(-u KAFKA_USERNAME -u KAFKA_PASSWORD)
    if [ -n "${!kafka:-}" ]; then own+=("KAFKA_USERNAME=$1" "KAFKA_PASSWORD=${!kafka}"); fi
  fi
  # env takes its -u options before any assignment
  echo "${unset[@]}" "${own[@]}"
}

start_service() {
  local name=$1
  shift
  # the passwords reach the service through its environment, never a command line (ps shows
  # those to every local user): `env`-style words, applied in order, then exec
  (
    local word unset_next=false
    # shellcheck disable=SC2046
    for word in $(own_credentials "$name") $(common_env) HTTP_PORT="${HTTP[$name]}" GRPC_TLS_DIR="$TLS/$name" "$@"; do
      if $unset_next; then
        unset "$word"
        unset_next=false
      elif [ "$word" = -u ]; then
        unset_next=true
      else
        export "${word?}"
      fi
    done
    exec node --enable-source-maps "services/$name/dist/src/main.js"
  ) >"$RUN/$name.log" 2>&1 &
  PIDS[$name]=$!
}

wait_ready() {
  local name=$1 deadline=$((SECONDS + 90))
  until curl -fs "http://127.0.0.1:${HTTP[$name]}/readyz" >/dev/null 2>&1; do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      tail -n 20 "$RUN/$name.log" >&2
      log "$name exited during start-up (log above, full log: $RUN/$name.log)"
      stop_all
      exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      log "$name not ready after 90s: $(curl -s "http://127.0.0.1:${HTTP[$name]}/readyz")"
      stop_all
      exit 1
    fi
    sleep 0.3
  done
}

addr() { echo "127.0.0.1:${GRPC[$1]}"; }

# the operator credential of this machine (im-admin): made once, kept with the run state
OPERATOR_TOKEN_FILE="$RUN/operator-token"
if [ -z "${AUTH_OPERATOR_TOKEN:-}" ]; then
  [ -s "$OPERATOR_TOKEN_FILE" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$OPERATOR_TOKEN_FILE")
  AUTH_OPERATOR_TOKEN=$(cat "$OPERATOR_TOKEN_FILE")
fi
# the key that encrypts the signing keys at rest: made once, kept with the run state
KEK_FILE="$RUN/key-encryption-key"
if [ -z "${AUTH_KEY_ENCRYPTION_KEY:-}" ]; then
  [ -s "$KEK_FILE" ] || (umask 077 && head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n' >"$KEK_FILE")
  AUTH_KEY_ENCRYPTION_KEY=$(cat "$KEK_FILE")
fi
# the internal plane's private CA and a certificate per service (mutual TLS): made once, kept
TLS="$RUN/tls"
bash "$ROOT/deploy/local/grpc-certs.sh" "$TLS" auth message presence media notification gateway operator
# the NATS buckets, as the infrastructure's operator user (NATS_USER): the services' own users may
# not make streams (ADR 0023); idempotent, and it brings the buckets' limits to the settings
if ! NATS_URL=$NATS_URL node tools/nats-buckets.mjs >"$RUN/nats-buckets.log" 2>&1; then
  cat "$RUN/nats-buckets.log" >&2
  log "the NATS buckets could not be provisioned (NATS_USER must be an operator's user)"
  stop_all
  exit 1
fi
# the quick start's default tenant stays open; other tenants are made with im-admin
start_service auth GRPC_PORT="${GRPC[auth]}" DEFAULT_TENANT_REGISTRATION="${DEFAULT_TENANT_REGISTRATION:-open}" \
  AUTH_OPERATOR_TOKEN="$AUTH_OPERATOR_TOKEN" AUTH_KEY_ENCRYPTION_KEY="$AUTH_KEY_ENCRYPTION_KEY"
start_service message GRPC_PORT="${GRPC[message]}" AUTH_GRPC_ADDR="$(addr auth)" MEDIA_GRPC_ADDR="$(addr media)"
start_service presence GRPC_PORT="${GRPC[presence]}" MESSAGE_GRPC_ADDR="$(addr message)"
start_service media GRPC_PORT="${GRPC[media]}" MESSAGE_GRPC_ADDR="$(addr message)" \
  S3_CORS_ALLOWED_ORIGINS="http://127.0.0.1:$GATEWAY_PORT,http://localhost:$GATEWAY_PORT"
start_service notification GRPC_PORT="${GRPC[notification]}" PRESENCE_GRPC_ADDR="$(addr presence)" \
  MESSAGE_GRPC_ADDR="$(addr message)" AUTH_GRPC_ADDR="$(addr auth)" WEBPUSH_ALLOW_HTTP_LOOPBACK=true \
  WEBHOOK_ALLOW_HTTP_LOOPBACK=true
for name in auth message presence media notification; do wait_ready "$name"; done
start_service gateway PUBLIC_PORT="$GATEWAY_PORT" WEB_CLIENT_DIR="$ROOT/apps/web/dist" \
  WEB_CLIENT_MEDIA_ORIGIN="$(node -p 'new URL(process.argv[1]).origin' "$S3_ENDPOINT")" AUTH_GRPC_ADDR="$(addr auth)" MESSAGE_GRPC_ADDR="$(addr message)" \
  PRESENCE_GRPC_ADDR="$(addr presence)" MEDIA_GRPC_ADDR="$(addr media)" NOTIFICATION_GRPC_ADDR="$(addr notification)"
wait_ready gateway

cat <<EOF

  IM platform is up.

  Web client    http://127.0.0.1:$GATEWAY_PORT/
  REST API      http://127.0.0.1:$GATEWAY_PORT/v1   (OpenAPI: http://127.0.0.1:$GATEWAY_PORT/v1/openapi.json)
  WebSocket     ws://127.0.0.1:$GATEWAY_PORT/v1/ws
  JWKS          http://127.0.0.1:$GATEWAY_PORT/.well-known/jwks.json

  Health (GET /healthz, /readyz, /metrics):
$(for n in "${ORDER[@]}"; do printf '    %-13s http://127.0.0.1:%s\n' "$n" "${HTTP[$n]}"; done)
  gRPC:
$(for n in auth message presence media notification; do printf '    %-13s %s\n' "$n" "$(addr "$n")"; done)

  Tenants: the default one is open to anyone; make others (with an invite for their first admin) with
    AUTH_OPERATOR_TOKEN=\$(cat $OPERATOR_TOKEN_FILE) AUTH_GRPC_ADDR=$(addr auth) GRPC_TLS_DIR=$TLS/operator \\
      node services/auth/dist/src/cli/im-admin.js create-tenant <name>

  Kafka $KAFKA_BROKERS · Cassandra $CASSANDRA_CONTACT_POINTS · NATS $NATS_URL · OpenSearch $OPENSEARCH_URL
  Logs: $RUN/<service>.log        Ctrl-C stops everything.

platform ready
EOF

# Stay up until interrupted; if a service dies, say so and stop the rest.
while true; do
  for name in "${ORDER[@]}"; do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      log "$name exited unexpectedly (log: $RUN/$name.log)"
      tail -n 20 "$RUN/$name.log" >&2 || true
      stop_all
      exit 1
    fi
  done
  sleep 1
done
