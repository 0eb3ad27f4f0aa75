#!/usr/bin/env bash
# Runs check_deploy.py with Debian's python3 (it has python3-yaml; see
# bazel/install-deps.sh --tests) from the runfiles root.
set -euo pipefail
cd "${TEST_SRCDIR}/${TEST_WORKSPACE}"
exec /usr/bin/python3 tests/deploy/check_deploy.py
