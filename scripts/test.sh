#!/usr/bin/env bash
# Sets up (if needed), builds, and runs every test tier: unit, integration, media, browser.
# Network tiers run in a private network namespace (only loopback exists there), so no test
# traffic can leave the machine. Prints one closing line: "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MCU_BUILD_DIR:-$root/build}

"$root/scripts/setup.sh" || exit 1
"$root/scripts/build.sh" || exit 1

in_netns() {
  unshare -n -- bash -c 'ip link set lo up && exec "$@"' _ "$@"
}

passed=0
failed=0
failures=()
tier() {
  local name=$1
  shift
  echo "=== $name"
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
}

ctest_tier() {
  ctest --test-dir "$build" -L "$1" --output-on-failure --timeout 600 --no-tests=error
}

tier unit ctest_tier unit
tier integration in_netns ctest --test-dir "$build" -L integration --output-on-failure \
  --timeout 600 --no-tests=error
tier media in_netns ctest --test-dir "$build" -L media --output-on-failure --timeout 600 \
  --no-tests=error
tier browser in_netns env MCU_SERVER_BIN="$build/mcu/server/mcu-server" MCU_ROOT="$root" \
  "$root/tests/browser/run.sh"

echo
if ((failed)); then echo "failed tiers: ${failures[*]}"; fi
echo "tiers: $passed passed, $failed failed"
((failed == 0))
