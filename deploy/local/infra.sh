#!/usr/bin/env bash
# Local infrastructure on 127.0.0.1, without Docker: NATS (JetStream), Kafka (KRaft), Cassandra 5,
# OpenSearch 2.19 (search) and versitygw (S3 object storage for media, posix backend).
#
#   deploy/local/infra.sh up       install what is missing (cached), start what is not running, wait until ready
#   deploy/local/infra.sh down     stop what this script started (by recorded pid), nothing else
#   deploy/local/infra.sh status   one line per component
#   deploy/local/infra.sh logs [nats|kafka|cassandra|opensearch|s3] [-f]
#   deploy/local/infra.sh reset    down, then delete the data (keeps downloads)
#   deploy/local/infra.sh install  only download/build into the cache
#   deploy/local/infra.sh start|stop|kill nats|kafka|cassandra|opensearch|s3   one component (kill = SIGKILL, for fault tests)
#   deploy/local/infra.sh env      print the endpoint variables (also written to .run/infra/env)
#
# Downloads live in .cache/ (Maven Central jars, nats-server and versitygw built from the Go module proxy),
# data, logs and pids in .run/infra/. Both are git-ignored. Ports and heaps are overridable:
#   IM_NATS_PORT=4222 IM_NATS_MONITOR_PORT=8222 IM_KAFKA_PORT=9092 IM_KAFKA_CONTROLLER_PORT=9093
#   IM_KAFKA_TLS_PORT=9094 (SCRAM-SHA-512 over TLS, the chart's default shape)
#   IM_CASSANDRA_PORT=9042 IM_CASSANDRA_STORAGE_PORT=7000 IM_CASSANDRA_JMX_PORT=7199
#   IM_OPENSEARCH_PORT=9200 IM_OPENSEARCH_TRANSPORT_PORT=9300 IM_OPENSEARCH_USER=im-opensearch (as root)
#   IM_S3_PORT=7070 (versitygw; its keys are generated on first start into .run/infra/s3/credentials)
#   IM_KAFKA_HEAP=1g IM_CASSANDRA_HEAP=2g IM_OPENSEARCH_HEAP=512m IM_CASSANDRA_COMMITLOG_SYNC=batch|periodic
#   IM_CASSANDRA_TIMER_SLACK_US=500 (0: the kernel's default; see start_cassandra)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${IM_CACHE_DIR:-$ROOT/.cache}
RUN=${IM_RUN_DIR:-$ROOT/.run}/infra

NATS_VERSION=v2.14.5
KAFKA_VERSION=3.9.1
CASSANDRA_VERSION=5.0.8
# the newest 2.19 (3.x needs Java 21); the integ-test zip: no bundled JDK, no plugins
OPENSEARCH_VERSION=2.19.6
VERSITYGW_VERSION=v1.8.0
MVN_COPY=org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies

