#!/usr/bin/env bash
# run_runtime_bench.sh — Switchyard's runtime benchmarks, one fresh process per
# figure, optionally interleaved with the same programs in Go; prints a
# side-by-side table and keeps the raw lines.
#
#   tests/bench/run_runtime_bench.sh                     # 5 clean runs per figure, Go too
#   RUNS=7 WORKERS="1" BENCHES="pingpong yield" GO=0 tests/bench/run_runtime_bench.sh
#   BIN=/path/to/runtime_bench tests/bench/run_runtime_bench.sh   # skip the bazel build
#
# What runs: for every round, for every bench and worker count, one process of
# bazel-bin/tests/bench/runtime_bench --benchmark_filter='^BM_X/workers:N$'
# (one iteration = the whole 1M workload) and, with GO=1, right after it the Go
# program at GOMAXPROCS=N. Each process runs under /usr/bin/time, so peak RSS
# (maxrss) is per process, the same way for both sides, and the first
# iteration is a cold-process number as in the Go anchors.
#
#   bench      Switchyard            Go program                               figure
#   spawn      BM_SpawnJoin          $GO_ANCHORS/spawn.go                     ns per G
#   skynet     BM_Skynet             $GO_ANCHORS/skynet.go (-warm 0)          ms total (cold)
#   pingpong   BM_PingPong           $GO_ANCHORS/pingpong.go                  ns per round trip
#   yield      BM_Yield              $GO_ANCHORS/yield.go                     ns per switch
#   spawnlive  BM_SpawnLive          tests/bench/go/spawnlive.go              bytes per live G (and ns per G)
#
# Noise control, as /work/shared/bench/go-runtime/run_all.sh: before each run
# wait (at most QUIET_MAX s) until the machine is quiet; during the run measure
# the CPU used by other processes; a run is noisy if that exceeds
# max(NOISE_ABS, NOISE_FRAC * wall). Noisy runs are logged (noisy=1), left out
# of the table and retried: at most RUNS + MAX_RETRY rounds in total, and no
# new round starts after MAX_SECONDS (the quiet wait is cut to what is left of
# that budget too), so a busy machine cannot keep the script going for hours.
#
# Output: $OUT (default: a new file under ${TMPDIR:-/tmp}) holds the raw lines
# (one "RESULT impl=... bench=... procs=... key=value ..." per process) and the
# table; the table is also printed. Re-print a table: $0 --table RAWFILE
# (ALL=1 $0 --table RAWFILE: noisy runs included, for a look at a busy day).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

RUNS=${RUNS:-5}
WORKERS=${WORKERS:-"1 2"}
BENCHES=${BENCHES:-"spawn skynet pingpong yield spawnlive"}
GO=${GO:-1}
GO_ANCHORS=${GO_ANCHORS:-/work/shared/bench/go-runtime}
MAX_RETRY=${MAX_RETRY:-6}
QUIET=${QUIET:-1}
QUIET_MAX=${QUIET_MAX:-300}
QUIET_FRAC=${QUIET_FRAC:-0.10}
NOISE_FRAC=${NOISE_FRAC:-0.10}
NOISE_ABS=${NOISE_ABS:-0.10}
RUN_TIMEOUT=${RUN_TIMEOUT:-300}   # seconds; a hung process is killed and counted noisy
MAX_SECONDS=${MAX_SECONDS:-5400}  # overall budget for starting rounds
ALL=${ALL:-0}

