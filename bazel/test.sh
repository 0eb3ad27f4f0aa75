#!/usr/bin/env bash
# The project's test command: installs missing build packages, runs `bazel test`, and
# prints one plain line `N passed, N failed` counted from the real results.
#
#   bazel/test.sh                                  # every test: //...
#   bazel/test.sh --config=tsan //runtime/...      # extra Bazel options and/or patterns
#
# Arguments starting with `-` are Bazel options (write them as --name=value); the others
# are target patterns, //... when there are none.
#
# Counting: Bazel writes a Build Event Protocol file for this invocation only; for every
# test target it names the result and the test.xml. Each gtest test case is one count
# (disabled and skipped cases are not counted). A test target that did not run (it failed
# to build, or the build stopped first) counts as 1 failed, and so does a failed target
# whose test.xml shows no failed case (a crash, a timeout, a sanitizer report at exit).
# When Bazel fails with no test result to blame, the run counts as 0 passed, 1 failed.
#
# Exit status: 0 only if Bazel succeeded and nothing failed. "No test targets" (Bazel's
# exit code 4) is a success with 0 passed, 0 failed.
#
# SUMMARY_FILE=path: also append `passed=N failed=N` (one line per run) to that file.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

if ! bazel/install-deps.sh --tests; then
  echo "test.sh: installing the build packages failed" >&2
  echo "0 passed, 1 failed"
  [[ -n "${SUMMARY_FILE:-}" ]] && echo "passed=0 failed=1" >>"$SUMMARY_FILE"
  exit 1
fi

options=()
patterns=()
for arg in "$@"; do
  # A negative pattern (-//x/...) is a pattern, not an option.
  if [[ "$arg" == -* && "$arg" != -//* ]]; then options+=("$arg"); else patterns+=("$arg"); fi
done
((${#patterns[@]} > 0)) || patterns=(//...)

bep_dir=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-test.XXXXXX") || exit 1
trap 'rm -rf "$bep_dir"' EXIT
bep="$bep_dir/bep.json"

# --keep_going: a target that fails to build does not hide the results of the others.
bazel test --keep_going --test_output=errors --build_event_json_file="$bep" \
  "${options[@]}" -- "${patterns[@]}"
bazel_rc=$?

python3 - "$bep" "$bazel_rc" "${SUMMARY_FILE:-}" <<'PY'
import json
import re
import sys
import xml.etree.ElementTree as ET
from urllib.parse import unquote, urlparse

bep_path, bazel_rc, summary_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]

# Exit codes of `bazel test`: 0 all passed, 3 some tests failed, 4 no test targets.
BAZEL_TESTS_FAILED, BAZEL_NO_TESTS = 3, 4

events = []
try:
    with open(bep_path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                try:
                    events.append(json.loads(line))
                except ValueError:
                    pass  # a truncated last line if Bazel died
except OSError:
    pass

test_targets = {}  # (label, configuration id) -> label, in BEP order
results = {}       # (label, config, run, shard) -> (attempt, status, xml path)
stderr_chunks = []
for e in events:
    eid = e.get("id", {})
    if "targetConfigured" in eid:
        configured = e.get("configured", {})
        if "testSize" in configured and configured.get("targetKind") != "test_suite rule":
            label = eid["targetConfigured"]["label"]
            # The configuration is named by the targetCompleted child.
            configs = [c["targetCompleted"].get("configuration", {}).get("id", "")
                       for c in e.get("children", []) if "targetCompleted" in c] or [""]
            for config in configs:
                test_targets[(label, config)] = label
    elif "testResult" in eid:
        rid = eid["testResult"]
        config = rid.get("configuration", {}).get("id", "")
        key = (rid["label"], config, rid.get("run", 1), rid.get("shard", 1))
        attempt = rid.get("attempt", 1)
        result = e.get("testResult", {})
        xml = None
        for out in result.get("testActionOutput", []):
            if out.get("name") == "test.xml" and out.get("uri", "").startswith("file://"):
                xml = unquote(urlparse(out["uri"]).path)
        if key not in results or attempt >= results[key][0]:
            results[key] = (attempt, result.get("status", "NO STATUS"), xml)
    elif "progress" in eid:
        chunk = e.get("progress", {}).get("stderr")
        if chunk:
            stderr_chunks.append(chunk)


def count_cases(xml_path):
    """(passed, failed) test cases in a test.xml, or None if it cannot be read."""
    if not xml_path:
        return None
    try:
        root = ET.parse(xml_path).getroot()
    except (OSError, ET.ParseError):
        return None
    passed = failed = 0
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.get("status") == "notrun" or case.get("result") in ("skipped", "suppressed"):
            pass  # DISABLED_ or GTEST_SKIP(): neither passed nor failed
        else:
            passed += 1
    return passed, failed


passed = failed = 0
problems = []
ran = {(label, config) for (label, config, _, _) in results}
for (label, config, run, shard), (attempt, status, xml) in sorted(results.items()):
    ok = status in ("PASSED", "FLAKY")
    counts = count_cases(xml)
    p, f = counts if counts is not None else (0, 0)
    if not ok and f == 0:
        f = 1
        why = "no test.xml" if counts is None else "no failed test case in test.xml"
        problems.append(f"{label}: {status} ({why}: see its test.log)")
    elif not ok:
        problems.append(f"{label}: {status}, {f} failed test case(s)")
    passed += p
    failed += f

for (label, config) in test_targets:
    if (label, config) not in ran:
        failed += 1
        problems.append(f"{label}: did not run (build failure or build stopped)")

bazel_ok = bazel_rc in (0, BAZEL_TESTS_FAILED, BAZEL_NO_TESTS)
if not bazel_ok:
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", "".join(stderr_chunks))
    lines = text.splitlines()
    first_error = next((i for i, l in enumerate(lines) if l.startswith("ERROR:")), None)
    if first_error is not None:
        print("---- bazel errors (first 40 lines) ----", file=sys.stderr)
        print("\n".join(lines[first_error:first_error + 40]), file=sys.stderr)
    print(f"test.sh: bazel test exited with code {bazel_rc}", file=sys.stderr)
    if failed == 0:
        failed = 1  # a build failure is never "0 failed"
if bazel_rc == BAZEL_NO_TESTS and not results:
    print("test.sh: no test targets matched", file=sys.stderr)

for problem in problems:
    print("FAILED " + problem, file=sys.stderr)
print(f"{passed} passed, {failed} failed")
if summary_file:
    with open(summary_file, "a", encoding="utf-8") as out:
        out.write(f"passed={passed} failed={failed}\n")
sys.exit(0 if failed == 0 and bazel_ok else 1)
PY
