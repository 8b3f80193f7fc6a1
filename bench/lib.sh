# Sourced by bench/rooms.sh and bench/sites.sh, which measure mcu-server the same way: in a
# private network namespace, one server at a time, its CPU and threads read from /proc.
# Expects REPO and BUILD; bench_init sets ME, SERVER, LOADGEN, WORK and HZ. rss_kib is each
# script's own: sites.sh reads 0 for a server that is gone, rooms.sh stops there.

# ------------------------------------------------------------------ private network namespace
# Re-runs the script (path $1, arguments after it) in a private network namespace with only `lo`
# up, so that no packet leaves the machine; then checks the binaries and makes the work directory
# (mktemp prefix $2), removed on exit with the server and generator still running.
bench_init() {
  local script=$1 prefix=$2
  shift 2
  ME=${script##*/}
  if [[ -z ${MCU_BENCH_NETNS:-} ]]; then
    if [[ $(id -u) -ne 0 ]]; then
      echo "$ME: needs root to run in a private network namespace (unshare -n)" >&2
      exit 1
    fi
    MCU_BENCH_NETNS=1 MCU_BUILD=$BUILD exec unshare -n bash "$script" "$@"
  fi
  ip link set lo up
  if [[ $(ip -o link show | wc -l) -ne 1 ]]; then
    echo "$ME: the network namespace has interfaces other than lo; refusing to run" >&2
    exit 1
  fi

  SERVER=$BUILD/mcu/server/mcu-server
  LOADGEN=$BUILD/bench/mcu-loadgen
  local bin
  for bin in "$SERVER" "$LOADGEN"; do
    [[ -x $bin ]] || { echo "$ME: $bin not built (ninja -C $BUILD mcu-server mcu-loadgen)" >&2; exit 1; }
  done

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/$prefix.XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  HZ=$(getconf CLK_TCK)
}

SERVER_PID=""
LOADGEN_PID=""
cleanup() {
  local pid
  for pid in $LOADGEN_PID $SERVER_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # MCU_BENCH_KEEP=DIR keeps the server's and the generator's logs (with GST_DEBUG, say).
  if [[ -n ${MCU_BENCH_KEEP:-} ]]; then
    mkdir -p "$MCU_BENCH_KEEP" && cp "$WORK"/*.log "$MCU_BENCH_KEEP"/ 2>/dev/null || true
  fi
  rm -rf "$WORK"
}

# ------------------------------------------------------------------ /proc readers
stat_ticks() {  # utime+stime from a /proc stat file, in clock ticks (0 if it is gone)
  local s f
  { s=$(<"$1"); } 2>/dev/null || { echo 0; return; }
  read -ra f <<<"${s##*) }"
  echo $((f[11] + f[12]))
}
ticks() { stat_ticks "/proc/$1/stat"; }  # a whole process, all its threads
busy_ticks() {  # the whole machine's busy time (all processes), in clock ticks
  awk '/^cpu / {print $2 + $3 + $4 + $7 + $8 + $9}' /proc/stat
}
now() { echo "$EPOCHREALTIME"; }
calc() { awk "BEGIN { printf \"$1\", $2 }"; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Per-thread CPU of the server, grouped by thread name with digits folded ("p3-in-video0" and
# "p5-in-video0" are one kind of work): the top consumers over a window.
thread_snapshot() {
  local t
  for t in /proc/"$1"/task/*; do
    printf '%s\t%s\t%s\n' "${t##*/}" "$(<"$t/comm")" "$(stat_ticks "$t/stat")"
  done 2>/dev/null
}
# The count column is as wide as the script's thread counts of one kind get.
thread_report() {  # before-file after-file seconds rows count-width
  awk -F'\t' -v hz="$HZ" -v secs="$3" -v w="$5" '
    NR == FNR { before[$1] = $3; next }
    { name = $2; gsub(/[0-9]+/, "N", name); name = substr(name, 1, 12)
      used[name] += $3 - before[$1]; n[name]++ }
    END { for (k in used) if (used[k] > 0)
            printf "    %-18s x%-" w "d %6.3f\n", k, n[k], used[k] / hz / secs }' "$1" "$2" |
    sort -k3 -nr | head -"$4"
}

# ------------------------------------------------------------------ the server
# Starts mcu-server on $WORK/bench.json, which the script writes, and waits for its port.
PORT=""
start_server() {
  "$SERVER" --config "$WORK/bench.json" --port 0 --state-dir "$WORK/state" \
    --org-file "$REPO/configs/org/lao-cai.json" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  PORT=""
  for _ in $(seq 1 300); do
    PORT=$(sed -n 's|.*listening on https://[^:]*:\([0-9]*\)/.*|\1|p' "$WORK/server.log" | head -1)
    [[ -n $PORT ]] && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$ME: mcu-server did not start:" >&2
  cat "$WORK/server.log" >&2
  exit 1
}
stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# CPU of the server over `secs` seconds (core-seconds per second).
server_cpu_over() {
  local t0 c0 t1 c1
  t0=$(now); c0=$(ticks "$SERVER_PID")
  sleep "$1"
  t1=$(now); c1=$(ticks "$SERVER_PID")
  calc "%.4f" "($c1 - $c0) / $HZ / ($t1 - $t0)"
}