NATS_PORT=${IM_NATS_PORT:-4222}
NATS_MONITOR_PORT=${IM_NATS_MONITOR_PORT:-8222}
KAFKA_PORT=${IM_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${IM_KAFKA_CONTROLLER_PORT:-9093}
KAFKA_TLS_PORT=${IM_KAFKA_TLS_PORT:-9094}
CASSANDRA_PORT=${IM_CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${IM_CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_JMX_PORT=${IM_CASSANDRA_JMX_PORT:-7199}
OPENSEARCH_PORT=${IM_OPENSEARCH_PORT:-9200}
OPENSEARCH_TRANSPORT_PORT=${IM_OPENSEARCH_TRANSPORT_PORT:-9300}
OPENSEARCH_HEAP=${IM_OPENSEARCH_HEAP:-512m}
S3_PORT=${IM_S3_PORT:-7070}
OPENSEARCH_USER=${IM_OPENSEARCH_USER:-im-opensearch} # only when started as root
KAFKA_HEAP=${IM_KAFKA_HEAP:-1g}
CASSANDRA_HEAP=${IM_CASSANDRA_HEAP:-2g}
CASSANDRA_COMMITLOG_SYNC=${IM_CASSANDRA_COMMITLOG_SYNC:-batch}
CASSANDRA_TIMER_SLACK_US=${IM_CASSANDRA_TIMER_SLACK_US:-500}

unset COLUMNS # KAFKA-15413: the storage tool trips over it

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

# for this (sub)shell and what it execs; best effort (older kernels have no timerslack_ns)
timer_slack_us() {
  [[ $1 =~ ^[0-9]+$ ]] || die "a timer slack must be a number of microseconds, not '$1'"
  [ "$((10#$1))" -gt 0 ] && { echo "$((10#$1 * 1000))" >/proc/self/timerslack_ns; } 2>/dev/null || true
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A pid counts as ours only if its command line carries our marker: pids get recycled.
our_pid() {
  local name=$1 pidfile="$RUN/$1/pid" pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile")
  [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "im-local-$name" || return 1
  echo "$pid"
}

running() { our_pid "$1" >/dev/null; }

require_java() {
  command -v java >/dev/null || die "java not found: Kafka and Cassandra need a JDK 17 (Debian: apt-get install openjdk-17-jdk-headless)"
  local v
  v=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1)
  case "$v" in
    11 | 17) ;;
    *) die "Cassandra 5 runs on Java 11 or 17 only, found Java '$v' (set JAVA_HOME/PATH to a JDK 17)" ;;
  esac
}

install_jars() { # name pom version
  local name=$1 pom=$2 version=$3 lib="$CACHE/$1/lib"
  [ -f "$lib/.complete-$version" ] && return 0
  command -v mvn >/dev/null || die "mvn not found: it resolves the $name jars from Maven Central (Debian: apt-get install maven)"
  log "downloading $name $version from Maven Central"
  rm -rf "$lib" && mkdir -p "$lib"
  mvn -B -q -Dmaven.repo.local="$CACHE/m2" -f "$pom" "$MVN_COPY" \
    -DincludeScope=runtime -DoutputDirectory="$lib" >"$CACHE/$name-install.log" 2>&1 ||
    die "resolving $name jars failed, see $CACHE/$name-install.log"
  touch "$lib/.complete-$version"
}

install_nats() {
  local bin="$CACHE/bin/nats-server"
  if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "${NATS_VERSION#v}"; then return 0; fi
  command -v go >/dev/null || die "go not found: nats-server is built from the Go module proxy (install Go >= 1.25)"
  log "building nats-server $NATS_VERSION from the Go module proxy"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS="-trimpath -modcacherw" \
    go install "github.com/nats-io/nats-server/v2@$NATS_VERSION" >"$CACHE/nats-install.log" 2>&1 ||
    die "building nats-server failed, see $CACHE/nats-install.log"
}

install_versitygw() {
  local bin="$CACHE/bin/versitygw"
  if [ -x "$bin" ] && [ -f "$CACHE/bin/.versitygw-$VERSITYGW_VERSION" ]; then return 0; fi
  command -v go >/dev/null || die "go not found: versitygw is built from the Go module proxy (install Go >= 1.25)"
  log "building versitygw $VERSITYGW_VERSION from the Go module proxy (about 2 minutes, once)"
  mkdir -p "$CACHE/bin"
  GOBIN="$CACHE/bin" GOMODCACHE="$CACHE/go/mod" GOCACHE="$CACHE/go/build" GOFLAGS="-trimpath -modcacherw" \
    go install "github.com/versity/versitygw/cmd/versitygw@$VERSITYGW_VERSION" >"$CACHE/versitygw-install.log" 2>&1 ||
    die "building versitygw failed, see $CACHE/versitygw-install.log"
  rm -f "$CACHE"/bin/.versitygw-* && touch "$CACHE/bin/.versitygw-$VERSITYGW_VERSION"
}

install_opensearch() {
  local dir="$CACHE/opensearch" home="$CACHE/opensearch/opensearch-$OPENSEARCH_VERSION"
  [ -f "$home/.complete" ] && return 0
  command -v mvn >/dev/null || die "mvn not found: it resolves OpenSearch from Maven Central (Debian: apt-get install maven)"
  command -v unzip >/dev/null || die "unzip not found (Debian: apt-get install unzip)"
  log "downloading opensearch $OPENSEARCH_VERSION from Maven Central"
  rm -rf "$dir" && mkdir -p "$dir"
  mvn -B -q -Dmaven.repo.local="$CACHE/m2" org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" \
    -DoutputDirectory="$dir" >"$CACHE/opensearch-install.log" 2>&1 ||
    die "resolving opensearch failed, see $CACHE/opensearch-install.log"
  unzip -q "$dir/opensearch-$OPENSEARCH_VERSION.zip" -d "$dir" && rm -f "$dir/opensearch-$OPENSEARCH_VERSION.zip"
  touch "$home/.complete"
}

install_all() {
  require_java
  install_nats
  install_versitygw
  install_jars kafka "$HERE/kafka/pom.xml" "$KAFKA_VERSION" &
  local k=$!
  install_jars cassandra "$HERE/cassandra/pom.xml" "$CASSANDRA_VERSION" &
  local c=$!
  install_opensearch &
  local o=$!
  wait $k || die "kafka install failed"
  wait $c || die "cassandra install failed"
  wait $o || die "opensearch install failed"
}

# Waits until "$check" succeeds; on timeout or if the process died, prints the log tail and fails.
await() { # name timeout-seconds check-command...
  local name=$1 timeout=$2 deadline
  shift 2
  deadline=$((SECONDS + timeout))
  until "$@"; do
    # the recorded pid itself, not its marker: between fork and exec it still shows our shell's
    # command line, and a marker check there would call a healthy start-up dead
    if ! kill -0 "$(cat "$RUN/$name/pid" 2>/dev/null)" 2>/dev/null; then
      tail -n 40 "$RUN/$name/out.log" >&2 || true
      die "$name exited during start-up (log above, full log: $RUN/$name/out.log)"
    fi
    if [ $SECONDS -ge $deadline ]; then
      tail -n 40 "$RUN/$name/out.log" >&2 || true
      die "$name not ready after ${timeout}s (log above, full log: $RUN/$name/out.log)"
    fi
    sleep 0.5
  done
}

ports_of() { # the ports a component listens on
  case $1 in
    nats) echo "$NATS_PORT $NATS_MONITOR_PORT" ;;
    kafka) echo "$KAFKA_PORT $KAFKA_CONTROLLER_PORT $KAFKA_TLS_PORT" ;;
    cassandra) echo "$CASSANDRA_PORT $CASSANDRA_STORAGE_PORT $CASSANDRA_JMX_PORT" ;;
    opensearch) echo "$OPENSEARCH_PORT $OPENSEARCH_TRANSPORT_PORT" ;;
    s3) echo "$S3_PORT" ;;
  esac
}

