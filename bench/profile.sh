#!/usr/bin/env bash
# Where the server's time goes with N sites: perf samples the running mcu-server (self time)
# while bench/mcu-loadgen holds N sites in `demo`, then prints the busiest shared objects and
# symbols, and the symbols under each kind of server thread (per-viewer send, receive, encode).
#
#   bench/profile.sh [--sites N] [--seconds S] [--scene moving|still] [--call-graph] [--out DIR]
#
# --call-graph records DWARF call chains too (larger perf.data; `perf report -g caller` on it).
# Env: MCU_BUILD as for sites.sh. Needs root and perf (Debian: linux-perf). The raw perf.data
# stays in DIR (default a temporary directory, removed) for `perf report -i DIR/perf.data`.
# Figures, never pass/fail.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MCU_BUILD:-$REPO/build}
SITES=20
SECONDS_=15
OUT=""
SCENE=moving
CALLGRAPH=()
ARGS=("$@")
while [[ $# -gt 0 ]]; do
  case $1 in
    --sites) SITES=$2; shift ;;
    --seconds) SECONDS_=$2; shift ;;
    --out) OUT=$2; shift ;;
    --scene) SCENE=$2; shift ;;
    --call-graph) CALLGRAPH=(--call-graph dwarf,16384) ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
  esac
  shift
done
command -v perf >/dev/null || { echo "profile.sh: perf is not installed (apt-get install linux-perf)" >&2; exit 1; }

bench_init "${BASH_SOURCE[0]}" mcu-profile "${ARGS[@]}"
[[ -n $OUT ]] || OUT=$WORK
mkdir -p "$OUT"

cat >"$WORK/bench.json" <<JSON
{
  "server": {"bind": "127.0.0.1", "port": 0, "stateDir": "$WORK/state",
             "webRoot": "$REPO/web-client"},
  "ice": {"addresses": ["127.0.0.1"]},
  "limits": {"maxRoomsPerMeeting": 200},
  "meetings": [{"code": "demo", "title": "bench", "open": true}]
}
JSON

start_server
"$LOADGEN" --port "$PORT" --rooms "$SITES" --meeting demo --seconds 0 \
  --ready-timeout $((60 + SITES)) --stagger 50 --scene "$SCENE" --receive light >"$WORK/loadgen.log" 2>&1 &
LOADGEN_PID=$!
until grep -q "rooms receive the composite" "$WORK/loadgen.log"; do
  kill -0 "$LOADGEN_PID" 2>/dev/null || { cat "$WORK/loadgen.log" >&2; exit 1; }
  sleep 0.2
done
sleep 3
cpu=$(server_cpu_over 3)
echo "$SITES sites: server $cpu core-s/s before sampling; perf for ${SECONDS_}s"
perf record -q -F 499 "${CALLGRAPH[@]}" -p "$SERVER_PID" -o "$OUT/perf.data" -- sleep "$SECONDS_" >/dev/null 2>&1
set +o pipefail  # head closes the reports early
echo
echo "== by shared object (self time)"
perf report -i "$OUT/perf.data" --no-children --sort dso --stdio -g none 2>/dev/null |
  grep -v '^#' | grep -v '^$' | head -20
echo
echo "== by symbol (self time)"
perf report -i "$OUT/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
  grep -v '^#' | grep -v '^$' | head -45
echo
echo "== by thread kind (self time; digits folded, so p3-webrtc and p7-webrtc are one kind)"
perf report -i "$OUT/perf.data" --no-children --sort comm --stdio -g none 2>/dev/null |
  grep -v '^#' | grep -v '^$' |
  awk '{ p = $1; sub(/%/, "", p); $1 = ""; name = $0; gsub(/[0-9]+/, "N", name)
         s[name] += p; n[name]++ }
       END { for (k in s) printf "%6.2f%%  x%-4d%s\n", s[k], n[k], k }' |
  sort -nr | head -20
