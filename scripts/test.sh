#!/usr/bin/env bash
# The full test suite (what CI runs): installs Node 24 and the packages when needed, starts the
# local infrastructure when no endpoints are given, runs every phase and prints
# "N passed, N failed, N skipped". Extra arguments go to scripts/run-tests.mjs
# (e.g. --phase unit, --only message).
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib/bootstrap.sh
source scripts/lib/bootstrap.sh
if ! im_bootstrap; then
  echo "bootstrap failed (Node 24 or npm ci)"
  echo "0 passed, 1 failed"
  exit 1
fi
im_ensure_chromium
im_ensure_clamd
export NX_DAEMON=false NX_NO_CLOUD=true
exec node scripts/run-tests.mjs "$@"
