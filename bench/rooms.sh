#!/usr/bin/env bash
# Server CPU (core-seconds per second) and memory (RSS) of mcu-server with 2, 4 and 8 rooms in one
# meeting, the rooms played by bench/mcu-loadgen (headless WebRTC peers) over loopback.
#
#   bench/rooms.sh [--quick] [--rooms "2 4 8"] [--repeat R] [--settle S] [--window S]
#                  [--one-server]
#
# Every run gets a fresh server (so its RSS is that of N rooms, not of the runs before it) unless
# --one-server keeps one server for all runs, which shows what survives a meeting.
#
# Env: MCU_BUILD = build directory holding mcu/server/mcu-server and bench/mcu-loadgen
# (default: <repo>/build). Needs root: it re-runs itself in a private network namespace
# (unshare -n, only `lo` up) so that no packet leaves the machine.
#
# Only the server process is measured (utime+stime of all its threads from /proc/PID/stat over
# the window); the load generator's own CPU and the rest of the machine's are printed beside it
# so a noisy machine is visible. Figures, never pass/fail (CONVENTIONS rule 17).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MCU_BUILD:-$REPO/build}
ROOMS="2 4 8"
REPEAT=1
SETTLE=5   # seconds after every room receives the composite, before measuring
WINDOW=20  # seconds of measurement per run
IDLE=3     # seconds of the idle baseline before each run
ONE_SERVER=0
ARGS=("$@")

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) SETTLE=2; WINDOW=6; IDLE=1 ;;
    --one-server) ONE_SERVER=1 ;;
    --rooms) ROOMS=$2; shift ;;
    --repeat) REPEAT=$2; shift ;;
    --settle) SETTLE=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

bench_init "${BASH_SOURCE[0]}" mcu-bench "${ARGS[@]}"

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# ------------------------------------------------------------------ the server
cat >"$WORK/bench.json" <<EOF
// Written by bench/rooms.sh: the embedded video defaults, spelled out, on loopback only.
{
  "server": {"bind": "127.0.0.1", "port": 0, "stateDir": "$WORK/state",
             "webRoot": "$REPO/web-client"},
  "video": {"width": 1280, "height": 720, "fps": 25, "bitrateKbps": 1000,
            "keyframeIntervalMs": 3000, "vp8CpuUsed": 8},
  "audio": {"bitrateKbps": 32},
  "ice": {"addresses": ["127.0.0.1"]},
  "meetings": [{"code": "demo", "title": "bench", "open": true}]
}
EOF

# After the rooms leave the meeting's pipeline is torn down: wait until the server is idle again.
wait_server_idle() {
  local cpu
  for _ in $(seq 1 20); do
    cpu=$(server_cpu_over 1)
    if awk "BEGIN { exit !($cpu < 0.02) }"; then echo "$cpu"; return 0; fi
  done
  echo "$cpu"
  return 1
}

echo "mcu-server: $SERVER ($(nproc) cores, $(uname -r))"
echo "composite: 1280x720 @ 25 fps VP8 CBR 1000 kbps (embedded defaults)"
echo "rooms send: one shared 320x180 @ 15 fps VP8 ~250 kbps stream + Opus silence; they do not decode the composite"
echo "runs: rooms=[$ROOMS] repeat=$REPEAT settle=${SETTLE}s window=${WINDOW}s" \
  "server=$([[ $ONE_SERVER -eq 1 ]] && echo "one for all runs" || echo "fresh per run")"
echo "load average at start: $(loadavg)"
echo

RESULTS=$WORK/results.tsv
: >"$RESULTS"
IDLE_CPU=""
IDLE_RSS=""

# Starts the rooms and waits until they all receive the composite; false if the generator gave up.
start_rooms() {
  local n=$1 log=$2
  "$LOADGEN" --port "$PORT" --rooms "$n" --meeting demo --seconds 0 --ready-timeout 90 \
    >"$log" 2>&1 &
  LOADGEN_PID=$!
  until grep -q "rooms receive the composite" "$log"; do
    if ! kill -0 "$LOADGEN_PID" 2>/dev/null; then
      wait "$LOADGEN_PID" || true
      LOADGEN_PID=""
      echo "$n rooms: FAILED, mcu-loadgen gave up (run not counted):"
      sed 's/^/    /' "$log"
      return 1
    fi
    sleep 0.2
  done
}

# One measured run with N rooms; appends a line to $RESULTS.
run_rooms() {
  local n=$1 log=$WORK/loadgen-$1.log
  [[ $ONE_SERVER -eq 1 && -n $SERVER_PID ]] || start_server
  sleep 1
  local before_cpu before_rss
  before_cpu=$(server_cpu_over "$IDLE")
  before_rss=$(rss_kib "$SERVER_PID")
  [[ -n $IDLE_CPU ]] || { IDLE_CPU=$before_cpu; IDLE_RSS=$before_rss; }

  if start_rooms "$n" "$log"; then
    sleep "$SETTLE"
    measure "$n" "$log" "$before_rss"
  fi
  [[ $ONE_SERVER -eq 1 ]] || stop_server
}