claim_ports() { # name ports...
  local name=$1 p
  shift
  for p in "$@"; do
    port_open "$p" && die "port $p (for $name) is already in use by another process: stop it or override the port (see the header of $0)"
  done
  return 0
}

render() { # template output(- for stdout) key=value...
  local tmpl=$1 out=$2 expr=()
  shift 2
  for kv in "$@"; do expr+=(-e "s#__${kv%%=*}__#${kv#*=}#g"); done
  if [ "$out" = - ]; then sed "${expr[@]}" "$tmpl"; else sed "${expr[@]}" "$tmpl" >"$out"; fi
}

start_nats() {
  # a server started with other users (or none, before ADR 0023) is not what the env file says
  if running nats && ! cmp -s "$HERE/nats/authorization.conf" "$RUN/nats/authorization.conf"; then
    log "nats runs with other users than deploy/local/nats/authorization.conf: restarting it"
    stop_one nats
  fi
  running nats && return 0
  # shellcheck disable=SC2046
  claim_ports nats $(ports_of nats)
  local dir="$RUN/nats"
  mkdir -p "$dir/data"
  render "$HERE/nats/nats.conf.tmpl" "$dir/im-local-nats.conf" PORT="$NATS_PORT" MONITOR_PORT="$NATS_MONITOR_PORT" DATA="$dir/data"
  cp "$HERE/nats/authorization.conf" "$dir/authorization.conf"
  # the users' passwords reach the server as the environment variables authorization.conf names
  (
    set -a
    # shellcheck disable=SC1090
    source <(nats_credentials)
    exec setsid nohup "$CACHE/bin/nats-server" -c "$dir/im-local-nats.conf" >"$dir/out.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/pid"
  nats_ready() { curl -fs "http://127.0.0.1:$NATS_MONITOR_PORT/healthz?js-enabled-only=true" >/dev/null 2>&1; }
  await nats 30 nats_ready
  log "nats ready on 127.0.0.1:$NATS_PORT"
}

# NATS passwords, one per user of deploy/local/nats/authorization.conf (ADR 0023): made once per
# machine, given to the server by start_nats and to the services by write_env (IM_NATS_PASS_<SERVICE>;
# the test runner and tools use the unrestricted im-infra-admin, NATS_USER/NATS_PASS).
nats_credentials() {
  # shellcheck disable=SC2046
  passwords "$RUN/nats/credentials" $(grep -o '\$IM_NATS_[A-Z_]*' "$HERE/nats/authorization.conf" | tr -d '$' | sort -u)
}

# Prints a file of VARIABLE=password lines (only we read it), adding a random password (letters and
# digits) for each variable named that it lacks.
passwords() { # file variables...
  local file=$1 var
  shift
  mkdir -p "$(dirname "$file")"
  # made once, never touched again: its mtime tells what was made from it before (kafka_tls)
  [ -e "$file" ] || install -m 600 /dev/null "$file"
  chmod 600 "$file"
  for var in "$@"; do
    grep -q "^$var=" "$file" || printf '%s=im%s\n' "$var" "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >>"$file"
  done
  cat "$file"
}

# The S3 store's keys: made once per machine (.run is git-ignored), read by write_env.
s3_credentials() {
  local file="$RUN/s3/credentials"
  if [ ! -f "$file" ]; then
    mkdir -p "$RUN/s3"
    (umask 077 && printf 'S3_ACCESS_KEY_ID=im%s\nS3_SECRET_ACCESS_KEY=%s\n' \
      "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')" "$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >"$file")
  fi
  cat "$file"
}

start_s3() {
  running s3 && return 0
  claim_ports s3 "$S3_PORT"
  local dir="$RUN/s3" creds
  mkdir -p "$dir/im-local-s3-data"
  creds=$(s3_credentials)
  # the data directory's name is the marker our_pid looks for
  (
    ROOT_ACCESS_KEY=$(sed -n 's/^S3_ACCESS_KEY_ID=//p' <<<"$creds")
    ROOT_SECRET_KEY=$(sed -n 's/^S3_SECRET_ACCESS_KEY=//p' <<<"$creds")
    export ROOT_ACCESS_KEY ROOT_SECRET_KEY
    exec setsid nohup "$CACHE/bin/versitygw" --port "127.0.0.1:$S3_PORT" --health /healthz \
      posix "$dir/im-local-s3-data" >"$dir/out.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/pid"
  s3_ready() { curl -fs "http://127.0.0.1:$S3_PORT/healthz" >/dev/null 2>&1; }
  await s3 30 s3_ready
  log "s3 (versitygw) ready on 127.0.0.1:$S3_PORT"
}

start_kafka() {
  local dir="$RUN/kafka" lib="$CACHE/kafka/lib"
  # without the build, a running broker is left as it is (its users and ACLs were made at its start)
  [ -f "$ROOT/libs/platform/dist/src/kafka/access.js" ] || ! running kafka || return 0
  mkdir -p "$dir/data" "$dir/logs"
  kafka_tls
  install -m 600 /dev/null "$dir/server.properties.next"
  kafka_properties >"$dir/server.properties.next"
  # a broker started with other users or settings (or none, before ADR 0028) is not what the env file says
  if running kafka && ! cmp -s "$dir/server.properties.next" "$dir/server.properties"; then
    log "kafka runs with other settings or users than deploy/local/kafka: restarting it"
    stop_one kafka
  fi
  if running kafka; then
    rm -f "$dir/server.properties.next"
    kafka_scram_users
    kafka_acls
    return 0
  fi
  # shellcheck disable=SC2046
  claim_ports kafka $(ports_of kafka)
  mv "$dir/server.properties.next" "$dir/server.properties"
  local logopt="-Dlog4j.configuration=file:$HERE/kafka/log4j.properties"
  # a new log gets every user's SCRAM credentials with it; an older one gets them once it runs
  local scram=() fresh="" creds cred
  [ -f "$dir/data/kraft-logs/meta.properties" ] || fresh=1
  if [ -n "$fresh" ]; then
    creds=$(kafka_scram) || die "rendering Kafka's SCRAM credentials failed"
    while read -r cred; do scram+=(--add-scram "$cred"); done <<<"$creds"
  fi
  java "$logopt" -cp "$lib/*" kafka.tools.StorageTool format -t "im-local-kafka-cluster1" \
    -c "$dir/server.properties" --ignore-formatted "${scram[@]}" >"$dir/format.log" 2>&1 ||
    { cat "$dir/format.log" >&2; die "formatting Kafka storage failed"; }
  [ -z "$fresh" ] || sha256sum <<<"$creds" >"$dir/data/scram.sha256"
  : >"$dir/out.log"
  setsid nohup java -Dim-local-kafka -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:TieredStopAtLevel=1 \
    -Djava.awt.headless=true "$logopt" -Dkafka.logs.dir="$dir/logs" \
    -cp "$lib/*" kafka.Kafka "$dir/server.properties" >>"$dir/out.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  kafka_ready() { grep -q 'Kafka Server started' "$dir/out.log" && port_open "$KAFKA_PORT"; }
  await kafka 120 kafka_ready
  kafka_scram_users
  kafka_acls
  log "kafka ready on 127.0.0.1:$KAFKA_PORT (SCRAM over TLS on $KAFKA_TLS_PORT)"
}

# The TLS listener's certificate (for 127.0.0.1, from a CA of its own) as a PKCS12 keystore, with
# a password made once per machine; kept while the certificate is.
kafka_tls() {
  local tls="$RUN/kafka/tls"
  CERTS_EXTRA_SAN=IP:127.0.0.1 bash "$HERE/grpc-certs.sh" "$tls" broker
  passwords "$tls/password" IM_KAFKA_KEYSTORE_PASS >/dev/null
  if [ ! -s "$tls/broker.p12" ] || [ "$tls/broker/tls.crt" -nt "$tls/broker.p12" ] ||
    [ "$tls/password" -nt "$tls/broker.p12" ]; then
    (umask 077 && IM_KAFKA_KEYSTORE_PASS=$(kafka_keystore_password) openssl pkcs12 -export -name broker \
      -inkey "$tls/broker/tls.key" -in "$tls/broker/tls.crt" -passout env:IM_KAFKA_KEYSTORE_PASS \
      -out "$tls/broker.p12.tmp") || die "making Kafka's TLS keystore failed"
    mv "$tls/broker.p12.tmp" "$tls/broker.p12"
  fi
}
kafka_keystore_password() { sed -n 's/^IM_KAFKA_KEYSTORE_PASS=//p' "$RUN/kafka/tls/password"; }

# Every local user's SCRAM-SHA-512 credentials (for the TLS listener), one per line.
kafka_scram() {
  (
    set -a
    # shellcheck disable=SC1090
    source <(kafka_credentials)
    node "$ROOT/tools/kafka-access.mjs" --scram
  ) || die "rendering Kafka's SCRAM credentials failed"
}

# A log formatted before the TLS listener existed (or with other users) gets the SCRAM credentials
# from the running broker, once: one JVM per user, as im-infra-admin.
kafka_scram_users() {
  local dir="$RUN/kafka" lib="$CACHE/kafka/lib" sum creds
  creds=$(kafka_scram) || die "rendering Kafka's SCRAM credentials failed"
  sum=$(sha256sum <<<"$creds")
  [ "$sum" = "$(cat "$dir/data/scram.sha256" 2>/dev/null)" ] && return 0
  log "kafka: adding the users' SCRAM credentials"
  local admin="$dir/admin-client.properties" cred name pass
  install -m 600 /dev/null "$admin"
  printf 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="im-infra-admin" password="%s";\n' \
    "$(kafka_credentials | sed -n 's/^IM_KAFKA_ADMIN_PASS=//p')" >"$admin"
  while read -r cred; do
    name=$(sed -E 's/.*name=([^,]+),.*/\1/' <<<"$cred")
    pass=$(sed -E 's/.*password=([^]]+)].*/\1/' <<<"$cred")
    java -Dlog4j.configuration="file:$HERE/kafka/log4j.properties" -cp "$lib/*" kafka.admin.ConfigCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --command-config "$admin" --alter --entity-type users \
      --entity-name "$name" --add-config "SCRAM-SHA-512=[password=$pass]" >>"$dir/scram.log" 2>&1 ||
      { tail -5 "$dir/scram.log" >&2; rm -f "$admin"; die "adding Kafka's SCRAM credentials failed"; }
  done <<<"$creds"
  rm -f "$admin"
  echo "$sum" >"$dir/data/scram.sha256"
}

# The broker's settings with its SASL users (ADR 0028); the users' lines need the build, and are
# rendered into a file only readable by us.
kafka_properties() {
  render "$HERE/kafka/server.properties.tmpl" - \
    PORT="$KAFKA_PORT" CONTROLLER_PORT="$KAFKA_CONTROLLER_PORT" TLS_PORT="$KAFKA_TLS_PORT" \
    DATA="$RUN/kafka/data" TLS_DIR="$RUN/kafka/tls"
  echo "listener.name.sasl_ssl.ssl.keystore.password=$(kafka_keystore_password)"
  echo "listener.name.sasl_ssl.ssl.key.password=$(kafka_keystore_password)"
  # a new certificate (or keystore password) restarts a running broker: it reads the keystore at
  # start only (the keystore's own bytes differ at every export: random salts)
  echo "# keystore $(cat "$RUN/kafka/tls/broker/tls.crt" "$RUN/kafka/tls/password" | sha256sum | cut -c1-16)"
  need_build "Kafka's users"
  (
    set -a
    # shellcheck disable=SC1090
    source <(kafka_credentials)
    node "$ROOT/tools/kafka-access.mjs" --server-properties
  ) || die "rendering Kafka's users failed"
}

# Kafka passwords (ADR 0028): made once per machine, like the NATS ones; the variables are the ones
# tools/kafka-access.mjs names (IM_KAFKA_ADMIN_PASS for the test runner and tools,
# IM_KAFKA_PASS_<SERVICE> for platform.sh, IM_KAFKA_BROKER_PASS for the broker itself).
kafka_credentials() {
  # shellcheck disable=SC2046
  passwords "$RUN/kafka/credentials" $(node "$ROOT/tools/kafka-access.mjs" --variables 2>/dev/null)
}

# The services' ACLs, made on every start (idempotent), as im-infra-admin.
kafka_acls() {
  need_build "Kafka's ACLs"
  with_passwords "setting up Kafka's ACLs" kafka_credentials "$RUN/kafka/acls.log" \
    env KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" timeout 120 node "$ROOT/tools/kafka-access.mjs" --local
}

# Runs one of our tools with a component's passwords in its environment, appending its output to a
# log; a failure ends this script with the log's tail.
with_passwords() { # what credentials-function log command...
  local what=$1 credentials=$2 logfile=$3
  shift 3
  (
    set -a
    # shellcheck disable=SC1090
    source <("$credentials")
    "$@"
  ) >>"$logfile" 2>&1 || {
    tail -5 "$logfile" >&2
    die "$what failed (log: $logfile)"
  }
}

need_build() {
  [ -f "$ROOT/libs/platform/dist/src/kafka/access.js" ] ||
    die "libs/platform is not built: run npx im-tsc -b first ($1 are made with it)"
}

start_cassandra() {
  if running cassandra && ! grep -q '^authenticator: PasswordAuthenticator' "$RUN/cassandra/cassandra.yaml"; then
    log "cassandra runs without logins (started before ADR 0024): restarting it"
    stop_one cassandra
  fi
  if running cassandra; then
    cassandra_roles
    return 0
  fi
  # shellcheck disable=SC2046
  claim_ports cassandra $(ports_of cassandra)
  local dir="$RUN/cassandra" lib="$CACHE/cassandra/lib" jamm opts
  mkdir -p "$dir"/{data,logs,tmp,triggers}
  local period='' compression='' # both go with periodic sync only
  case "$CASSANDRA_COMMITLOG_SYNC" in
    batch) ;;
    periodic)
      period='commitlog_sync_period: 10s'
      compression='commitlog_compression: [{class_name: LZ4Compressor}]'
      ;;
    *) die "IM_CASSANDRA_COMMITLOG_SYNC must be batch or periodic" ;;
  esac
  render "$HERE/cassandra/cassandra.yaml.tmpl" "$dir/cassandra.yaml" PORT="$CASSANDRA_PORT" \
    STORAGE_PORT="$CASSANDRA_STORAGE_PORT" SSL_STORAGE_PORT="$((CASSANDRA_STORAGE_PORT + 1))" DATA="$dir/data" \
    COMMITLOG_SYNC="$CASSANDRA_COMMITLOG_SYNC" COMMITLOG_PERIOD="$period" COMMITLOG_COMPRESSION="$compression"
  jamm=$(ls "$lib"/jamm-*.jar | head -1)
  mapfile -t opts < <(grep -E '^-' "$HERE/cassandra/jvm17-server.options")
  : >"$dir/out.log"
  # Cassandra's request threads (SEPWorker) poll for work in 10 µs sleeps for ~10 ms after every
  # request, so a steady trickle of requests keeps them waking up thousands of times a second. A
  # coarser timer slack for the JVM (inherited by every thread it starts) lets the kernel batch
  # those wake-ups: measured here, half to two thirds less Cassandra CPU per request, for at most
  # that slack of added wait on a request that arrives while a worker is polling.
  (
    timer_slack_us "$CASSANDRA_TIMER_SLACK_US"
    exec setsid nohup java -Dim-local-cassandra -Xms"$CASSANDRA_HEAP" -Xmx"$CASSANDRA_HEAP" -XX:MaxDirectMemorySize=1g \
    "${opts[@]}" -javaagent:"$jamm" \
    -Djava.io.tmpdir="$dir/tmp" -Djna.tmpdir="$dir/tmp" \
    -Dcassandra.config="file://$dir/cassandra.yaml" -Dcassandra-foreground=yes \
    -Dcassandra.storagedir="$dir/data" -Dcassandra.logdir="$dir/logs" -Dcassandra.triggers_dir="$dir/triggers" \
    -Dlogback.configurationFile="$HERE/cassandra/logback.xml" -Dcassandra.jmx.local.port="$CASSANDRA_JMX_PORT" \
    -Dcassandra.superuser_setup_delay_ms=0 -Dcassandra.role_password_update_min_interval_in_ms=0 \
    -Dcassandra.auth_bcrypt_gensalt_log2_rounds=4 \
    -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon >>"$dir/out.log" 2>&1 </dev/null
  ) &
  echo $! >"$dir/pid"
  cassandra_ready() { grep -q 'Startup complete' "$dir/out.log" && port_open "$CASSANDRA_PORT"; }
  await cassandra 240 cassandra_ready
  cassandra_roles
  log "cassandra ready on 127.0.0.1:$CASSANDRA_PORT"
}

