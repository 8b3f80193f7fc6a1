#!/usr/bin/env bash
# Many sites on one node: server CPU (core-seconds per second) and RSS of mcu-server with 10, 25,
# 50 and 100 sites in one meeting (bench/mcu-loadgen: one process, shared pre-encoded media), a
# least-squares fit of fixed and per-site cost with the capacity it predicts, latency measured by
# content (a probe site's flashes and clicks found by a decoding site) end to end and as added by
# the mixer alone, the time from join to first composite frame, and the video bitrate per rung.
#
#   bench/sites.sh [--quick] [--sites "10 25 50 100"] [--settle S] [--window S] [--trials T]
#                  [--join-trials J] [--decode-sites K] [--audio-jitter MS] [--video-jitter MS]
#                  [--scene moving|still] [--dtx on|off] [--receive light|full] [--stagger MS]
#
# --scene: what every site's camera shows: "moving" (default), a scrolling test pattern (every
# macroblock changes every frame: the encoders' worst case), or "still", a still picture with one
# small moving ball, closer to a meeting room's camera; the rungs' bitrates differ most.
# --dtx: whether the silent sites honour the server's usedtx=1 as browsers do (default on: a
# packet every 400 ms) or send fifty audio packets a second anyway (off, the cost before DTX).
# --stagger: ms between two sites' joins (default 50; 100 sites need ~200 on this machine, or the
# last joiners' answers miss the server's 15 s answer timeout).
# --receive: how the sites that decode nothing take what they receive: "light" (default here)
# counts it from the clear RTP headers at the socket and drops it (a cheaper generator: more
# sites fit beside the server; on loopback nothing is lost, so no rung choice is missed), "full"
# through SRTP, rtpbin and a fakesink, as a browser (mcu-loadgen's own default).
# --audio-jitter/--video-jitter set the server's audio.jitterBufferMs/video.jitterBufferMs (how
# long the mixes and the composite wait for late packets); default: the server's own defaults.
#
# Every N gets a fresh server. A run that fails (the server cannot hold N sites, the generator
# times out) is printed as failed and left out of the fit; the script carries on.
#
# Env: MCU_BUILD = build directory holding mcu/server/mcu-server and bench/mcu-loadgen
# (default: <repo>/build); MCU_BENCH_KEEP = a directory that gets the server's and the generator's
# logs (with GST_DEBUG, say) instead of their being removed. Needs root: it re-runs itself in a
# private network namespace (unshare -n, only `lo` up) so that no packet leaves the machine.
# Figures, never pass/fail
# (CONVENTIONS rule 17).
set -euo pipefail
# set -e ends the script at the first failing command: say where, or a sweep just stops.
trap 'echo "${ME:-sites.sh}: stopped by a failing command at line $LINENO" >&2' ERR
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${MCU_BUILD:-$REPO/build}
SITES="10 25 50 100"
SETTLE=5    # seconds after every site receives the composite, before measuring
WINDOW=30   # seconds of measurement per run
IDLE=3      # seconds of the idle baseline before each run
TRIALS=20   # flashes and clicks per run (one per 1.5 s, from the end of the ramp)
JOINS=3     # join-to-first-frame trials per run, after the window
DECODE=0    # sites besides the detector that decode what they receive
STAGGER=50  # ms between two sites' joins
AUDIO_JITTER=""  # audio.jitterBufferMs for the server; empty: its default
VIDEO_JITTER=""
SCENE=moving
DTX=on
RECEIVE=light
ARGS=("$@")

usage() { sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --quick) SETTLE=2; WINDOW=9; IDLE=1; TRIALS=6; JOINS=2 ;;
    --sites) SITES=$2; shift ;;
    --settle) SETTLE=$2; shift ;;
    --window) WINDOW=$2; shift ;;
    --trials) TRIALS=$2; shift ;;
    --join-trials) JOINS=$2; shift ;;
    --decode-sites) DECODE=$2; shift ;;
    --audio-jitter) AUDIO_JITTER=$2; shift ;;
    --video-jitter) VIDEO_JITTER=$2; shift ;;
    --scene) SCENE=$2; shift ;;
    --dtx) DTX=$2; shift ;;
    --receive) RECEIVE=$2; shift ;;
    --stagger) STAGGER=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done

bench_init "${BASH_SOURCE[0]}" mcu-sites "${ARGS[@]}"

