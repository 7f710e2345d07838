#!/bin/bash
# Sets up this machine (Debian 12, root) and runs the whole test suite:
#   1. a build with sanitizers (ASan + UBSan, clang) running the unit, integration and fuzz suites;
#   2. the release build with warnings as errors running everything, including the package,
#      nspawn and VM tests.
# The last lines are meson's summary of the full run.
set -euo pipefail
cd "$(dirname "$0")/.."

tests/setup-deps.sh

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1:print_summary=1"
export UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1"

setup() {
        local dir=$1; shift
        if [ -d "$dir/meson-private" ]; then
                meson setup --reconfigure "$dir" "$@" >/dev/null
        else
                meson setup "$dir" "$@" >/dev/null
        fi
}

echo "=== Sanitizer build (clang, ASan + UBSan) ==="
CC=clang setup build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
        -Dfuzz=true -Dslow_tests=false
meson compile -C build-asan
meson test -C build-asan --print-errorlogs --num-processes 2 --suite unit --suite integration --suite fuzz

echo "=== Release build (gcc, -Werror), full suite ==="
setup build-release -Dwerror=true -Dslow_tests=true
meson compile -C build-release
meson test -C build-release --print-errorlogs --num-processes 2
