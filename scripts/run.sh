#!/usr/bin/env bash
# Sets up (if needed), builds and starts the MCU on its embedded defaults: HTTPS + WSS on port
# 8443 with a self-signed certificate kept in state/, the sample meeting "demo".
#   scripts/run.sh [--port N] [--config FILE]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
args=()
have_config=0
while (($#)); do
  case $1 in
    --port) args+=("$1" "$2"); shift 2 ;;
    # A site config names its own organisation tree (org.file); without one, the sample province.
    --config) args+=("$1" "$2"); have_config=1; shift 2 ;;
    -h|--help) sed -n 2,4p "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
"$root/scripts/setup.sh"
"$root/scripts/build.sh" mcu-server
mkdir -p "$root/state"
((have_config)) || args+=(--org-file "$root/configs/org/lao-cai.json")
exec "${MCU_BUILD_DIR:-$root/build}/mcu/server/mcu-server" --state-dir "$root/state" \
  --web-root "$root/web-client" "${args[@]}"
