#!/usr/bin/env bash
# Installs the Debian 12 packages the build needs, and only those that are missing.
# Idempotent and quiet when everything is already installed. Runs apt-get as root, or
# through sudo when not root. Usage: bazel/install-deps.sh
set -euo pipefail

packages=(
  bazel-bootstrap      # Bazel 4.2.3
  bazel-rules-java     # @rules_java
  bazel-platforms      # @platforms
  bazel-skylib         # @bazel_skylib
  node-llhttp          # llhttp C sources (@llhttp)
  libssl-dev           # //bazel/third_party:openssl
  libtomlplusplus-dev  # //bazel/third_party:toml
  prometheus-cpp-dev   # //bazel/third_party:prometheus_core
  libgtest-dev         # //bazel/third_party:gtest, :gtest_main
  libgmock-dev         # //bazel/third_party:gmock
  libbenchmark-dev     # //bazel/third_party:benchmark, :benchmark_main
  g++                  # the default C++ toolchain
)

# `install-deps.sh --tests`: also what the test suite checks with, not what it builds
# with (bazel/test.sh passes it).
if [[ "${1:-}" == --tests ]]; then
  packages+=(
    prometheus           # promtool: tests/unit/proxy/metrics:promtool_test validates /metrics
    systemd              # systemd-analyze: tests/deploy:deploy_test verifies the units
    python3-yaml         # tests/deploy:deploy_test reads the Kubernetes manifests
  )
fi

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == installed ]] || missing+=("$pkg")
done
((${#missing[@]} == 0)) && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if ((EUID == 0)); then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: not root and no sudo: install ${missing[*]} by hand" >&2
  exit 1
fi
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq "${missing[@]}" >&2
