# Sourced by the project's entry scripts. Makes Node 24 LTS the `node` on PATH (installing it from the
# npm registry into .cache/ when the machine's Node is older) and installs the workspace's packages
# when package-lock.json changed since the last install.
#
# The npm registry's `node` package is a thin wrapper whose install script fetches the per-platform
# package `node-<os>-<arch>`; we fetch that package directly, so no install script has to run.

IM_NODE_VERSION=24.21.0
IM_ROOT=${IM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
IM_CACHE=${IM_CACHE_DIR:-$IM_ROOT/.cache}

im_log() { printf '[bootstrap] %s\n' "$*" >&2; }

im_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

im_ensure_node() {
  local dir="$IM_CACHE/node-$IM_NODE_VERSION"
  if [ -x "$dir/bin/node" ]; then
    export PATH="$dir/bin:$PATH"
  elif [ "$(im_node_major)" -lt 24 ]; then
    local os arch
    os=$(uname -s | tr '[:upper:]' '[:lower:]')
    case "$(uname -m)" in
      x86_64) arch=x64 ;;
      aarch64 | arm64) arch=arm64 ;;
      *) im_log "unsupported CPU $(uname -m)" && return 1 ;;
    esac
    command -v npm >/dev/null || { im_log "npm not found: install any Node.js >= 18 with npm first"; return 1; }
    im_log "installing Node $IM_NODE_VERSION (node-$os-$arch from the npm registry) into $dir"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "node-$os-$arch@$IM_NODE_VERSION" >/dev/null) || { im_log "npm pack failed"; return 1; }
    mkdir -p "$dir" && tar -xzf "$tmp"/node-*.tgz -C "$dir" --strip-components=1 && rm -rf "$tmp"
    export PATH="$dir/bin:$PATH"
  fi
  hash -r
  [ "$(im_node_major)" -ge 24 ] || { im_log "node on PATH is $(node -v), expected >= 24"; return 1; }
}

im_ensure_packages() {
  local stamp="$IM_ROOT/node_modules/.im-lock-hash" want
  want=$( (cat "$IM_ROOT/package-lock.json"; node -v) | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
  im_log "installing packages (npm ci)"
  (cd "$IM_ROOT" && npm ci --no-fund --no-audit --loglevel=error) || { im_log "npm ci failed"; return 1; }
  echo "$want" >"$stamp"
}

# The browser tests drive Debian's chromium package (playwright cannot download browsers here).
# A Debian package the tests use (not the platform): installed with apt when missing, if we can.
im_ensure_apt_package() { # <binary> <package> <who needs it>
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    im_log "$1 missing and apt-get not usable here: install $2 ($3 will fail)"
    return 0
  fi
  im_log "installing $2 (apt)"
  { apt-get install -y -q --no-install-recommends "$2" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends "$2" >/dev/null 2>&1; }; } ||
    im_log "apt-get install $2 failed ($3 will fail)"
}

im_ensure_chromium() {
  [ -n "${CHROMIUM_PATH:-}" ] && return 0
  im_ensure_apt_package chromium chromium 'the browser tests'
}

# ClamAV's daemon for the malware-scanning tests (the platform itself does not need it)
im_ensure_clamd() {
  [ -n "${CLAMD_PATH:-}" ] && return 0
  PATH="$PATH:/usr/sbin" im_ensure_apt_package clamd clamav-daemon 'the malware-scanning tests'
}

im_bootstrap() {
  im_ensure_node && im_ensure_packages
}
