#!/bin/bash
# SPDX-License-Identifier: MIT
# Sets up this machine (Debian 12, root) and runs the whole test suite in three stages:
#   sanitizer  a build with clang, ASan and UBSan running the unit, integration and fuzz suites;
#   release    the release build with warnings as errors running everything, including the
#              package, nspawn and VM tests;
#   arm64      the arm64 cross build (tests/cross/aarch64-linux-gnu.ini) with warnings as
#              errors: the unit tests and a set of the loopback integration tests run the arm64
#              agent under qemu-user (meson suite "cross"), and its .deb is built and checked.
# Every stage runs, whatever the one before it found. At the end the tests that did not pass
# are named, each with its "not ok" lines and the last lines of its output (from meson's
# testlog.json, tests/meson-failures.py), then one summary names each stage's counts,
# followed by the sum of all stages in meson's own closing format (the last lines, "Ok:",
# "Fail:", … as `meson test` prints them); the script fails if any stage failed (a test failed
# or timed out, or the stage did not build).
#
#   FBA_SUITE_STAGES="sanitizer release arm64"   the stages to run, in order (default: all)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

tests/setup-deps.sh suite || exit 1

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"

keys=(Ok "Expected Fail" Fail "Unexpected Pass" Skipped Timeout)
declare -A total=()
for k in "${keys[@]}"; do total[$k]=0; done
summaries=()
logs=()
failures=""
any_failed=0

setup() {
        local dir=$1; shift
        if [ -d "$dir/meson-private" ]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

# stage NAME BUILDDIR "SETUP ARGS" [MESON TEST ARGS…]: builds and tests; adds the counts of
# meson's closing summary to the total, or one failure when there is no summary to read.
stage() {
        local name=$1 dir=$2 setup_args=$3 out rc line k v counts=""
        shift 3
        echo "=== Stage $name ($dir) ==="
        # shellcheck disable=SC2086  # the setup arguments are words
        if ! { setup "$dir" $setup_args && meson compile -C "$dir"; }; then
                summaries+=("$name: did not build (see above): counted as 1 failure")
                total[Fail]=$((total[Fail] + 1))
                any_failed=1
                return
        fi
        # meson's output, read for its summary: in the build tree, where no cleaning of /tmp
        # by something else on the machine can take it away during the stage.
        out=$(mktemp "$dir/run-suite-output.XXXXXX")
        meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
        declare -A got=()
        while IFS= read -r line; do
                for k in "${keys[@]}"; do
                        if [[ $line =~ ^$k:\ +([0-9]+)\ *$ ]]; then
                                got[$k]=${BASH_REMATCH[1]}
                        fi
                done
        done < <(tail -n 20 "$out")
        rm -f "$out"
        if [ -z "${got[Ok]:-}" ]; then
                summaries+=("$name: meson test exited $rc without a summary: counted as 1 failure")
                total[Fail]=$((total[Fail] + 1))
                any_failed=1
                return
        fi
        for k in "${keys[@]}"; do
                v=${got[$k]:-0}
                total[$k]=$((total[$k] + v))
                counts+="${counts:+, }$k $v"
        done
        if [ "$rc" -ne 0 ] || [ "${got[Fail]:-0}" -ne 0 ] || [ "${got[Timeout]:-0}" -ne 0 ] ||
                [ "${got[Unexpected Pass]:-0}" -ne 0 ]; then
                any_failed=1
                summaries+=("$name: FAILED ($counts; meson test exited $rc)")
                failures+=$(tests/meson-failures.py "$dir" "$name" 2>&1 ||
                        echo "(the failed tests of stage $name could not be named: see its log)")
                failures+=$'\n'
        else
                summaries+=("$name: passed ($counts)")
        fi
        logs+=("$dir/meson-logs/testlog.txt")
}

for s in ${FBA_SUITE_STAGES:-sanitizer release arm64}; do
        case $s in
        sanitizer)
                CC=clang stage sanitizer build-asan \
                        "-Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false -Dfuzz=true -Dslow_tests=false" \
                        --suite unit --suite integration --suite fuzz ;;
        release)
                stage release build-release "-Dwerror=true -Dslow_tests=true" ;;
        arm64)
                stage arm64 build-arm64 "--cross-file tests/cross/aarch64-linux-gnu.ini -Dwerror=true -Dslow_tests=false" \
                        --suite unit --suite cross ;;
        *)
                echo "tests/run-suite.sh: unknown stage '$s' in FBA_SUITE_STAGES: expected sanitizer, release or arm64." >&2
                exit 2 ;;
        esac
done

if [ -n "$failures" ]; then
        echo
        echo "=== Tests that did not pass ==="
        printf '%s' "$failures"
fi
echo
echo "=== Summary of every stage ==="
for s in "${summaries[@]}"; do echo "  $s"; done
echo
echo "All stages together:"
echo
for k in "${keys[@]}"; do printf '%-20s%-4s\n' "$k:" "${total[$k]}"; done
echo
for l in "${logs[@]}"; do echo "Full log written to $PWD/$l"; done
exit "$any_failed"
