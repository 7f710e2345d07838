#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Names the tests of one `meson test` run that did not pass, with what they said.

    tests/meson-failures.py BUILDDIR STAGE

Reads BUILDDIR/meson-logs/testlog.json (one JSON object per test) and prints, for each test
whose result is not OK, SKIP or EXPECTEDFAIL: the stage, the test's name, its result and exit
code, its TAP "not ok" lines and the last lines of its output. Prints nothing when every test
passed. Exits 2 when the log cannot be read, so that a caller never takes "nothing printed"
for "nothing failed" when the log was missing.
"""
import json
import sys

PASSED = {"OK", "SKIP", "EXPECTEDFAIL"}
NOT_OK_LINES = 12
TAIL_LINES = 25


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: meson-failures.py BUILDDIR STAGE", file=sys.stderr)
        return 2
    builddir, stage = sys.argv[1], sys.argv[2]
    path = f"{builddir}/meson-logs/testlog.json"
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            tests = [json.loads(line) for line in f if line.strip()]
    except (OSError, ValueError) as e:
        print(f"meson-failures.py: cannot read {path}: {e}", file=sys.stderr)
        return 2
    for t in tests:
        if t.get("result") in PASSED:
            continue
        out = (t.get("stdout") or "").splitlines()
        print(f"--- {stage}: {t.get('name')} {t.get('result')} "
              f"(exit {t.get('returncode')}, {t.get('duration', 0):.1f} s)")
        not_ok = [l for l in out if l.startswith("not ok")]
        for l in not_ok[:NOT_OK_LINES]:
            print(f"    {l}")
        if len(not_ok) > NOT_OK_LINES:
            print(f"    … and {len(not_ok) - NOT_OK_LINES} more 'not ok' lines")
        print(f"    last {min(TAIL_LINES, len(out))} lines of its output:")
        for l in out[-TAIL_LINES:]:
            print(f"    | {l}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
