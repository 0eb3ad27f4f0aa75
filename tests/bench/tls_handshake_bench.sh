#!/usr/bin/env bash
# New TLS connections per second and server CPU per new connection: switchyard
# (workers=1 and 2) beside nginx and HAProxy (one worker each) terminating TLS with
# the same ECDSA P-256 certificate and answering a fixed 200 themselves, so only the
# handshake plus one tiny request is measured. The client is `openssl s_time -new`
# (a full handshake per connection, no resumption), pinned to CPU 0; servers with one
# worker are pinned to CPU 1. CPU is the server's utime+stime from /proc over the run.
#
#   bazel build -c opt //proxy:switchyard
#   tests/bench/tls_handshake_bench.sh bazel-out/k8-opt/bin/proxy/switchyard
#
# Knobs: SECONDS_PER_RUN=5 VERSIONS="1.3 1.2" BASE_PORT=19440, SY_TLS_EXTRA (lines added
# to switchyard's [listener.tls], e.g. "session_cache_size = 0"). Loopback only; every
# process is started here and stopped by PID.
set -euo pipefail
bin=$(realpath "${1:?usage: tls_handshake_bench.sh PATH/TO/switchyard}")
: "${SECONDS_PER_RUN:=5}" "${VERSIONS:=1.3 1.2}" "${BASE_PORT:=19440}" "${SY_TLS_EXTRA:=}"
dir=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.2; rm -rf "$dir"; }
trap cleanup EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
cat "$dir/cert.pem" "$dir/key.pem" >"$dir/combined.pem"
HZ=$(getconf CLK_TCK)

cpu_ticks() { # pid -> utime+stime of the process and its threads
    awk '{print $14 + $15}' "/proc/$1/stat"
}
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

start_switchyard() { # port workers
    cat >"$dir/sy-$2.toml" <<TOML
[runtime]
workers = $2
[admin]
address = "127.0.0.1:0"
[log]
access = "off"
[[listener]]
name = "tls"
address = "127.0.0.1:$1"
[listener.tls]
certificates = [{ cert = "$dir/cert.pem", key = "$dir/key.pem" }]
$SY_TLS_EXTRA
[[route]]
direct_response = { status = 200, body = "ok" }
TOML
    if [[ $2 == 1 ]]; then taskset -c 1 "$bin" -c "$dir/sy-$2.toml" 2>"$dir/sy-$2.log" &
    else "$bin" -c "$dir/sy-$2.toml" 2>"$dir/sy-$2.log" & fi
    SPID=$!
}
start_nginx() { # port
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
master_process off;
pid $dir/nginx.pid;
error_log $dir/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  ssl_protocols TLSv1.2 TLSv1.3;
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $dir/cert.pem;
    ssl_certificate_key $dir/key.pem;
    location / { return 200 "ok"; }
  }
}
CONF
    taskset -c 1 nginx -c "$dir/nginx.conf" -p "$dir" 2>/dev/null &
    SPID=$!
}
start_haproxy() { # port
    cat >"$dir/haproxy.cfg" <<CONF
global
  nbthread 1
defaults
  mode http
  timeout client 10s
  timeout server 10s
  timeout connect 1s
frontend fe
  bind 127.0.0.1:$1 ssl crt $dir/combined.pem
  http-request return status 200 content-type text/plain string ok
CONF
    taskset -c 1 haproxy -f "$dir/haproxy.cfg" -db 2>/dev/null &
    SPID=$!
}

printf '%-22s %-5s %10s %14s\n' target tls conn/s "CPU us/conn"
run() { # name port
    local name=$1 port=$2 v
    wait_port "$port" || { echo "$name: not listening" >&2; tail -5 "$dir"/*.log >&2; return; }
    for v in $VERSIONS; do
        local before after out conns
        before=$(cpu_ticks "$SPID")
        out=$(taskset -c 0 openssl s_time -connect "127.0.0.1:$port" -new -time "$SECONDS_PER_RUN" \
              -www / "-tls${v/./_}" 2>&1 || true)
        after=$(cpu_ticks "$SPID")
        conns=$(sed -n 's/^\([0-9]*\) connections in \([0-9.]*\) real.*/\1 \2/p' <<<"$out" | head -1)
        if [[ -z "$conns" ]]; then echo "$name tls$v: s_time failed: $(tail -2 <<<"$out")" >&2; continue; fi
        awk -v n="$name" -v v="$v" -v c="${conns% *}" -v t="${conns#* }" -v d=$((after - before)) -v hz="$HZ" \
            'BEGIN { printf "%-22s %-5s %10.0f %14.0f\n", n, v, c / t, d / hz * 1e6 / c }'
    done
}

port=$BASE_PORT
start_switchyard $port 1; pids+=("$SPID"); run "switchyard workers=1" $port; kill "$SPID"; port=$((port + 1))
start_switchyard $port 2; pids+=("$SPID"); run "switchyard workers=2" $port; kill "$SPID"; port=$((port + 1))
if command -v nginx >/dev/null; then start_nginx $port; pids+=("$SPID"); run nginx $port; kill "$SPID"; port=$((port + 1)); fi
if command -v haproxy >/dev/null; then start_haproxy $port; pids+=("$SPID"); run haproxy $port; kill "$SPID"; fi
