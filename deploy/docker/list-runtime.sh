#!/usr/bin/env bash
# Prints the runtime stage's contents, one line per file, as the image will
# hold them: "<mode> <owner> <path>" for the files build.sh staged in
# OUT/rootfs (copied with `COPY --from=build /out/rootfs/ /`), then
# "package <name>" for each Debian package the runtime stage installs
# (OUT/runtime-packages.txt), then the user the Dockerfile creates.
# Usage: deploy/docker/list-runtime.sh OUT
set -euo pipefail
out="${1:?usage: list-runtime.sh OUT}"
rootfs="$out/rootfs"
[[ -d "$rootfs" ]] || { echo "list-runtime.sh: no $rootfs (run build.sh --out $out)" >&2; exit 1; }
(cd "$rootfs" && find . -type f -printf '%m root /%P\n' | sort)
sed 's/^/package /' "$out/runtime-packages.txt"
# Must match the Dockerfile's useradd line (a test checks both).
echo "user switchyard 10001:10001 /usr/sbin/nologin"