# ---- the table, from raw lines ------------------------------------------------
table() {
  awk -v nf="$NOISE_FRAC" -v na="$NOISE_ABS" -v all="$ALL" '
    function kv(line, key,   i, n, a, p) {
      n = split(line, a, " ")
      for (i = 1; i <= n; i++) { p = index(a[i], "="); if (p && substr(a[i], 1, p-1) == key) return substr(a[i], p+1) }
      return ""
    }
    function med(arr, n,   a, x, c, t) {
      for (a = 2; a <= n; a++) { x = arr[a]; c = a-1; while (c > 0 && arr[c] > x) { arr[c+1] = arr[c]; c-- } arr[c+1] = x }
      return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
    }
    function add(k, v) { if (!(k in cnt)) cnt[k] = 0; cnt[k]++; val[k, cnt[k]] = v + 0 }
    function stat(k,   n, i, arr, m) {
      n = cnt[k]; if (n == 0) return ""
      for (i = 1; i <= n; i++) arr[i] = val[k, i]
      m = med(arr, n); smed[k] = m
      return sprintf(fmtv(m) " [" fmtv(arr[1]) "-" fmtv(arr[n]) "] n=%d", n)
    }
    function fmtv(x) { return (x >= 100) ? sprintf("%.0f", x) : sprintf("%.1f", x) }
    /^RESULT/ {
      if (kv($0, "noisy") == "1") { dropped++; if (!all) next }
      impl = kv($0, "impl"); b = kv($0, "bench"); p = kv($0, "procs")
      if (!((b, p) in seen)) { seen[b, p] = 1; order[++no] = b SUBSEP p }
      add(impl SUBSEP b SUBSEP p SUBSEP "fig", kv($0, "figure"))
      add(impl SUBSEP b SUBSEP p SUBSEP "rss", kv($0, "maxrss_mb"))
      if (b == "spawnlive") add(impl SUBSEP b SUBSEP p SUBSEP "ns", kv($0, "ns_per_g_live"))
      unit[b] = kv($0, "unit")
    }
    END {
      printf "%-10s %-2s %-15s %-34s %-34s %-6s %-28s %-28s\n", "bench", "P", "figure", "Switchyard median [min-max]", "Go median [min-max] (same run)", "SY/Go", "SY peak RSS MB", "Go peak RSS MB"
      for (j = 1; j <= no; j++) {
        split(order[j], f, SUBSEP); b = f[1]; p = f[2]
        s = stat("sy" SUBSEP b SUBSEP p SUBSEP "fig"); g = stat("go" SUBSEP b SUBSEP p SUBSEP "fig")
        r = ("sy" SUBSEP b SUBSEP p SUBSEP "fig" in smed && "go" SUBSEP b SUBSEP p SUBSEP "fig" in smed && smed["go" SUBSEP b SUBSEP p SUBSEP "fig"] != 0) ? sprintf("%.2f", smed["sy" SUBSEP b SUBSEP p SUBSEP "fig"] / smed["go" SUBSEP b SUBSEP p SUBSEP "fig"]) : "-"
        sr = stat("sy" SUBSEP b SUBSEP p SUBSEP "rss"); gr = stat("go" SUBSEP b SUBSEP p SUBSEP "rss")
        printf "%-10s %-2s %-15s %-34s %-34s %-6s %-28s %-28s\n", b, p, unit[b], s, (g == "" ? "-" : g), r, sr, (gr == "" ? "-" : gr)
        if (b == "spawnlive") {
          s = stat("sy" SUBSEP b SUBSEP p SUBSEP "ns"); g = stat("go" SUBSEP b SUBSEP p SUBSEP "ns")
          r = ("go" SUBSEP b SUBSEP p SUBSEP "ns" in smed && smed["go" SUBSEP b SUBSEP p SUBSEP "ns"] != 0) ? sprintf("%.2f", smed["sy" SUBSEP b SUBSEP p SUBSEP "ns"] / smed["go" SUBSEP b SUBSEP p SUBSEP "ns"]) : "-"
          printf "%-10s %-2s %-15s %-34s %-34s %-6s\n", b, p, "ns/G (live)", s, (g == "" ? "-" : g), r
        }
      }
      if (all) printf "(ALL=1: %d noisy runs INCLUDED)\n", dropped
      else printf "(%d noisy runs excluded: other_cpu_s > max(%.2f s, %.2f*wall))\n", dropped, na, nf
    }' "$1"
}

if [ "${1:-}" = "--table" ]; then table "${2:?usage: $0 --table RAWFILE}"; exit 0; fi

TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "need GNU time at /usr/bin/time (apt-get install time)" >&2; exit 1; }
if [ "$GO" = 1 ]; then
  command -v go >/dev/null || { echo "GO=1 needs go (apt-get install golang-go); or GO=0" >&2; exit 1; }
  [ -d "$GO_ANCHORS" ] || { echo "no Go anchors at $GO_ANCHORS (set GO_ANCHORS or GO=0)" >&2; exit 1; }
fi

if [ -z "${BIN:-}" ]; then
  (cd "$ROOT" && bazel build -c opt //tests/bench:runtime_bench >&2)
  BIN="$ROOT/bazel-bin/tests/bench/runtime_bench"
  SY_LABEL=${SY_LABEL:-"built from $(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo '?')$(cd "$ROOT" && git diff --quiet HEAD -- runtime 2>/dev/null || echo ' + uncommitted runtime/')"}
fi
SY_LABEL=${SY_LABEL:-"prebuilt binary (set SY_LABEL to say which commit)"}
[ -x "$BIN" ] || { echo "no benchmark binary at $BIN" >&2; exit 1; }

WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/runtime-bench.XXXXXX")
tf=$WORKDIR/time.txt
stamp=$(date +%Y%m%d-%H%M%S)
OUT=${OUT:-${TMPDIR:-/tmp}/runtime-bench-$stamp.txt}
: > "$OUT"

if [ "$GO" = 1 ]; then
  export GOCACHE=${GOCACHE:-/tmp/go-runtime-anchors-gocache}
  mkdir -p "$WORKDIR/bin"
  for b in $BENCHES; do
    case $b in
      spawnlive) src=$HERE/go/spawnlive.go ;;
      *) src=$GO_ANCHORS/$b.go ;;
    esac
    go build -o "$WORKDIR/bin/$b" "$src"
  done
