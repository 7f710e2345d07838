#!/bin/bash
# SPDX-License-Identifier: MIT
# A GPT disk image (two ext4 partitions with files, mostly zeroes) served raw, zstd, xz and
# gzip, over HTTP and HTTPS, flashed to a loop device: byte for byte the image each time, the
# partitions readable, the state record, the reports, the LED. Block 127.20.1.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 1 "flash each compression to a loop device and compare"

make_disk_image "$tmp/disk.img" 64
publish "$tmp/disk.img"
imaged_start
report_start
dev=$(new_loop 80)
backing=$tmp/target0.img

for f in disk.img disk.img.zst disk.img.xz disk.img.gz; do
        dd if=/dev/urandom of="$dev" bs=1M count=4 seek=10 status=none   # stale data inside
        flash_config "$tmp/cfg.json" "$(image_entry system "$f" "$backing")"
        fba flash --no-progress
        is "$?" 0 "$f: flash exits 0"
        same_as_image "$dev" "$tmp/disk.img"
        ok $? "$f: the device holds the image byte for byte"
        like "$tmp/out" '"message_id":"c26a6d54e2774cd4ba7eb1b2ed7fc937"' "$f: MID_FLASH_DONE logged"
done
like "$tmp/out" 'gzip, ' "the last one was sniffed as gzip"
like "$tmp/out" 'zeroed with ' "zero runs went to the kernel's zero-out"

# The partition table is valid and the file systems readable.
sfdisk -d "$dev" >"$tmp/pt" 2>/dev/null
like "$tmp/pt" 'name="root"' "sfdisk reads the flashed GPT"
partx -a "$dev" 2>/dev/null
is "$(blkid -o value -s LABEL "${dev}p2" 2>/dev/null)" root "the root partition's ext4 is found"
partx -d "$dev" 2>/dev/null

# An image whose size is whole sectors but not whole 4 KiB grains, ending in data: the last,
# partial grain goes out as data, from the decoder's window or from the block.
head -c $((64 * 1024 * 1024 - 2560)) "$tmp/disk.img" >"$tmp/odd.img"
head -c 3000 /dev/urandom | dd of="$tmp/odd.img" bs=1 seek=$((64 * 1024 * 1024 - 5560)) conv=notrunc status=none
for c in zst raw; do
        f=odd.img
        [ "$c" = zst ] && zstd -q -f "$tmp/odd.img" -o "$tmp/srv/odd.img.zst" && f=odd.img.zst
        [ "$c" = raw ] && cp "$tmp/odd.img" "$tmp/srv/odd.img"
        flash_config "$tmp/cfg.json" "$(image_entry system "$f" "$backing")"
        dd if=/dev/urandom of="$dev" bs=1M count=1 seek=63 status=none
        fba flash --no-progress
        is "$?" 0 "odd-sized image ($c): flash exits 0"
        same_as_image "$dev" "$tmp/odd.img"
        ok $? "odd-sized image ($c): byte for byte"
done

# The uncompressed image's hash instead of the file's.
h=$(sha256 "$tmp/disk.img")
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.xz "$backing" "\"sha256_of\": \"image\"")"
sed -i "s/\"sha256\": \"[0-9a-f]*\"/\"sha256\": \"$h\"/" "$tmp/cfg.json"
dd if=/dev/zero of="$dev" bs=1M count=2 status=none
fba flash --no-progress
is "$?" 0 "sha256_of image: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "sha256_of image: byte for byte"

# HTTPS with the test CA; reports; an LED in a test directory; the state record.
sh "$gencerts" "$tmp/certs" "$ip_server" >/dev/null 2>&1 || bail "gen-certs failed"
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null
pids=("${pids[@]:1}")
imaged_start --tls-dir "$tmp/certs"
mkdir -p "$tmp/leds/status"
echo 255 >"$tmp/leds/status/max_brightness"
entry=$(image_entry system disk.img.zst "$backing")
entry=${entry/http:/https:}
flash_config "$tmp/cfg.json" "$entry" "\"led\": \"status\", \"ca_cert_path\": \"$tmp/certs/ca.crt\"" \
        "\"report\": {\"url\": \"http://$ip_report:8000/report\"}"
dd if=/dev/zero of="$dev" bs=1M count=2 status=none
FIRST_BOOT_AGENT_LEDS_DIR=$tmp/leds fba flash --no-progress
is "$?" 0 "HTTPS: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "HTTPS: byte for byte"
is "$(cat "$tmp/leds/status/trigger")" none "LED: steady at the end"
is "$(cat "$tmp/leds/status/brightness")" 255 "LED: at full brightness"
events=$(report_events | tr '\n' ' ')
case $events in
flash-started*flash-done*) ok 0 "reports: $events" ;;
*) ok 1 "reports: started … done, got '$events'" ;;
esac
python3 - "$tmp/state/state.json" "$(sha256 "$tmp/srv/disk.img.zst")" >"$tmp/st" 2>&1 <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
f = s["flash"]["images"]["system"]
assert s["flash"]["result"] == "done", s["flash"]
assert f["verdict"] == "written", f
assert f["sha256"] == sys.argv[2], f
assert f["bytes_written"] == 64 << 20, f
print("ok")
EOF
like "$tmp/st" '^ok$' "state.json: verdict written, hash and bytes recorded"
"$FBA_BIN" --config "$tmp/cfg.json" --state-dir "$tmp/state" status >"$tmp/status" 2>&1
like "$tmp/status" 'verdict=written' "status shows the flash record"

# The same server certificate signed by another CA is refused, and nothing is written.
flash_config "$tmp/cfg.json" "$entry" "\"ca_cert_path\": \"$tmp/certs/other-ca.crt\", \"retries\": 0"
dd if="$tmp/disk.img" of="$dev" bs=1M count=1 conv=notrunc status=none
fba flash --no-progress
is "$?" 6 "HTTPS with an untrusted certificate: exit 6"
same_as_image "$dev" "$tmp/disk.img"
ok $? "HTTPS with an untrusted certificate: the disk is untouched"

tap_done
