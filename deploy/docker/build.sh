#!/usr/bin/env bash
# The Dockerfile's build stage, as a script: CI runs it on the host (no Docker
# engine there), the Dockerfile runs it inside debian:12. It
#   1. installs the build packages            (bazel/install-deps.sh)
#   2. builds the optimised binary            (bazel build -c opt //proxy:switchyard)
#   3. stages the runtime stage's tree        (OUT/rootfs: binary, config, docs)
#   4. lists the Debian packages that hold the binary's shared libraries
#      (OUT/runtime-packages.txt, from ldd and dpkg -S): the runtime stage
#      installs exactly those, so a new library dependency follows by itself
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

# Runtime packages: the owner of every shared library the binary loads.
packages=()
while read -r lib; do
  [[ -n "$lib" ]] || continue
  owner=""
  real=$(readlink -f "$lib")
  # Merged /usr: a file is known to dpkg under /lib or /usr/lib, whichever the
  # package ships, while ldd may print either.
  for candidate in "$lib" "$real" "/usr${lib}" "/usr${real}" "${lib#/usr}" "${real#/usr}"; do
    owner=$(dpkg -S "$candidate" 2>/dev/null | head -n 1 | cut -d: -f1) || true
    [[ -n "$owner" ]] && break
  done
  [[ -n "$owner" ]] || { echo "build.sh: no Debian package owns $lib" >&2; exit 1; }
  packages+=("$owner")
done < <(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }')
printf '%s\n' "${packages[@]}" | sort -u >"$out/runtime-packages.txt"

# The binary must run on the runtime stage as built: check before shipping.
"$rootfs/usr/local/bin/switchyard" --version
"$rootfs/usr/local/bin/switchyard" --check -c "$rootfs/etc/switchyard/switchyard.toml"
echo "build.sh: staged $(find "$rootfs" -type f | wc -l) files in $rootfs; runtime packages:" \
  $(cat "$out/runtime-packages.txt")
