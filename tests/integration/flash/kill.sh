#!/bin/bash
# SPDX-License-Identifier: MIT
# kill -9 of the agent at random points of a (throttled) flash: afterwards the disk either
# holds no partition table, or one belonging to a complete image (the old one, before
# anything was written, or the new one once finished) — never a partition table beside a
# partial image. A rerun completes. SIGTERM stops cleanly with the disk wiped. Block
# 127.20.4.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 4 "kill -9 at random points never leaves a bootable partial image"

make_disk_image "$tmp/disk.img" 64
make_disk_image "$tmp/old.img" 64
publish "$tmp/disk.img"
imaged_start --rate 1000000
dev=$(new_loop 64)
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.zst "$tmp/target0.img")"
size=$(stat -c %s "$tmp/srv/disk.img.zst")
diag "compressed image: $size bytes at 1 MB/s"

# state: "none" (no table), "old", "new", or "PARTIAL" (a table with anything else).
disk_state() {
        if ! has_partition_table "$dev"; then
                echo none
        elif same_as_image "$dev" "$tmp/disk.img"; then
                echo new
        elif same_as_image "$dev" "$tmp/old.img"; then
                echo old
        else
                echo PARTIAL
        fi
}

# wait_written FILE: until the agent's progress records show image bytes on the disk.
wait_written() {
        local i
        for ((i = 0; i < 100; i++)); do
                grep -q '"message_id":"42bcdb2fe57b4f2a96be8446ad6f90a7".*"BYTES":"[1-9]' "$1" && return 0
                sleep 0.1
        done
        return 1
}

seen=""
for i in 1 2 3 4 5 6; do
        dd if="$tmp/old.img" of="$dev" bs=1M conv=fsync status=none
        ms=$((100 + RANDOM % 3000))
        FIRST_BOOT_AGENT_LOG_TARGET=json "$FBA_BIN" --config "$tmp/cfg.json" --state-dir "$tmp/state" \
                flash --no-progress >"$tmp/out.$i" 2>&1 &
        pid=$!
        sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        st=$(disk_state)
        seen="$seen $st"
        case $st in
        none | old | new) ok 0 "kill -9 after ${ms} ms: the disk is '$st'" ;;
        *) ok 1 "kill -9 after ${ms} ms: a partition table beside a partial image" ;;
        esac
done
diag "states seen:$seen"

# The rerun after a kill completes.
dd if="$tmp/old.img" of="$dev" bs=1M conv=fsync status=none
FIRST_BOOT_AGENT_LOG_TARGET=json "$FBA_BIN" --config "$tmp/cfg.json" --state-dir "$tmp/state" \
        flash --no-progress >"$tmp/out.k" 2>&1 &
pid=$!
wait_written "$tmp/out.k"
ok $? "the agent reports bytes written"
kill -9 "$pid"
wait "$pid" 2>/dev/null
is "$(disk_state)" none "killed in the middle: no partition table"
imaged_ctl /control/rate '{"bytes_per_s": 0}'
fba flash --no-progress
is "$?" 0 "the rerun exits 0"
is "$(disk_state)" new "the rerun leaves the complete new image"

# SIGTERM: the agent stops, wipes and says so.
imaged_ctl /control/rate '{"bytes_per_s": 1000000}'
dd if="$tmp/old.img" of="$dev" bs=1M conv=fsync status=none
FIRST_BOOT_AGENT_LOG_TARGET=json "$FBA_BIN" --config "$tmp/cfg.json" --state-dir "$tmp/state" \
        flash --no-progress >"$tmp/out.term" 2>&1 &
pid=$!
# Its own output file: $tmp/out still holds the rerun's progress records.
wait_written "$tmp/out.term"
ok $? "SIGTERM: the agent reports bytes written first"
kill -TERM "$pid"
wait "$pid"
is "$?" 6 "SIGTERM: exit 6"
is "$(disk_state)" none "SIGTERM: no partition table"
like "$tmp/out.term" 'Interrupted' "SIGTERM: logged"

tap_done
