#!/bin/bash
# SPDX-License-Identifier: MIT
# The agent built for this machine beside the agent cross-built for arm64: the size of each
# program (stripped, as packaged), and the peak RSS and time of each flashing the same image (a
# GPT disk of BENCH_SIZE_MIB, zstd, over loopback HTTP from tests/server/imaged.py to a loop
# device), BENCH_REPEAT times. The arm64 one runs under qemu-user (its wrapper script from the
# cross build): its RSS is qemu's process, the program with its translated code and qemu's own
# heap, so an upper bound of what it needs on a board, and its time is emulation's, not a
# board's. tests/vm/board-arm64.sh measures the peak RSS in the emulated board's own kernel.
#
#   tests/bench/bench-arch.sh [NATIVE_BUILD] [CROSS_BUILD]     (default: build build-arm64; root)
#   BENCH_SIZE_MIB=128 BENCH_REPEAT=3 BENCH_CROSS_STRIP=aarch64-linux-gnu-strip
#   (address block 127.80.1.0/24)
set -uo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
native=$(cd "${1:-$src/build}" && pwd) || exit 1
cross=$(cd "${2:-$src/build-arm64}" && pwd) || exit 1
size_mib=${BENCH_SIZE_MIB:-128}
repeat=${BENCH_REPEAT:-3}
export FBA_SOURCE_ROOT=$src
wrapped=$cross/tests/first-boot-agent-wrapped
[ -x "$wrapped" ] || { echo "bench-arch: no $wrapped: set up $cross with a cross file (tests/cross/)" >&2; exit 1; }
. "$src/tests/integration/flash/lib.sh"
FBA_BIN=$native/agent/first-boot-agent
flash_init 127.80.1 "bench-arch: $native against $cross, ${size_mib} MiB, $repeat runs each"

stripped() {  # stripped BINARY STRIP: the size of a stripped copy
        "$2" -o "$tmp/stripped" "$1" && stat -c %s "$tmp/stripped"
}
cross_strip=${BENCH_CROSS_STRIP:-aarch64-linux-gnu-strip}
echo "program size, stripped: $(uname -m) $(stripped "$native/agent/first-boot-agent" strip) bytes," \
     "cross $(stripped "$cross/agent/first-boot-agent" "$cross_strip") bytes"

make_disk_image "$tmp/disk.img" "$size_mib"
publish "$tmp/disk.img"
imaged_start
dev=$(new_loop $((size_mib + 16)))
backing=$tmp/target0.img
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.zst "$backing")"
for who in native cross; do
        [ "$who" = native ] && FBA_BIN=$native/agent/first-boot-agent || FBA_BIN=$wrapped
        for ((i = 1; i <= repeat; i++)); do
                dd if=/dev/zero of="$dev" bs=1M count=4 status=none
                /usr/bin/time -f '%M %e' -o "$tmp/time" \
                        env FIRST_BOOT_AGENT_LOG_TARGET=json "$FBA_BIN" --config "$tmp/cfg.json" \
                        --state-dir "$tmp/state" flash --no-progress >"$tmp/out" 2>&1
                rc=$?
                same_as_image "$dev" "$tmp/disk.img" && v=verified || v="NOT the image"
                read -r kb s <"$tmp/time"
                echo "$who run $i: exit $rc, $s s, peak RSS $((kb / 1024)) MiB, $v"
        done
done
