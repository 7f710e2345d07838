#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs a libFuzzer target for a while over a corpus seeded from the test data:
#   run-fuzzer.sh FUZZER SECONDS DICTIONARY SEED_DIR…
# The corpus lives in the build directory and grows from run to run. Any failure of the fuzzer
# is exit 1: meson would read libFuzzer's 77 as "skipped".
set -eu

fuzzer=$1
seconds=$2
dict=$3
shift 3

corpus="${FBA_BUILD_ROOT:-.}/tests/fuzz/corpus-$(basename "$fuzzer")"
mkdir -p "$corpus"
for dir in "$@"; do
        find "$dir" -type f \( -name '*.json' -o -name '*.pem' -o -name '*.kubeconfig' \) -exec cp {} "$corpus"/ \;
done

# A crash must fail the test: libFuzzer's own exit code for one (77) is meson's "skipped", and
# its other failures (a timeout, too much memory) have codes of their own: any becomes 1.
rc=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
        -dict="$dict" -print_final_stats=1 "$corpus" || rc=$?
if [ "$rc" -ne 0 ]; then
        echo "run-fuzzer.sh: $(basename "$fuzzer") failed with exit status $rc" >&2
        exit 1
fi
