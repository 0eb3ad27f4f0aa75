#!/usr/bin/env bash
# The candidate command for ../shared/bench/peers.sh: writes a one-listener,
# one-cluster config from the harness's variables and runs switchyard with
# one worker (the peers run one worker each). Usage, from the repo root:
#
#   bazel build -c opt //proxy:switchyard
#   CANDIDATE_NAME=switchyard \
#   CANDIDATE_CMD="$PWD/tests/bench/peers_candidate.sh $PWD/bazel-out/k8-opt/bin/proxy/switchyard" \
#   REPEAT=3 TLS=0 ../shared/bench/peers.sh
#
# With CANDIDATE_TLS=1 (and TLS=1) it also terminates TLS on $TLS_PORT.
#
# exec keeps the PID the harness started, so its SIGTERM reaches switchyard.
set -euo pipefail
bin=${1:?usage: peers_candidate.sh PATH/TO/switchyard}
conf="${BENCH_DIR:?}/switchyard.toml"
cat >"$conf" <<TOML
[runtime]
workers = 1

[process]
drain_timeout = "1s"  # the harness stops it with SIGTERM: nothing to drain

[admin]
address = "127.0.0.1:0"

[log]
access = "off"

[[listener]]
name = "bench"
address = "127.0.0.1:${PORT:?}"

[[route]]
path_prefix = "/"
cluster = "origin"

[[cluster]]
name = "origin"
endpoints = ["${UPSTREAM:?}"]

[cluster.pool]
max_idle_per_worker = 256
TOML
# The harness's TLS rows (CANDIDATE_TLS=1): a second listener terminating TLS with
# its certificate, routed to the same origin (the route above has no listener, so
# it serves both).
if [[ "${TLS_PORT:-0}" != 0 ]]; then
    cat >>"$conf" <<TOML

[[listener]]
name = "bench-tls"
address = "127.0.0.1:${TLS_PORT}"
[listener.tls]
certificates = [{ cert = "${TLS_CERT:?}", key = "${TLS_KEY:?}" }]
TOML
fi
exec "$bin" -c "$conf"
