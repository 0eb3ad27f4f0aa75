#!/usr/bin/env bash
# Reloads under load, the same measurement for Switchyard, nginx and HAProxy
# (those installed), one after the other in one run:
#   an echo origin on loopback, the proxy in front of it, 2 keep-alive and 2
#   new-connection clients (reload_bench load), 0.5 s warm-up, 2 s steady, then 20 reloads
#   150 ms apart alternating two configs (1 and 2 workers/threads, and for
#   Switchyard also the routes and poller_handoff_interval), then 1 s more.
# Prints one line per proxy: requests, failed, refused, retried, p50/p99
# steady and p50/p99 during the reloads. Results: docs/PERFORMANCE.md.
#
#   tests/bench/reload_bench.sh            # builds with -c opt first
# Only loopback; only processes started here are signalled, by pid.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bazel build -c opt //proxy:switchyard //tests/bench:reload_bench >&2
bin="$(bazel info -c opt bazel-bin 2>/dev/null)"
switchyard="$bin/proxy/switchyard"
bench="$bin/tests/bench/reload_bench"
work=$(mktemp -d "${TMPDIR:-/tmp}/reload-bench.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  exec 3>&- 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
  for _ in $(seq 100); do
    (exec 9<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on $1" >&2; return 1
}

# The origin: reload_bench origin, kept alive by an open stdin pipe.
mkfifo "$work/origin.in"
"$bench" origin <"$work/origin.in" >"$work/origin.out" &
pids+=($!)
exec 3>"$work/origin.in"
for _ in $(seq 50); do grep -q '^origin ' "$work/origin.out" 2>/dev/null && break; sleep 0.1; done
origin=$(awk '/^origin/ {print $2}' "$work/origin.out")
echo "origin on 127.0.0.1:$origin" >&2

measure() {  # name port reload-script
  local line
  line=$("$bench" load --port "$2" --reload "$3")
  printf '%-10s %s\n' "$1" "$line"
}

# ---- Switchyard ----
port=$(free_port)
for v in 0 1; do
  workers=$((v + 1)); handoff=$([[ $v == 0 ]] && echo 10ms || echo 2ms)
  cat >"$work/sy-$v.toml" <<TOML
[admin]
address = "127.0.0.1:0"
[log]
access = "off"
[runtime]
workers = $workers
poller_handoff_interval = "$handoff"
[[listener]]
name = "main"
address = "127.0.0.1:$port"
[[route]]
name = "extra-$v"
path_prefix = "/extra-$v/"
direct_response = { status = 200, body = "extra" }
[[route]]
name = "all-$v"
cluster = "origin-$v"
[[cluster]]
name = "origin-$v"
endpoints = ["127.0.0.1:$origin"]
TOML
done
cp "$work/sy-0.toml" "$work/sy.toml"
"$switchyard" -c "$work/sy.toml" 2>"$work/sy.log" &
sy_pid=$!; pids+=($sy_pid)
wait_port "$port"
cat >"$work/reload-sy.sh" <<SH
#!/bin/sh
cp "$work/sy-\$1.toml" "$work/sy.toml.tmp" && mv "$work/sy.toml.tmp" "$work/sy.toml" && kill -HUP $sy_pid
SH
chmod +x "$work/reload-sy.sh"
measure switchyard "$port" "$work/reload-sy.sh"
kill -TERM "$sy_pid"; wait "$sy_pid" || true
echo "switchyard reloads applied: $(grep -c 'reloaded ' "$work/sy.log")" >&2

# ---- nginx ----
if command -v nginx >/dev/null; then
  port=$(free_port)
  mkdir -p "$work/nginx/logs"
  for v in 0 1; do
    cat >"$work/nginx/nginx-$v.conf" <<CONF
worker_processes $((v + 1));
error_log $work/nginx/logs/error.log;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  upstream origin { server 127.0.0.1:$origin; keepalive 32; }
  server {
    listen 127.0.0.1:$port;
    keepalive_timeout 60s;
    keepalive_requests 1000000;
    location /extra-$v/ { return 200 "extra"; }
    location / { proxy_pass http://origin; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  done
  cp "$work/nginx/nginx-0.conf" "$work/nginx/nginx.conf"
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' 2>>"$work/nginx/logs/error.log" &
  ng_pid=$!; pids+=($ng_pid)
  wait_port "$port"
  cat >"$work/reload-nginx.sh" <<SH
#!/bin/sh
cp "$work/nginx/nginx-\$1.conf" "$work/nginx/nginx.conf" && kill -HUP $ng_pid
SH
  chmod +x "$work/reload-nginx.sh"
  measure nginx "$port" "$work/reload-nginx.sh"
  kill -QUIT "$ng_pid"; wait "$ng_pid" || true
fi

# ---- HAProxy (master-worker, seamless reload with SIGUSR2) ----
if command -v haproxy >/dev/null; then
  port=$(free_port)
  for v in 0 1; do
    cat >"$work/haproxy-$v.cfg" <<CFG
global
  nbthread $((v + 1))
  maxconn 4096
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 60s
frontend f
  bind 127.0.0.1:$port
  http-request return status 200 content-type text/plain string extra if { path_beg /extra-$v/ }
  default_backend b
backend b
  http-reuse always
  server origin 127.0.0.1:$origin
CFG
  done
  cp "$work/haproxy-0.cfg" "$work/haproxy.cfg"
  haproxy -W -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
  hp_pid=$!; pids+=($hp_pid)
  wait_port "$port"
  cat >"$work/reload-haproxy.sh" <<SH
#!/bin/sh
cp "$work/haproxy-\$1.cfg" "$work/haproxy.cfg" && kill -USR2 $hp_pid
SH
  chmod +x "$work/reload-haproxy.sh"
  measure haproxy "$port" "$work/reload-haproxy.sh"
  kill -TERM "$hp_pid"; wait "$hp_pid" || true
fi
