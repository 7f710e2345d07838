#!/bin/bash
# SPDX-License-Identifier: MIT
# The cost of the node_exporter textfile (not a test). See tests/bench/README.md.
#
#   tests/bench/bench-metrics.sh [WRITES]       (default 200; FBA_BUILD=build-release|build)
#
# Builds tests/bench/metrics-write.c against the build's record and basic libraries and writes
# the file of a nine-step first boot WRITES times into a directory on the file system of
# /var/lib (where node_exporter's directory is): the median time to format it, to write it as
# during a run (temporary file, rename) and as at the run's end (with the fsyncs of the file and
# the directory). A first boot writes it twice per step that runs, unsynced, and once synced at
# the end.
set -eu
WRITES=${1:-200}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${FBA_BUILD:-}
if [ -z "$build" ]; then
        for d in build-release build; do
                [ -f "$src/$d/agent/record/librecord.a" ] && { build=$src/$d; break; }
        done
fi
[ -n "$build" ] || { echo "no build with agent/record/librecord.a (meson setup build && ninja -C build)" >&2; exit 1; }
tmp=$(mktemp -d /var/tmp/fba-bench-metrics.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cc -O2 -std=gnu11 -I"$src/agent/record" -I"$src/agent/basic" "$src/tests/bench/metrics-write.c" \
        "$build/agent/record/librecord.a" "$build/agent/basic/libbasic.a" \
        $(pkg-config --libs jansson libsystemd) -o "$tmp/metrics-write"
mkdir -m 0755 "$tmp/textfile"
read -r fmt wr dur size < <("$tmp/metrics-write" "$tmp/textfile" "$WRITES")
echo "metrics file: $size bytes; format ${fmt} µs; write during a run ${wr} µs; the run's last, synced write ${dur} µs"
echo "(medians of $WRITES each, $(df --output=fstype "$tmp" | tail -n 1) under $tmp)"
