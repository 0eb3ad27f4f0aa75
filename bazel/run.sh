#!/usr/bin/env bash
# Runs the product: installs missing build packages, builds the proxy (//proxy:switchyard)
# and runs it with the given arguments, in the directory this script was called from (so
# relative paths such as a config file name work). Until the proxy exists it runs the
# runtime's demo (//runtime:demo).
#   bazel/run.sh [ARGS...]
#   BAZEL_RUN_OPTS="-c opt" bazel/run.sh [ARGS...]     # Bazel options for the build
set -euo pipefail

caller_dir=$PWD
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bazel/install-deps.sh

# shellcheck disable=SC2206  # word splitting of the options is intended
opts=(${BAZEL_RUN_OPTS:-})
if [[ -f proxy/BUILD || -f proxy/BUILD.bazel ]] &&
   bazel query --noshow_progress //proxy:switchyard >/dev/null 2>&1; then
  target=//proxy:switchyard
else
  target=//runtime:demo
fi
bazel build "${opts[@]}" "$target"
binary="$(bazel info "${opts[@]}" bazel-bin 2>/dev/null)/${target#//}"
binary=${binary/://}
cd "$caller_dir"
exec "$binary" "$@"
