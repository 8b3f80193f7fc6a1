#!/bin/sh
# Runs the end-to-end browser tests against the real server.
#   MCU_SERVER_BIN  path of the mcu-server binary (required)
#   MCU_ROOT        repository root (default: two levels up from here)
# Run inside a private network namespace so WebRTC stays on loopback, e.g.
#   unshare -n sh -c 'ip link set lo up; MCU_SERVER_BIN=build/mcu/server/mcu-server tests/browser/run.sh'
# Screenshots go to $MCU_SCREENSHOT_DIR (default /tmp).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
: "${MCU_SERVER_BIN:?set MCU_SERVER_BIN to the mcu-server binary}"
MCU_ROOT=${MCU_ROOT:-$(cd "$here/../.." && pwd)}
case $MCU_SERVER_BIN in /*) ;; *) MCU_SERVER_BIN=$(pwd)/$MCU_SERVER_BIN ;; esac
export MCU_SERVER_BIN MCU_ROOT
if [ ! -x "$MCU_SERVER_BIN" ]; then
  echo "run.sh: $MCU_SERVER_BIN is not an executable" >&2
  exit 2
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "run.sh: playwright-core is missing: run 'npm ci' in $here (needs the npm registry)" >&2
  exit 2
fi
cd "$here"
# One test file at a time: each starts its own server and browser. Node 18 lacks the flag (and
# would reject it), so probe for it.
concurrency=--test-concurrency=1
node $concurrency -e 0 2>/dev/null || concurrency=
exec node --test $concurrency ./*.test.mjs