fi

{
  echo "# $(date -Is) $(nproc) cpus; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); kernel $(uname -r); clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo '?')"
  echo "# switchyard: $BIN: $SY_LABEL"
  [ "$GO" = 1 ] && echo "# go: $(go version)"
  echo "# RUNS=$RUNS WORKERS=$WORKERS BENCHES=$BENCHES NOISE_FRAC=$NOISE_FRAC NOISE_ABS=$NOISE_ABS QUIET_MAX=$QUIET_MAX MAX_SECONDS=$MAX_SECONDS"
} | tee -a "$OUT" >&2

HZ=$(getconf CLK_TCK)
stat3() { awk '/^cpu /{print $2+$3+$4, $7+$8, $9}' /proc/stat; }
T0=$SECONDS
wait_quiet() {
  local t=0 a0 i0 a1 i1 max=$QUIET_MAX left
  left=$((MAX_SECONDS - (SECONDS - T0)))
  [ "$left" -lt "$max" ] && max=$left
  [ "$max" -le 0 ] && return 0
  while :; do
    read -r a0 i0 _ < <(stat3); sleep 1; read -r a1 i1 _ < <(stat3)
    if awk -v d=$((a1-a0+i1-i0)) -v hz="$HZ" -v f="$QUIET_FRAC" 'BEGIN{exit !(d/hz < f)}'; then return 0; fi
    t=$((t+1))
    if [ "$t" -ge "$max" ]; then echo "# warning: machine not quiet after ${max}s, running anyway" >&2; return 0; fi
  done
}

bm_name() {
  case $1 in
    spawn) echo BM_SpawnJoin ;; skynet) echo BM_Skynet ;; pingpong) echo BM_PingPong ;;
    yield) echo BM_Yield ;; spawnlive) echo BM_SpawnLive ;;
    *) echo "unknown bench $1" >&2; exit 1 ;;
  esac
}
unit_of() {
  case $1 in
    spawn) echo "ns/G" ;; skynet) echo "ms_total" ;; pingpong) echo "ns/roundtrip" ;;
    yield) echo "ns/switch" ;; spawnlive) echo "bytes/live_G" ;;
  esac
}

# Runs one process under /usr/bin/time with the noise accounting; prints
# "<its stdout>\n@@ maxrss_mb=.. user_s=.. ... noisy=0|1".
measured() {
  local a0 i0 s0 a1 i1 s1 out rc=0
  [ "$QUIET" = 1 ] && wait_quiet
  read -r a0 i0 s0 < <(stat3)
  out=$(timeout "$RUN_TIMEOUT" "$TIME" -o "$tf" -f 'maxrss_kb=%M user_s=%U sys_s=%S wall_s=%e' "$@") || rc=$?
  read -r a1 i1 s1 < <(stat3)
  printf '%s\n' "$out"
  tail -1 "$tf" | awk -v rc="$rc" -v da=$((a1-a0)) -v di=$((i1-i0)) -v ds=$((s1-s0)) -v hz="$HZ" -v nf="$NOISE_FRAC" -v na="$NOISE_ABS" '{
      for (i=1;i<=NF;i++) { split($i,kv,"="); v[kv[1]]=kv[2] }
      o = da/hz - (v["user_s"]+v["sys_s"]); if (o < 0) o = 0;
      noisy = (rc != 0 || (o > na && o > nf*v["wall_s"])) ? 1 : 0;
      printf "@@ maxrss_mb=%.1f user_s=%s sys_s=%s wall_s=%s other_cpu_s=%.2f softirq_s=%.2f steal_s=%.2f rc=%d noisy=%d\n",
             v["maxrss_kb"]/1024, v["user_s"], v["sys_s"], v["wall_s"], o, di/hz, ds/hz, rc, noisy }'
}

