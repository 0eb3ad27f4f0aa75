#!/usr/bin/env bash
# idle_conn_bench.sh — memory per idle keep-alive client connection.
#
# Opens N connections (default 10,000) to a server, sends one request on
# each, reads the response and leaves the connection open and idle; then
# reads the server's RSS (VmRSS of the whole process). Memory per idle
# connection = (RSS with N idle connections - RSS before) / N.
# Runs switchyard (direct response) and nginx (return 200) in the same run.
#
#   bazel build -c opt //proxy:switchyard
#   tests/bench/idle_conn_bench.sh bazel-out/k8-opt/bin/proxy/switchyard [N]
#   TLS=1 tests/bench/idle_conn_bench.sh ...   # the same over TLS 1.3 (both servers)
#
# Loopback only; every process is started here and stopped by PID.
set -euo pipefail
bin=${1:?usage: idle_conn_bench.sh PATH/TO/switchyard [N]}
n=${2:-10000}
work=$(mktemp -d /tmp/idle-bench.XXXXXX)
pids=()
TLS=${TLS:-0}
cleanup() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
# Each process (server, client) holds n sockets plus a few.
ulimit -n $((n + 1024))

rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }

# Python client: opens n connections, one request each, keeps them, prints
# "ready", waits for stdin to close. Bounded: 60 s connect budget.
cat >"$work/client.py" <<'PY'
import socket, ssl, sys, time
host, port, n, tls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
req = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
socks = []
deadline = time.time() + 60
for i in range(n):
    if time.time() > deadline:
        sys.exit("timed out opening connections")
    s = socket.create_connection((host, port))
    if tls:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(req)
    got = b""
    while b"\r\n\r\n" not in got or len(got) < got.find(b"\r\n\r\n") + 4 + 2:
        chunk = s.recv(4096)
        if not chunk:
            sys.exit("server closed a connection")
        got += chunk
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
PY

measure() {  # name pid port
  local name=$1 pid=$2 port=$3 before after
  sleep 0.5
  before=$(rss_kib "$pid")
  coproc CLIENT { python3 "$work/client.py" 127.0.0.1 "$port" "$n" "$TLS"; }
  local cpid=$CLIENT_PID
  read -r line <&"${CLIENT[0]}"
  [[ $line == ready ]] || { echo "$name: client failed" >&2; return 1; }
  sleep 1
  after=$(rss_kib "$pid")
  echo "$name: $n idle connections, RSS ${before} KiB -> ${after} KiB: $(awk -v a="$after" -v b="$before" -v n="$n" 'BEGIN{printf "%.2f", (a-b)/n}') KiB per connection"
  exec {CLIENT[1]}>&-
  wait "$cpid" || true
}

sy_tls="" ngx_ssl="" ngx_certs=""
if [[ $TLS == 1 ]]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
      -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
  sy_tls="[listener.tls]
certificates = [{ cert = \"$work/cert.pem\", key = \"$work/key.pem\" }]"
  ngx_ssl=" ssl"
  ngx_certs="ssl_certificate $work/cert.pem; ssl_certificate_key $work/key.pem;"
fi
cat >"$work/sy.toml" <<TOML
[runtime]
workers = 1
[admin]
address = "127.0.0.1:0"
[log]
access = "off"
[[listener]]
name = "idle"
address = "127.0.0.1:18290"
$sy_tls
[listener.limits]
max_connections = $((n + 100))
[listener.timeouts]
idle = "10m"
[[route]]
direct_response = { status = 200, body = "ok" }
TOML
"$bin" -c "$work/sy.toml" 2>"$work/sy.log" & pids+=($!)
measure switchyard "${pids[-1]}" 18290

cat >"$work/nginx.conf" <<NGX
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.err;
events { worker_connections $((n + 100)); }
http {
  access_log off;
  keepalive_timeout 600s;
  keepalive_requests 100000;
  server { listen 127.0.0.1:18291$ngx_ssl; $ngx_certs location / { return 200 "ok"; } }
}
NGX
nginx -c "$work/nginx.conf" -g "daemon off;" & pids+=($!)
sleep 0.5
# The worker holds the connections: measure it, not the master.
worker=$(pgrep -P "${pids[-1]}" | head -1)
measure nginx "$worker" 18291
