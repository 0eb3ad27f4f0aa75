#!/usr/bin/env bash
# request_instructions.sh — user-space instructions per proxied request, counted by
# callgrind: a repeatable figure (the same binary and config give the same count to
# about 0.1%) for changes too small to see through this VM's ±10% CPU-time noise.
#
# Starts an origin nginx (100-byte /small) and switchyard under valgrind's callgrind
# (one worker, a keep-alive pool), warms up with 2,000 requests, zeroes the counters,
# sends N requests (default 20,000) over 16 keep-alive connections with h2load, dumps,
# and prints the instructions per request plus the functions that cost the most.
# The kernel's share is not counted (see docs/PERFORMANCE.md for perf's view).
#
#   bazel build -c opt //proxy:switchyard
#   tests/bench/request_instructions.sh bazel-out/k8-opt/bin/proxy/switchyard [N]
#
# Needs nginx, valgrind, h2load (nghttp2-client) and curl. Loopback only; every
# process is started here and stopped by PID; every wait is bounded.
set -euo pipefail
bin=$(realpath "${1:?usage: request_instructions.sh PATH/TO/switchyard [N]}")
n=${2:-20000}
origin_port=${ORIGIN_PORT:-19181}
proxy_port=${PROXY_PORT:-19180}
work=$(mktemp -d /tmp/request-ir.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do  # the proxy drains for 1 s (drain_timeout): wait, bounded
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

mkdir -p "$work/tmp"
cat >"$work/origin.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $work/origin.pid;
error_log $work/origin.error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_timeout 120s;
  keepalive_requests 10000000;
  client_body_temp_path $work/tmp/body; proxy_temp_path $work/tmp/proxy;
  fastcgi_temp_path $work/tmp/fastcgi; uwsgi_temp_path $work/tmp/uwsgi; scgi_temp_path $work/tmp/scgi;
  server {
    listen 127.0.0.1:$origin_port;
    location = /small { default_type text/plain; return 200 "$(printf 'x%.0s' $(seq 1 99))\n"; }
  }
}
CONF
# The proxy runs as the peer benchmark runs it (tests/bench/peers_candidate.sh writes the
# same config), with valgrind put in front of the binary.
cat >"$work/switchyard-under-callgrind" <<SH
#!/bin/sh
exec valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$bin" "\$@"
SH
chmod +x "$work/switchyard-under-callgrind"

nginx -p "$work" -c "$work/origin.conf" &
pids+=($!)
BENCH_DIR="$work" PORT="$proxy_port" UPSTREAM="127.0.0.1:$origin_port" \
  "$(dirname "$0")/peers_candidate.sh" "$work/switchyard-under-callgrind" >"$work/switchyard.log" 2>&1 &
vpid=$!
pids+=("$vpid")
url="http://127.0.0.1:$proxy_port/small"
for _ in $(seq 1 100); do  # up to 30 s: valgrind starts slowly
  if curl -sf -o /dev/null "$url"; then break; fi
  sleep 0.3
done
curl -sf -o /dev/null "$url" || { echo "switchyard did not answer; log:" >&2; cat "$work/switchyard.log" >&2; exit 1; }
h2load --h1 -n 2000 -c 16 "$url" >/dev/null
callgrind_control -z "$vpid" >/dev/null 2>&1
h2load --h1 -n "$n" -c 16 "$url" | grep -E '^requests:'
callgrind_control -d "$vpid" >/dev/null 2>&1
dump=$(ls -t "$work"/cg.out.* | head -1)
total=$(callgrind_annotate "$dump" | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "instructions per request (user space): $((total / n))"
callgrind_annotate --inclusive=no --threshold=100 "$dump" |
  awk '/^ *[0-9,]+ \(/ && !/PROGRAM TOTALS|libc-start|below main|ld-linux|\?\?\?:main |rt::run\(/' |
  head -"${TOP:-15}" | cut -c1-160
