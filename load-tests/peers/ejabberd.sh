#!/usr/bin/env bash
# ejabberd 23.01 from Debian's package as the durable XMPP peer of the benchmarks: every message
# archived (MAM, mnesia), loopback only, its own node, config and data under .run/peers/ejabberd.
#
#   bash load-tests/peers/ejabberd.sh up       install (apt, needs root) if missing, start, wait until ready
#   bash load-tests/peers/ejabberd.sh down     stop it
#   bash load-tests/peers/ejabberd.sh status
#
# Ports: IM_EJABBERD_C2S_PORT (15222), IM_EJABBERD_HTTP_PORT (15280).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
DIR=${IM_RUN_DIR:-$ROOT/.run}/peers/ejabberd
C2S_PORT=${IM_EJABBERD_C2S_PORT:-15222}
HTTP_PORT=${IM_EJABBERD_HTTP_PORT:-15280}
NODE=im-bench-ejabberd@localhost

log() { printf '[ejabberd] %s\n' "$*" >&2; }
ctl() { ejabberdctl --node "$NODE" --config-dir "$DIR" --spool "$DIR/spool" --logs "$DIR/logs" "$@"; }

install() {
  command -v ejabberdctl >/dev/null && return 0
  log "installing Debian's ejabberd package"
  [ "$(id -u)" = 0 ] || { log "needs root (apt-get install ejabberd)"; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ejabberd >/dev/null
}

up() {
  install
  if ctl status >/dev/null 2>&1; then log "already running"; return 0; fi
  mkdir -p "$DIR/spool" "$DIR/logs"
  sed -e "s#__C2S_PORT__#$C2S_PORT#" -e "s#__HTTP_PORT__#$HTTP_PORT#" "$HERE/ejabberd/ejabberd.yml.tmpl" >"$DIR/ejabberd.yml"
  cp /etc/ejabberd/inetrc "$DIR/inetrc"
  # the Erlang cookie and the spool belong to the ejabberd user that ejabberdctl switches to
  chown -R ejabberd:ejabberd "$DIR"
  ctl start
  for _ in $(seq 1 60); do
    if ctl status >/dev/null 2>&1 && (exec 3<>"/dev/tcp/127.0.0.1/$C2S_PORT") 2>/dev/null; then
      log "ready: c2s 127.0.0.1:$C2S_PORT, api http://127.0.0.1:$HTTP_PORT/api"
      return 0
    fi
    sleep 1
  done
  tail -20 "$DIR/logs/ejabberd.log" >&2 || true
  log "not ready after 60 s"
  exit 1
}

case "${1:-}" in
  up) up ;;
  down) ctl stop >/dev/null 2>&1 || true; ctl stopped >/dev/null 2>&1 || true ;;
  status) ctl status ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
