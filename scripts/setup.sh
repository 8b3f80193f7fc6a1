#!/usr/bin/env bash
# Installs everything the MCU needs on Debian 12, idempotently: Debian packages only when one is
# missing, npm packages only when their lock file changed. Run as root (or with sudo available).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config ccache git ca-certificates
  # libraries
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev libsrtp2-dev libboost-dev libboost-system-dev nlohmann-json3-dev libssl-dev
  libgtest-dev libsqlite3-dev
  # GStreamer plugins the mixer uses (checked again at server start)
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-nice gstreamer1.0-tools
  gstreamer1.0-x gstreamer1.0-gl
  # fonts with Vietnamese coverage for the tile labels
  fonts-dejavu-core
  # tools: certificates, network namespaces for tests, the browser for end-to-end tests
  openssl iproute2 util-linux procps chromium
  # promtool, which checks /metrics and configs/prometheus/ in the integration tests
  prometheus
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js may come from elsewhere than Debian (its npm then conflicts with Debian's): only the
# commands matter.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Browser test driver (playwright-core drives Debian's /usr/bin/chromium; never downloads one).
browser="$root/tests/browser"
stamp="$browser/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$browser/package-lock.json" -nt "$stamp" ]; then
  echo "setup: installing npm packages for the browser tests"
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Third-party code the web client serves itself (the monitor's charts: uPlot), so the pages need
# nothing from the network: installed from web-client/package-lock.json, copied into
# web-client/vendor/ (git-ignored) only when it differs.
web="$root/web-client"
stamp="$web/node_modules/.package-lock.json"
if [ ! -f "$stamp" ] || [ "$web/package-lock.json" -nt "$stamp" ]; then
  echo "setup: installing npm packages the web client vendors"
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error)
fi
mkdir -p "$web/vendor/uplot"
for f in dist/uPlot.esm.js dist/uPlot.min.css LICENSE; do
  src="$web/node_modules/uplot/$f"
  dst="$web/vendor/uplot/${f##*/}"
  cmp -s "$src" "$dst" || cp "$src" "$dst"
done
echo "setup: ok"
