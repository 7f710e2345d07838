#!/bin/bash
# SPDX-License-Identifier: MIT
# Broken transfers resume where they broke: a server that drops the connection in the middle
# of the body several times, one that ignores Range, one that answers 503 for a while, one
# that stops answering; the Range requests are counted. Block 127.20.3.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 3 "a broken download resumes with Range requests"

make_disk_image "$tmp/disk.img" 64
publish "$tmp/disk.img"
imaged_start
dev=$(new_loop 64)
backing=$tmp/target0.img

# Five drops: the first answer breaks after 700 KB, then each resumed one after 500 KB more.
f=disk.img.zst
size=$(stat -c %s "$tmp/srv/$f")
imaged_ctl /control/reset '{}'
imaged_ctl /control/drop "{\"path\": \"/$f\", \"after\": 700000, \"count\": 1}"
imaged_ctl /control/drop "{\"path\": \"/$f\", \"after\": 500000, \"count\": 4}"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$backing")"
fba flash --no-progress
is "$?" 0 "five dropped connections: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "five dropped connections: byte for byte"
is "$(imaged_stat drops)" 5 "the server dropped 5 connections"
is "$(imaged_stat range_requests)" 5 "the agent sent 5 Range requests"
sent=$(imaged_stat bytes_sent)
is "$sent" "$size" "bytes sent equal the file size: no byte was fetched twice"
is "$(grep -c '"message_id":"ba72bcfa0f39458aba7df84d625aa840"' "$tmp/out")" 5 "five MID_ATTEMPT_FAILED records"
like "$tmp/out" 'broke at byte 700000' "the first resume starts at byte 700000"

# Connection resets lose what was in flight; the agent resumes from what it really got.
imaged_ctl /control/reset '{}'
imaged_ctl /control/drop "{\"path\": \"/$f\", \"after\": 900000, \"count\": 3, \"rst\": true}"
dd if=/dev/zero of="$dev" bs=1M count=2 status=none
fba flash --no-progress
is "$?" 0 "three resets: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "three resets: byte for byte"
is "$(imaged_stat range_requests)" 3 "three resets: 3 Range requests"

# A server that ignores Range answers 200: the agent skips what it already has.
imaged_ctl /control/reset '{}'
imaged_ctl /control/ignore-range '{"enabled": true}'
imaged_ctl /control/drop "{\"path\": \"/disk.img.gz\", \"after\": 1000000, \"count\": 2}"
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.gz "$backing")"
dd if=/dev/zero of="$dev" bs=1M count=2 status=none
fba flash --no-progress
is "$?" 0 "Range ignored: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "Range ignored: byte for byte"
is "$(imaged_stat drops)" 2 "Range ignored: two drops"
imaged_ctl /control/ignore-range '{"enabled": false}'

# 503 twice, then the raw image with drops near the end.
imaged_ctl /control/reset '{}'
imaged_ctl /control/fail '{"path": "/disk.img", "status": 503, "count": 2}'
imaged_ctl /control/drop '{"path": "/disk.img", "after": 60000000, "count": 1}'
flash_config "$tmp/cfg.json" "$(image_entry system disk.img "$backing")"
dd if=/dev/zero of="$dev" bs=1M count=2 status=none
fba flash --no-progress
is "$?" 0 "503 twice then a drop: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "503 twice then a drop: byte for byte"
like "$tmp/out" 'HTTP 503' "the 503 answers were logged"
is "$(imaged_stat range_requests)" 1 "one Range request after the drop"

# Retries are bounded: a server that keeps dropping before sending anything new fails the
# flash after "retries" attempts in a row; what was written is wiped.
dd if="$tmp/disk.img" of="$dev" bs=1M conv=fsync status=none
imaged_ctl /control/reset '{}'
imaged_ctl /control/drop "{\"path\": \"/$f\", \"after\": $((size - 50000)), \"count\": 1}"
imaged_ctl /control/drop "{\"path\": \"/$f\", \"after\": 0, \"count\": -1}"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$backing")" '"retries": 3'
fba flash --no-progress
is "$?" 6 "endless drops: exit 6"
is "$(imaged_stat range_requests)" 3 "endless drops: 3 retries, then it gives up"
has_partition_table "$dev"
ok $((!$?)) "endless drops: no partition table afterwards"

tap_done