# Cassandra passwords (ADR 0024): made once per machine, like the NATS ones; the variables are the
# ones tools/cassandra-roles.mjs names (IM_CASSANDRA_ADMIN_PASS for the test runner and tools,
# IM_CASSANDRA_PASS_<SERVICE> for platform.sh).
cassandra_credentials() {
  # shellcheck disable=SC2046
  passwords "$RUN/cassandra/credentials" $(node "$ROOT/tools/cassandra-roles.mjs" --variables 2>/dev/null)
}

# The roles need the build (libs/platform): platform.sh and the test runner build first. On a node
# that is already running they were made when it started: without the build, leave them.
cassandra_roles() {
  if [ ! -f "$ROOT/libs/platform/dist/src/cassandra/roles.js" ]; then
    running cassandra && return 0
    die "libs/platform is not built: run npx im-tsc -b first (Cassandra's roles are made with it)"
  fi
  with_passwords "setting up Cassandra's roles" cassandra_credentials "$RUN/cassandra/roles.log" \
    env CASSANDRA_CONTACT_POINTS="127.0.0.1:$CASSANDRA_PORT" timeout 180 node "$ROOT/tools/cassandra-roles.mjs" --local
}

start_opensearch() {
  running opensearch && return 0
  # shellcheck disable=SC2046
  claim_ports opensearch $(ports_of opensearch)
  local dir="$RUN/opensearch" home="$CACHE/opensearch/opensearch-$OPENSEARCH_VERSION"
  mkdir -p "$dir"/{data,logs,tmp,config}
  render "$HERE/opensearch/opensearch.yml.tmpl" "$dir/config/opensearch.yml" \
    PORT="$OPENSEARCH_PORT" TRANSPORT_PORT="$OPENSEARCH_TRANSPORT_PORT" DATA="$dir/data" LOGS="$dir/logs"
  cp "$HERE/opensearch/jvm.options" "$dir/config/jvm.options"
  cp "$home/config/log4j2.properties" "$dir/config/"
  : >"$dir/out.log"
  # OpenSearch refuses to run as root, with no override: as root, it runs as a system user of its own
  local as_user=()
  if [ "$(id -u)" = 0 ]; then
    id -u "$OPENSEARCH_USER" >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin "$OPENSEARCH_USER" ||
      die "creating the system user $OPENSEARCH_USER for OpenSearch failed"
    chown -R "$OPENSEARCH_USER:" "$dir"
    as_user=(setpriv --reuid="$OPENSEARCH_USER" --regid="$OPENSEARCH_USER" --init-groups --)
  fi
  OPENSEARCH_PATH_CONF="$dir/config" OPENSEARCH_TMPDIR="$dir/tmp" JAVA_HOME="${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}" \
    OPENSEARCH_JAVA_OPTS="-Dim-local-opensearch -Xms$OPENSEARCH_HEAP -Xmx$OPENSEARCH_HEAP" \
    setsid nohup "${as_user[@]}" "$home/bin/opensearch" >>"$dir/out.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  opensearch_ready() { curl -fs "http://127.0.0.1:$OPENSEARCH_PORT/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; }
  await opensearch 180 opensearch_ready
  log "opensearch ready on 127.0.0.1:$OPENSEARCH_PORT"
}

