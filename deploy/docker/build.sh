#!/usr/bin/env bash
# The Dockerfile's build stage, as a script: CI runs it on the host (no Docker
# engine there), the Dockerfile runs it inside debian:12. It
#   1. installs the build packages            (bazel/install-deps.sh)
#   2. builds the optimised binary            (bazel build -c opt //proxy:switchyard)
#   3. stages the runtime stage's tree        (OUT/rootfs: binary, config, docs)
#
#   deploy/docker/build.sh --out DIR [--skip-deps] [--binary PATH]
#
# --binary PATH skips steps 1 and 2 and stages an already built binary (the
# Bazel test of this script does that: Bazel cannot run inside a Bazel test).
# list-runtime.sh DIR prints what the runtime stage will contain.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

out=""
binary=""
skip_deps=false
while (($# > 0)); do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --skip-deps) skip_deps=true; shift ;;
    *) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$out" ]] || { echo "usage: build.sh --out DIR [--skip-deps] [--binary PATH]" >&2; exit 2; }

if [[ -z "$binary" ]]; then
  $skip_deps || bazel/install-deps.sh
  bazel build -c opt --config=ci //proxy:switchyard </dev/null
  binary="$(bazel info -c opt bazel-bin 2>/dev/null)/proxy/switchyard"
fi
[[ -x "$binary" ]] || { echo "build.sh: no executable at $binary" >&2; exit 1; }

rootfs="$out/rootfs"
rm -rf "$rootfs"
install -D -m 0755 "$binary" "$rootfs/usr/local/bin/switchyard"
install -D -m 0644 deploy/docker/switchyard.toml "$rootfs/etc/switchyard/switchyard.toml"
install -D -m 0644 README.md "$rootfs/usr/share/doc/switchyard/README.md"
install -D -m 0644 docs/CONFIG.md "$rootfs/usr/share/doc/switchyard/CONFIG.md"
install -D -m 0644 docs/METRICS.md "$rootfs/usr/share/doc/switchyard/METRICS.md"

# The binary must run on the runtime stage as built: check before shipping.
"$rootfs/usr/local/bin/switchyard" --version
"$rootfs/usr/local/bin/switchyard" --check -c "$rootfs/etc/switchyard/switchyard.toml"
echo "build.sh: staged $(find "$rootfs" -type f | wc -l) files in $rootfs"