# 0 once the server is gone: a failed run still prints what it can.
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# The server's per-rung encoded-bytes counters, "rung<TAB>bytes" (nothing if it has none).
# A busy server may answer late: a failed read leaves the figures out instead of ending the script
# (set -e with pipefail ended it silently mid-run at 50 sites).
rung_bytes() {
  { curl -sk --max-time 10 "https://127.0.0.1:$PORT/metrics" 2>/dev/null || true; } |
    sed -n 's/^mcu_video_encoded_bytes_total{.*rung="\([^"]*\)".*} \([0-9.e+]*\)$/\1\t\2/p' |
    awk -F'\t' '{ sum[$1] += $2 } END { for (r in sum) printf "%s\t%.0f\n", r, sum[r] }' | sort
}

# ------------------------------------------------------------------ the server
VIDEO_KEYS=${VIDEO_JITTER:+\"jitterBufferMs\": $VIDEO_JITTER}
AUDIO_KEYS=${AUDIO_JITTER:+\"jitterBufferMs\": $AUDIO_JITTER}
cat >"$WORK/bench.json" <<EOF
// Written by bench/sites.sh: the embedded video defaults, on loopback only, room for 200 sites.
{
  "server": {"bind": "127.0.0.1", "port": 0, "stateDir": "$WORK/state",
             "webRoot": "$REPO/web-client"},
  "ice": {"addresses": ["127.0.0.1"]},
  "limits": {"maxRoomsPerMeeting": 200},
  "video": {$VIDEO_KEYS},
  "audio": {$AUDIO_KEYS},
  "meetings": [{"code": "demo", "title": "bench", "open": true}]
}
EOF

echo "mcu-server: $SERVER ($(nproc) cores, $(uname -r))"
echo "sites send: one shared 320x180 @ 15 fps VP8 ~250 kbps stream + Opus silence (one encoder" \
  "each for the whole generator); site 1 a probe (black/white flashes, a 440 Hz tone that clicks)," \
  "site 2 decodes and detects them; $DECODE more decode; the rest count packets only"
echo "runs: sites=[$SITES] settle=${SETTLE}s window=${WINDOW}s trials=$TRIALS joins=$JOINS" \
  "jitterBufferMs audio=${AUDIO_JITTER:-default} video=${VIDEO_JITTER:-default} scene=$SCENE dtx=$DTX receive=$RECEIVE"
echo "load average at start: $(loadavg)"
echo

RESULTS=$WORK/results.tsv
: >"$RESULTS"

# Starts the sites and waits until they all receive the composite; false if the generator gave up.
start_sites() {
  local n=$1 log=$2
  "$LOADGEN" --port "$PORT" --rooms "$n" --meeting demo --seconds 0 \
    --ready-timeout $((60 + n)) --stagger "$STAGGER" --latency-trials "$TRIALS" \
    --join-trials "$JOINS" --decode-sites "$DECODE" --scene "$SCENE" --dtx "$DTX" --receive "$RECEIVE" --until-marked >"$log" 2>&1 &
  LOADGEN_PID=$!
  until grep -q "rooms receive the composite" "$log"; do
    if ! kill -0 "$LOADGEN_PID" 2>/dev/null; then
      wait "$LOADGEN_PID" || true
      LOADGEN_PID=""
      echo "$n sites: FAILED, mcu-loadgen gave up (run not counted); server RSS" \
        "$(calc "%.1f" "$(rss_kib "$SERVER_PID") / 1024") MiB, load $(loadavg):"
      grep -m3 -E 'timed out|failed|error' "$log" | sed 's/^/    /'
      grep '^  ' "$log" | head -3 | sed 's/^/    /'
      grep 'summary' "$log" | sed 's/^/    /'
      return 1
    fi
    sleep 0.2
  done
}

run_sites() {
  local n=$1 log=$WORK/loadgen-$1.log
  start_server
  sleep 1
  server_cpu_over "$IDLE" >/dev/null
  local idle_rss
  idle_rss=$(rss_kib "$SERVER_PID")
  if start_sites "$n" "$log"; then
    sleep "$SETTLE"
    measure "$n" "$log" "$idle_rss"
  fi
  stop_server
}

# The generator ends its hold at the second mark once its latency trials are done, then runs
# the join trials and reports; give it time for both.
wait_loadgen() {
  local log=$1
  for _ in $(seq 1 $((10 * (60 + 20 * JOINS)))); do
    kill -0 "$LOADGEN_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -INT "$LOADGEN_PID" 2>/dev/null || true
  wait "$LOADGEN_PID" || echo "  (mcu-loadgen exited with status $?: $(grep -m1 failed "$log"))"
  LOADGEN_PID=""
}

field() { sed -n "s/.*$1 .*$2=\([0-9.]*\).*/\1/p" "$3" | head -1; }

measure() {
  local n=$1 log=$2 idle_rss=$3
  local t0 s0 g0 b0 t1 s1 g1 b1 peak=0 rss end
  kill -USR1 "$LOADGEN_PID"
  thread_snapshot "$SERVER_PID" >"$WORK/threads0"
  rung_bytes >"$WORK/rungs0"
  t0=$(now); s0=$(ticks "$SERVER_PID"); g0=$(ticks "$LOADGEN_PID"); b0=$(busy_ticks)
  end=$(calc "%.3f" "$t0 + $WINDOW")
  while awk "BEGIN { exit !($(now) < $end) }"; do
    rss=$(rss_kib "$SERVER_PID")
    ((rss > peak)) && peak=$rss
    sleep 0.5
  done
  t1=$(now); s1=$(ticks "$SERVER_PID"); g1=$(ticks "$LOADGEN_PID"); b1=$(busy_ticks)
  thread_snapshot "$SERVER_PID" >"$WORK/threads1"
  rung_bytes >"$WORK/rungs1"
  local load threads
  load=$(loadavg)
  threads=$(ls "/proc/$SERVER_PID/task" | wc -l)
  rss=$(rss_kib "$SERVER_PID")
  ((rss > peak)) && peak=$rss
  kill -USR1 "$LOADGEN_PID"
  wait_loadgen "$log"

  local secs cpu lg busy other fps vk vmin vmax
  secs=$(calc "%.3f" "$t1 - $t0")
  cpu=$(calc "%.4f" "($s1 - $s0) / $HZ / $secs")
  lg=$(calc "%.4f" "($g1 - $g0) / $HZ / $secs")
  busy=$(calc "%.4f" "($b1 - $b0) / $HZ / $secs")
  other=$(calc "%.3f" "$busy - $cpu - $lg")
  fps=$(field summary min_fps "$log")
  vk=$(field summary video_kbps_mean "$log")
  vmin=$(field summary video_kbps_min "$log")
  vmax=$(field summary video_kbps_max "$log")
  local lat vn v50 v95 an a50 a95 ext join j50 jmax
  lat=$(grep -m1 "mcu-loadgen: latency" "$log" || true)
  vn=$(sed -n 's/.*video n=\([0-9]*\/[0-9]*\).*/\1/p' <<<"$lat")
  v50=$(sed -n 's/.*video n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\1/p' <<<"$lat")
  v95=$(sed -n 's/.*video n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\2/p' <<<"$lat")
  an=$(sed -n 's/.*audio n=\([0-9]*\/[0-9]*\).*/\1/p' <<<"$lat")
  a50=$(sed -n 's/.*audio n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\1/p' <<<"$lat")
  a95=$(sed -n 's/.*audio n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\2/p' <<<"$lat")
  ext=$(sed -n 's/.*audio_level_ext=\([a-z-]*\).*/\1/p' <<<"$lat")
  local mix mv50 mv95 mvn ma50 ma95 man
  mix=$(grep -m1 "mcu-loadgen: mixer-latency" "$log" || true)
  mvn=$(sed -n 's/.*video n=\([0-9]*\/[0-9]*\).*/\1/p' <<<"$mix")
  mv50=$(sed -n 's/.*video n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\1/p' <<<"$mix")
  mv95=$(sed -n 's/.*video n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\2/p' <<<"$mix")
  man=$(sed -n 's/.*audio n=\([0-9]*\/[0-9]*\).*/\1/p' <<<"$mix")
  ma50=$(sed -n 's/.*audio n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\1/p' <<<"$mix")
  ma95=$(sed -n 's/.*audio n=[^ ]* p50_ms=\([0-9-]*\) p95_ms=\([0-9-]*\).*/\2/p' <<<"$mix")
  join=$(grep -m1 "join-to-first-frame" "$log" || true)
  j50=$(sed -n 's/.*p50_ms=\([0-9-]*\).*/\1/p' <<<"$join")
  jmax=$(sed -n 's/.*max_ms=\([0-9-]*\).*/\1/p' <<<"$join")

  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$n" "$cpu" "$rss" "$peak" "$lg" "$other" "${fps:-0}" "${vk:-0}" "${v50:--}" "${v95:--}" \
    "${a50:--}" "${a95:--}" "${j50:--}" "${jmax:--}" "${vn:-0/0}" "${an:-0/0}" "${mv50:--}" \
    "${mv95:--}" "${ma50:--}" "${ma95:--}" >>"$RESULTS"
  printf '%d sites: server %.3f core-s/s, RSS %.1f MiB (peak %.1f, idle %.1f), %d threads;' "$n" \
    "$cpu" "$(calc "%.2f" "$rss / 1024")" "$(calc "%.2f" "$peak / 1024")" \
    "$(calc "%.2f" "$idle_rss / 1024")" "$threads"
  printf ' composite >= %s fps, %s sites without audio; loadgen %.3f, rest of machine %.3f' \
    "${fps:-?}" "$(field summary no_audio "$log")" "$lg" "$other"
  printf ' core-s/s; load %s\n' "$load"
  printf '  latency (probe -> server -> decoding site): video p50 %s p95 %s ms (%s found),' \
    "${v50:--}" "${v95:--}" "${vn:-0/0}"
  printf ' audio p50 %s p95 %s ms (%s found; audio-level extension %s)\n' "${a50:--}" \
    "${a95:--}" "${an:-0/0}" "${ext:-?}"
  printf '  mixer-added (probe encoder out -> detector RTP in): video p50 %s p95 %s ms (%s),' \
    "${mv50:--}" "${mv95:--}" "${mvn:-0/0}"
  printf ' audio p50 %s p95 %s ms (%s)\n' "${ma50:--}" "${ma95:--}" "${man:-0/0}"
  printf '  join to first composite frame: p50 %s ms, max %s ms (%s)\n' "${j50:--}" \
    "${jmax:--}" "$(sed -n 's/.*\(n=[0-9]* failed=[0-9]*\).*/\1/p' <<<"$join")"
  if [[ -s $WORK/rungs1 ]]; then
    echo "  encoded video per rung (server counter mcu_video_encoded_bytes_total; a decoding site" \
      "got $(field summary keyframes_decoded "$log") keyframes in the ${secs}s window):"
    join -t $'\t' "$WORK/rungs0" "$WORK/rungs1" |
      awk -F'\t' -v s="$secs" '{ printf "    %-10s %7.0f kb/s\n", $1, ($3 - $2) * 8 / s / 1000 }'
  else
    printf '  received video per site (RTP on the video m-line): mean %s kb/s (min %s, max %s);' \
      "${vk:-?}" "${vmin:-?}" "${vmax:-?}"
    echo " the server has no per-rung counter (mcu_video_encoded_bytes_total) yet"
  fi
  echo "  busiest server threads (core-s/s):"
  thread_report "$WORK/threads0" "$WORK/threads1" "$secs" 10 4
}

for n in $SITES; do run_sites "$n"; done

# ------------------------------------------------------------------ summary
echo
echo "load average at end: $(loadavg)"
echo
awk -F'\t' '
  {
    n[NR] = $1; cpu[NR] = $2; rss[NR] = $3 / 1024
    printf "| %d | %.3f | %.1f | %.1f | %s | %.0f | %s / %s (%s) | %s / %s | %s / %s (%s) | %s / %s | %s / %s | %.3f | %.2f |\n",
           $1, $2, $3 / 1024, $4 / 1024, $7, $8, $9, $10, $15, $17, $18, $11, $12, $16, $19, $20,
           $13, $14, $5, $6
  }
  BEGIN {
    print "| sites | server CPU (core-s/s) | RSS MiB | peak RSS MiB | composite fps (min site) |" \
          " video kb/s per site | video latency p50 / p95 ms (found) | mixer-added video p50 / p95" \
          " | audio latency p50 / p95 ms (found) | mixer-added audio p50 / p95 |" \
          " join to first frame p50 / max ms | loadgen CPU | rest of machine |"
    print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  }
  END {
    if (NR == 0) { print "no run completed"; exit 1 }
    if (NR < 2) { print "\n(one run: no fit)"; exit 0 }
    sx = sy = sxx = sxy = sr = sxr = 0
    for (i = 1; i <= NR; i++) {
      sx += n[i]; sy += cpu[i]; sxx += n[i] * n[i]; sxy += n[i] * cpu[i]
      sr += rss[i]; sxr += n[i] * rss[i]
    }
    d = NR * sxx - sx * sx
    b = (NR * sxy - sx * sy) / d; a = (sy - b * sx) / NR
    rb = (NR * sxr - sx * sr) / d; ra = (sr - rb * sx) / NR
    printf "\nleast-squares fit over %d runs: server CPU = %.3f + %.5f x sites (core-s/s)\n", NR, a, b
    printf "  fixed cost %.1f %% of a core, per-site cost %.2f %% of a core\n", 100 * a, 100 * b
    if (b > 0) printf "  capacity at 80 %% of 2 cores: (1.6 - %.3f) / %.5f = %.0f sites\n", a, b, (1.6 - a) / b
    printf "  RSS = %.1f MiB + %.2f MiB x sites\n", ra, rb
    print "(CPU = utime+stime of every server thread / wall time; failed runs are not in the fit)"
  }' "$RESULTS"