write_env() {
  mkdir -p "$RUN"
  # it holds every password: only we read it
  install -m 600 /dev/null "$RUN/env"
  cat >"$RUN/env" <<EOF
export KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
export IM_KAFKA_TLS_BROKERS=127.0.0.1:$KAFKA_TLS_PORT
export IM_KAFKA_TLS_CA_FILE=$RUN/kafka/tls/ca/ca.crt
$(kafka_credentials | sed -n -e 's/^IM_KAFKA_ADMIN_PASS=/export KAFKA_SASL_MECHANISM=plain\nexport KAFKA_USERNAME=im-infra-admin\nexport KAFKA_PASSWORD=/p' -e '/^IM_KAFKA_PASS_/s/^/export /p')
export CASSANDRA_CONTACT_POINTS=127.0.0.1:$CASSANDRA_PORT
export CASSANDRA_LOCAL_DC=datacenter1
$(cassandra_credentials | sed -e 's/^IM_CASSANDRA_ADMIN_PASS=\(.*\)/CASSANDRA_USERNAME=im_infra_admin\nexport CASSANDRA_PASSWORD=\1/' -e 's/^/export /')
export NATS_URL=nats://127.0.0.1:$NATS_PORT
export NATS_USER=im-infra-admin
$(nats_credentials | sed -e 's/^IM_NATS_ADMIN_PASS=/NATS_PASS=/' -e 's/^/export /')
export OPENSEARCH_URL=http://127.0.0.1:$OPENSEARCH_PORT
export S3_ENDPOINT=http://127.0.0.1:$S3_PORT
export S3_REGION=us-east-1
$(s3_credentials | sed 's/^/export /')
EOF
}