measure() {
  local n=$1 log=$2 before_rss=$3
  local t0 s0 g0 b0 t1 s1 g1 b1 peak=0 rss end
  kill -USR1 "$LOADGEN_PID"
  thread_snapshot "$SERVER_PID" >"$WORK/threads0"
  t0=$(now); s0=$(ticks "$SERVER_PID"); g0=$(ticks "$LOADGEN_PID"); b0=$(busy_ticks)
  end=$(calc "%.3f" "$t0 + $WINDOW")
  while awk "BEGIN { exit !($(now) < $end) }"; do
    rss=$(rss_kib "$SERVER_PID")
    ((rss > peak)) && peak=$rss
    sleep 0.5
  done
  t1=$(now); s1=$(ticks "$SERVER_PID"); g1=$(ticks "$LOADGEN_PID"); b1=$(busy_ticks)
  thread_snapshot "$SERVER_PID" >"$WORK/threads1"
  kill -USR1 "$LOADGEN_PID"
  rss=$(rss_kib "$SERVER_PID")
  ((rss > peak)) && peak=$rss
  sleep 0.3

  kill -INT "$LOADGEN_PID"
  wait "$LOADGEN_PID" || echo "  (mcu-loadgen exited with status $?: $(grep -m1 failed "$log"))"
  LOADGEN_PID=""
  local fps mute secs cpu lg busy other after_cpu after_rss
  fps=$(sed -n 's/.*summary .*min_fps=\([0-9.]*\).*/\1/p' "$log")
  mute=$(sed -n 's/.*summary .*no_audio=\([0-9]*\).*/\1/p' "$log")
  secs=$(calc "%.3f" "$t1 - $t0")
  cpu=$(calc "%.4f" "($s1 - $s0) / $HZ / $secs")
  lg=$(calc "%.4f" "($g1 - $g0) / $HZ / $secs")
  busy=$(calc "%.4f" "($b1 - $b0) / $HZ / $secs")
  other=$(calc "%.3f" "$busy - $cpu - $lg")
  after_cpu=$(wait_server_idle) ||
    echo "  (server still busy, $after_cpu core-s/s, 20 s after the rooms left)"
  after_rss=$(rss_kib "$SERVER_PID")

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$cpu" "$rss" "$peak" \
    "$((after_rss - before_rss))" "${fps:-0}" "$lg" "$other" "${mute:-0}" >>"$RESULTS"
  printf '%d rooms: server %.3f core-s/s, RSS %.1f MiB (peak %.1f; %+.1f kept after they left);' \
    "$n" "$cpu" "$(calc "%.2f" "$rss / 1024")" "$(calc "%.2f" "$peak / 1024")" \
    "$(calc "%.2f" "($after_rss - $before_rss) / 1024")"
  printf ' composite >= %s fps, %s rooms without audio; loadgen %.3f, rest of machine %.3f' \
    "${fps:-?}" "${mute:-?}" "$lg" "$other"
  printf ' core-s/s; load %s\n' "$(loadavg)"
  echo "  busiest server threads (core-s/s):"
  thread_report "$WORK/threads0" "$WORK/threads1" "$secs" 8 3
}

for _ in $(seq 1 "$REPEAT"); do
  for n in $ROOMS; do run_rooms "$n"; done
done

# ------------------------------------------------------------------ summary (medians over rounds)
echo
echo "load average at end: $(loadavg)"
echo
awk -F'\t' -v idle_cpu="$IDLE_CPU" -v idle_rss="$IDLE_RSS" '
  function median(key,   i, j, t, m, v) {
    m = cnt[key]
    for (i = 1; i <= m; i++) v[i] = val[key, i]
    for (i = 2; i <= m; i++)
      for (j = i; j > 1 && v[j-1] > v[j]; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
    return m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
  }
  function maximum(key,   i, x) {
    x = val[key, 1]
    for (i = 2; i <= cnt[key]; i++) if (val[key, i] > x) x = val[key, i]
    return x
  }
  {
    if (!($1 in seen)) { seen[$1] = 1; order[++nr] = $1 }
    runs[$1]++
    for (f = 2; f <= 9; f++) { k = $1 SUBSEP f; val[k, ++cnt[k]] = $f }
  }
  END {
    if (nr == 0) { print "no run completed"; exit 1 }
    printf "| rooms | runs | server CPU (core-s/s) | vs %d rooms | marginal per added room |", order[1]
    print " RSS MiB (end / peak) | RSS kept after they left (MiB) | composite fps (min room) |" \
          " rooms without audio (worst run) | loadgen CPU | rest of machine |"
    print "|---|---|---|---|---|---|---|---|---|---|---|"
    printf "| 0 (idle) | — | %.3f | — | — | %.1f | — | — | — | — | — |\n", idle_cpu, idle_rss / 1024
    sx = sy = sxx = sxy = 0
    for (i = 1; i <= nr; i++) {
      n = order[i]
      cpu = median(n SUBSEP 2)
      if (i == 1) base = cpu
      marg = i == 1 ? "—" : sprintf("%.3f", (cpu - pcpu) / (n - pn))
      printf "| %d | %d | %.3f | %.2fx | %s | %.1f / %.1f | %+.1f | %.1f | %g | %.3f | %.2f |\n",
             n, runs[n], cpu, cpu / base, marg, median(n SUBSEP 3) / 1024,
             median(n SUBSEP 4) / 1024, median(n SUBSEP 5) / 1024, median(n SUBSEP 6),
             maximum(n SUBSEP 9), median(n SUBSEP 7), median(n SUBSEP 8)
      pcpu = cpu; pn = n
      sx += n; sy += cpu; sxx += n * n; sxy += n * cpu
    }
    if (nr >= 2) {
      b = (nr * sxy - sx * sy) / (nr * sxx - sx * sx)
      a = (sy - b * sx) / nr
      printf "\nleast-squares fit of the medians: server CPU = %.3f + %.4f x rooms (core-s/s)\n", a, b
    }
    print "(medians over the runs, worst run for audio; CPU = utime+stime of every server thread" \
          " / wall time)"
  }' "$RESULTS"
