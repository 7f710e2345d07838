#!/bin/bash
# SPDX-License-Identifier: MIT
# Targets the flasher refuses, each before a byte is written: a mounted disk (partition or
# whole), swap, a disk with holders (device mapper), an exclusively opened one, a read-only
# one, one too small (known from the config or from the zstd header), two matching disks,
# no matching disk, the disk holding the running root file system. --dry-run shows the
# choice. Block 127.20.5.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 5 "unsafe or ambiguous targets are refused before anything is written"

make_disk_image "$tmp/disk.img" 48
publish "$tmp/disk.img"
imaged_start
f=disk.img.zst
mnt=$tmp/mnt
mkdir -p "$mnt"
swapdev=""
dmname=fba-flash-test-$$
extra_cleanup() {
        [ -n "$swapdev" ] && swapoff "$swapdev" 2>/dev/null
        dmsetup remove "$dmname" 2>/dev/null
        umount "$mnt" 2>/dev/null
        flash_cleanup
}
trap extra_cleanup EXIT

expect_refused() { # expect_refused STATUS REGEX DESCRIPTION
        is "$1" 6 "$3: exit 6"
        like "$tmp/out" '"message_id":"ff5a92fb932146f8b76789779e979752"' "$3: MID_TARGET_REFUSED logged"
        like "$tmp/out" "$2" "$3: the reason is given"
}

untouched() { # untouched DEV DESCRIPTION: the device still holds the image copied in before
        cmp -s -n $((48 << 20)) "$1" "$tmp/disk.img"
        ok $? "$2: the disk is untouched"
}

fresh() { # fresh NAME: a loop device holding a copy of the image; prints it
        local d
        d=$(new_loop 64 "$1")
        dd if="$tmp/disk.img" of="$d" bs=1M conv=fsync status=none
        echo "$d"
}

# A mounted partition.
dev=$(fresh mounted)
partx -a "$dev" 2>/dev/null
mount -o ro "${dev}p2" "$mnt" || bail "mount failed"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/mounted.img")"
fba flash --no-progress
expect_refused $? "is mounted at '$mnt'" "mounted partition"
untouched "$dev" "mounted partition"
umount "$mnt"
partx -d "$dev" 2>/dev/null

# A whole disk mounted (a file system without a partition table).
dev=$(new_loop 64 wholefs)
mkfs.ext4 -q -F "$dev" >/dev/null
mount -o ro "$dev" "$mnt" || bail "mount failed"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/wholefs.img")"
fba flash --no-progress
expect_refused $? "is mounted at" "mounted whole disk"
umount "$mnt"

# Swap.
dev=$(fresh swap)
mkswap -q "$dev" >/dev/null && swapon "$dev" && swapdev=$dev
if [ -n "$swapdev" ]; then
        flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/swap.img")"
        fba flash --no-progress
        expect_refused $? "in use as swap" "swap"
        swapoff "$swapdev"
        swapdev=""
else
        ok 0 "# SKIP swapon failed"
fi

# Holders: a device-mapper device on top.
dev=$(fresh holder)
if dmsetup create "$dmname" --table "0 8192 linear $dev 0" 2>/dev/null; then
        flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/holder.img")"
        fba flash --no-progress
        expect_refused $? "in use by dm-" "device-mapper holder"
        untouched "$dev" "device-mapper holder"
        dmsetup remove "$dmname"
else
        ok 0 "# SKIP dmsetup create failed"
fi

# Opened exclusively by another program.
dev=$(fresh busy)
python3 -c 'import os,sys,time; fd=os.open(sys.argv[1], os.O_RDONLY|os.O_EXCL); open(sys.argv[2],"w").close(); time.sleep(30)' \
        "$dev" "$tmp/busy.ready" &
holder=$!
for ((i = 0; i < 100; i++)); do [ -e "$tmp/busy.ready" ] && break; sleep 0.05; done
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/busy.img")"
fba flash --no-progress
expect_refused $? "it is in use" "opened exclusively elsewhere"
untouched "$dev" "opened exclusively elsewhere"
kill "$holder"
wait "$holder" 2>/dev/null