stop_one() {
  local name=$1 pid i
  pid=$(our_pid "$name") || { rm -f "$RUN/$name/pid"; return 0; }
  log "stopping $name (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name did not stop in 30s, killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$RUN/$name/pid"
}

kill_one() {
  local name=$1 pid
  pid=$(our_pid "$name") || die "$name is not running"
  log "killing $name (pid $pid) with SIGKILL"
  kill -KILL "$pid"
  # A JVM's main thread turns zombie while its other threads still hold the sockets: wait until
  # the process is gone or its ports are closed.
  local port open deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
    open=0
    for port in $(ports_of "$name"); do port_open "$port" && open=1; done
    [ $open = 0 ] && break
    sleep 0.1
  done
  rm -f "$RUN/$name/pid"
}

up() {
  install_all
  mkdir -p "$RUN"
  start_nats
  start_s3
  local pids=() failed=0
  start_kafka &
  pids+=($!)
  start_cassandra &
  pids+=($!)
  start_opensearch &
  pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ $failed -eq 0 ] || die "infrastructure did not come up (see above)"
  write_env
  log "ready; endpoints in $RUN/env"
}

status() {
  local rc=0 n
  for n in nats kafka cassandra opensearch s3; do
    if pid=$(our_pid "$n"); then
      printf '%-10s running  pid %s\n' "$n" "$pid"
    else
      printf '%-10s stopped\n' "$n"
      rc=3
    fi
  done
  # the passwords stay in the file
  [ -f "$RUN/env" ] && sed -E -e 's/^export /  /' -e 's/^(  [A-Z0-9_]*(PASS|PASSWORD|SECRET[A-Z_]*)[A-Z_0-9]*=).*/\1…/' "$RUN/env"
  return $rc
}

