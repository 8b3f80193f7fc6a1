#!/usr/bin/env bash
# Configures (once) and builds everything into build/ with Ninja. Extra arguments are targets.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${MCU_BUILD_DIR:-$root/build}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j "${MCU_JOBS:-2}" "$@"