# Read-only.
dd if="$tmp/disk.img" of="$tmp/ro.img" bs=1M status=none
truncate -s 64M "$tmp/ro.img"
dev=$(losetup -r -f --show "$tmp/ro.img")
loop_register "$dev"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/ro.img")"
fba flash --no-progress
expect_refused $? "read-only" "read-only disk"

# Too small: the configured size, checked before any download.
dev=$(new_loop 32 small)
imaged_ctl /control/reset '{}'
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/small.img" '"size": 50331648')"
fba flash --no-progress
expect_refused $? "too small" "configured size larger than the disk"
is "$(imaged_stat requests | python3 -c 'import sys; print(len(eval(sys.stdin.read())))')" 0 \
        "too small: nothing was downloaded"
# Too small: found in the zstd frame header, before anything is written.
dd if=/dev/urandom of="$dev" bs=1M count=1 conv=fsync status=none
head -c 1M "$tmp/small.img" >"$tmp/small.head"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/small.img")"
fba flash --no-progress
is "$?" 6 "image size from the zstd header larger than the disk: exit 6"
like "$tmp/out" 'the image is 50331648 bytes, the device only 33554432' "too small (zstd header): said so"
cmp -s -n 1048576 "$dev" "$tmp/small.head"
ok $? "too small (zstd header): the disk is untouched"

# Two matching disks (a pattern), and two loop devices on the same file.
fresh pair-a >/dev/null
fresh pair-b >/dev/null
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/pair-*.img")"
fba flash --no-progress
expect_refused $? "2 disks match" "two disks match"
like "$tmp/out" "matches.*pair-a.img" "both candidates are listed (a)"
like "$tmp/out" "matches.*pair-b.img" "both candidates are listed (b)"
dev=$(losetup -f --show "$tmp/pair-a.img")
loop_register "$dev"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/pair-a.img")"
fba flash --no-progress
expect_refused $? "2 disks match" "two loop devices on one file"

# No disk matches: the disks seen are listed with their properties.
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/nothing-here.img")"
fba flash --no-progress
expect_refused $? "No disk matches" "no matching disk"
like "$tmp/out" "seen /dev/loop[0-9]+: loop, .*backing_file=" "the disks seen are listed"

# The disk holding the running root file system (by path), with an unreachable image URL as a
# second safety net: it must be refused before anything is opened.
root_src=$(findmnt -no SOURCE / 2>/dev/null)
root_disk=""
if [ -b "$root_src" ]; then
        pk=$(lsblk -no PKNAME "$root_src" 2>/dev/null | head -n1)
        root_disk=/dev/${pk:-$(basename "$root_src")}
fi
if [ -b "$root_disk" ]; then
        flash_config "$tmp/cfg.json" \
                "{\"name\": \"system\", \"url\": \"http://$ip_server:1/none\", \"sha256\": \"$(sha256 "$tmp/srv/$f")\", \"target\": {\"type\": \"path\", \"path\": \"$root_disk\"}}"
        fba flash --no-progress
        expect_refused $? "holds the running system \('/' is on it\)" "the root disk ($root_disk)"
        unlike "$tmp/out" '"message_id":"4c37e35bf79e4183a75e55138b5bc827"' "the root disk: flashing never began"
else
        ok 0 "# SKIP the root file system is not on a block device"
fi

# --dry-run shows the choice and writes nothing.
dev=$(fresh dry)
flash_config "$tmp/cfg.json" "$(image_entry system $f "$tmp/dry.img")"
dd if=/dev/zero of="$dev" bs=1M count=1 conv=fsync status=none
fba flash --dry-run
is "$?" 0 "--dry-run: exit 0"
like "$tmp/out" "goes to $dev: loop" "--dry-run: the chosen disk is named"
is "$(head -c 1M "$dev" | tr -d '\0' | wc -c)" 0 "--dry-run: nothing written"

tap_done