# One Switchyard process: CSV output, counters become key=value.
run_sy() {
  local b=$1 p=$2 try=$3 name out tm counters fig ns
  name=$(bm_name "$b")
  out=$(measured "$BIN" --benchmark_filter="^$name/workers:$p\$" --benchmark_format=csv 2>/dev/null)
  tm=$(printf '%s\n' "$out" | grep '^@@ ' | cut -c4-)
  counters=$(printf '%s\n' "$out" | awk -F, '
      /^name,/ { for (i=1;i<=NF;i++) { h=$i; gsub(/"/,"",h); col[i]=h } ; next }
      /^"BM_/  { s=""; for (i=11;i<=NF;i++) if ($i != "") s = s " " col[i] "=" $i; print s; exit }')
  fig=""
  case $b in
    skynet) fig=$(printf '%s\n' "$counters" | tr ' ' '\n' | awk -F= '$1=="ms_total"{print $2}') ;;
    spawnlive) fig=$(printf '%s\n' "$counters" | tr ' ' '\n' | awk -F= '$1=="bytes_per_live_g"{print $2}')
               ns=$(printf '%s\n' "$counters" | tr ' ' '\n' | awk -F= '$1=="ns_per_op"{print $2}')
               counters="$counters ns_per_g_live=$ns" ;;
    *) fig=$(printf '%s\n' "$counters" | tr ' ' '\n' | awk -F= '$1=="ns_per_op"{print $2}') ;;
  esac
  if [ -z "$fig" ]; then fig=0; tm="${tm/noisy=0/noisy=1}"; fi   # no result: failed run
  echo "RESULT impl=sy bench=$b procs=$p figure=$fig unit=$(unit_of "$b")$counters try=$try $tm"
}

# One Go process: its RESULT line, plus figure=.
run_go() {
  local b=$1 p=$2 try=$3 out tm res key fig ns args=()
  [ "$b" = skynet ] && args=(-warm 0)   # cold only, as one fresh process
  out=$(GOMAXPROCS=$p measured "$WORKDIR/bin/$b" "${args[@]}")
  tm=$(printf '%s\n' "$out" | grep '^@@ ' | cut -c4-)
  res=$(printf '%s\n' "$out" | grep '^RESULT' | head -1 | sed 's/^RESULT //; s/bench=[^ ]* //; s/procs=[^ ]* //')
  case $b in
    spawn) key=ns_per_g ;; skynet) key=cold_ms ;; pingpong) key=ns_per_rt ;;
    yield) key=ns_per_switch ;; spawnlive) key=bytes_per_live_g ;;
  esac
  fig=$(printf '%s\n' "$res" | tr ' ' '\n' | awk -F= -v k="$key" '$1==k{print $2}')
  if [ "$b" = spawnlive ]; then
    ns=$(printf '%s\n' "$res" | tr ' ' '\n' | awk -F= '$1=="ns_per_g"{print $2}')
    res="$res ns_per_g_live=$ns"
  fi
  if [ -z "$fig" ]; then fig=0; tm="${tm/noisy=0/noisy=1}"; fi
  echo "RESULT impl=go bench=$b procs=$p figure=$fig unit=$(unit_of "$b") $res try=$try $tm"
}

declare -A clean
impls=sy; [ "$GO" = 1 ] && impls="sy go"
for b in $BENCHES; do for p in $WORKERS; do for i in $impls; do clean[$i,$b,$p]=0; done; done; done

# Rounds, interleaved: in each round every (bench, P) that still lacks clean
# runs gets one Switchyard process and, right after it, one Go process.
for round in $(seq 1 $((RUNS + MAX_RETRY))); do
  if [ $((SECONDS - T0)) -ge "$MAX_SECONDS" ]; then
    echo "# time budget MAX_SECONDS=$MAX_SECONDS used up after $((round - 1)) rounds" | tee -a "$OUT" >&2
    break
  fi
  pending=0
  for b in $BENCHES; do
    for p in $WORKERS; do
      for i in $impls; do
        [ "${clean[$i,$b,$p]}" -ge "$RUNS" ] && continue
        pending=1
        line=$(run_$i "$b" "$p" "$round")
        echo "$line" | tee -a "$OUT" >&2
        case "$line" in *noisy=0*) clean[$i,$b,$p]=$((clean[$i,$b,$p]+1)) ;; esac
      done
    done
  done
  [ "$pending" = 0 ] && break
done
for b in $BENCHES; do for p in $WORKERS; do for i in $impls; do
  [ "${clean[$i,$b,$p]}" -lt "$RUNS" ] && echo "# warning: $i $b P=$p only ${clean[$i,$b,$p]} clean runs" | tee -a "$OUT" >&2
done; done; done

echo >&2
echo "Results (median [min-max] of clean runs; raw lines: $OUT)"
table "$OUT" | tee -a "$OUT"
rm -rf "$WORKDIR"
