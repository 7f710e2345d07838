#!/bin/bash
# SPDX-License-Identifier: MIT
# Images made of independent frames, decoded on every core: pzstd output, zstd frames
# concatenated (frames whose sizes are not whole grains, so their output is re-blocked), the
# seekable layout (a seek table at the end), and xz with several blocks (xz -T0): byte for byte
# on a loop device each time, with the frames counted in the debug record. A frame that is
# corrupt, cut short or fails its checksum fails the flash and leaves no partition table (or,
# failing before the writer's first write, the disk as it was).
# Block 127.76.1.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 127.76.1 "multi-frame zstd and multi-block xz to a loop device"
command -v pzstd >/dev/null || skip_all "pzstd not installed"

make_disk_image "$tmp/disk.img" 64
img=$tmp/disk.img
# pzstd: a skippable frame with the size before each frame of 8 MiB of the image.
pzstd -q -p 2 -3 "$img" -o "$tmp/srv/p.zst"
# Frames of 3,000,000 bytes of the image each (not whole 4 KiB grains), back to back.
split -b 3000000 -d -a 3 "$img" "$tmp/piece."
for f in "$tmp"/piece.*; do zstd -q -3 --no-progress -c "$f"; done >"$tmp/srv/cat.zst"
rm -f "$tmp"/piece.*
# The seekable layout: frames of 1 MiB, then the seek table (skippable frame 0x184D2A5E).
split -b 1048576 -d -a 3 "$img" "$tmp/piece."
n=0
for f in "$tmp"/piece.*; do zstd -q -1 --no-check -c "$f"; n=$((n + 1)); done >"$tmp/srv/seek.zst"
python3 - "$tmp/srv/seek.zst" "$n" <<'PY'
import struct, sys
n = int(sys.argv[2])
table = b"".join(struct.pack("<II", 0, 1 << 20) for _ in range(n))
body = table + struct.pack("<IBI", n, 0, 0x8F92EAB1)
open(sys.argv[1], "ab").write(struct.pack("<II", 0x184D2A5E, len(body)) + body)
PY
rm -f "$tmp"/piece.*
# xz with blocks of 4 MiB (what xz -T0 makes, at a size this image has several of).
xz -T2 --block-size=4MiB -1 -c "$img" >"$tmp/srv/mt.xz"

imaged_start
dev=$(new_loop 80)
backing=$tmp/target0.img

frames_of() { # the frames= and threads= of the debug record
        grep -o 'frames=[0-9]* threads=[0-9]*' "$tmp/out" | tail -n1
}

for f in p.zst cat.zst seek.zst mt.xz; do
        dd if=/dev/urandom of="$dev" bs=1M count=4 seek=10 status=none
        flash_config "$tmp/cfg.json" "$(image_entry system "$f" "$backing")"
        FIRST_BOOT_AGENT_LOG_LEVEL=debug fba flash --no-progress
        is "$?" 0 "$f: flash exits 0"
        same_as_image "$dev" "$img"
        ok $? "$f: the device holds the image byte for byte"
        diag "$f: $(frames_of)"
done
# pzstd's frames: one before each skippable frame that carries a size (magic 50 2a 4d 18).
nframes=$(python3 -c 'import sys; print(open(sys.argv[1], "rb").read().count(b"\x50\x2a\x4d\x18\x04\x00\x00\x00"))' "$tmp/srv/p.zst")
flash_config "$tmp/cfg.json" "$(image_entry system p.zst "$backing")"
FIRST_BOOT_AGENT_LOG_LEVEL=debug fba flash --no-progress
if [ "$(nproc)" -gt 1 ]; then
        like "$tmp/out" "frames=$nframes threads=[2-9]" "pzstd: $nframes frames decoded by more than one thread"
else
        like "$tmp/out" "frames=$nframes threads=1" "pzstd: $nframes frames decoded (one core here)"
fi
# Pinned to one core: the same frames, one thread.
FIRST_BOOT_AGENT_LOG_LEVEL=debug FIRST_BOOT_AGENT_LOG_TARGET=json taskset -c 0 "$FBA_BIN" --config "$tmp/cfg.json" \
        --state-dir "$tmp/state" flash --no-progress >"$tmp/out" 2>&1
is "$?" 0 "pzstd on one core: flash exits 0"
same_as_image "$dev" "$img"
ok $? "pzstd on one core: byte for byte"
like "$tmp/out" "frames=$nframes threads=1" "pzstd on one core: $nframes frames, one thread"
flash_config "$tmp/cfg.json" "$(image_entry system cat.zst "$backing")"
FIRST_BOOT_AGENT_LOG_LEVEL=debug fba flash --no-progress
like "$tmp/out" 'frames=23 ' "concatenated: 23 frames decoded"

restore_old() {
        dd if="$img" of="$dev" bs=1M conv=fsync status=none
}

# A frame in the middle made corrupt (the file's hash matches: only the decoder can tell).
size=$(stat -c %s "$tmp/srv/p.zst")
cp "$tmp/srv/p.zst" "$tmp/srv/bad.zst"
printf '\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff' |
        dd of="$tmp/srv/bad.zst" bs=1 seek=$((size / 2)) conv=notrunc status=none
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system bad.zst "$backing")"
fba flash --no-progress
expect_wiped $? "a corrupt frame" "$dev" "$img"
like "$tmp/out" 'corrupt zstd data near byte|zstd stream ends early' "a corrupt frame: said so"
like "$tmp/out" 'published file itself is corrupt' "a corrupt frame: the hash matched"

# Cut short inside the last frame.
head -c $((size - 100)) "$tmp/srv/p.zst" >"$tmp/srv/cut.zst"
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system cut.zst "$backing")"
fba flash --no-progress
expect_wiped $? "a cut frame" "$dev" "$img"
like "$tmp/out" 'zstd stream ends early' "a cut frame: said so"

# A frame's checksum changed (the 4 bytes before the next pzstd skippable header).
python3 - "$tmp/srv/p.zst" "$tmp/srv/sum.zst" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.find(b"\x50\x2a\x4d\x18", 100)           # the second frame's skippable header
d[i - 1] ^= 0x10                                # the last byte of the first frame's checksum
open(sys.argv[2], "wb").write(d)
PY
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system sum.zst "$backing")"
fba flash --no-progress
expect_wiped $? "a frame's checksum" "$dev" "$img"
like "$tmp/out" 'does not match its checksum' "a frame's checksum: said so"

tap_done