logs() {
  local which=${1:-all} follow=${2:-}
  local files=()
  if [ "$which" = all ]; then files=("$RUN"/{nats,kafka,cassandra,opensearch,s3}/out.log); else files=("$RUN/$which/out.log"); fi
  if [ "$follow" = -f ]; then tail -n 50 -F "${files[@]}"; else tail -n 50 "${files[@]}"; fi
}

case "${1:-}" in
  up) up ;;
  down) for n in s3 opensearch cassandra kafka nats; do stop_one "$n"; done ;;
  status) status ;;
  logs) logs "${2:-all}" "${3:-}" ;;
  reset)
    for n in s3 opensearch cassandra kafka nats; do stop_one "$n"; done
    rm -rf "$RUN"
    log "data removed"
    ;;
  install) install_all ;;
  start) # one component, e.g. after a fault test killed it
    case "${2:-}" in
      nats | kafka | cassandra | opensearch | s3) install_all && mkdir -p "$RUN" && "start_$2" ;;
      *) die "usage: $0 start nats|kafka|cassandra|opensearch|s3" ;;
    esac
    ;;
  stop) # one component, gracefully
    case "${2:-}" in
      nats | kafka | cassandra | opensearch | s3) stop_one "$2" ;;
      *) die "usage: $0 stop nats|kafka|cassandra|opensearch|s3" ;;
    esac
    ;;
  kill) # one component with SIGKILL, as a crash would (fault tests)
    case "${2:-}" in
      nats | kafka | cassandra | opensearch | s3) kill_one "$2" ;;
      *) die "usage: $0 kill nats|kafka|cassandra|opensearch|s3" ;;
    esac
    ;;
  env) write_env && cat "$RUN/env" ;;
  *)
    sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
