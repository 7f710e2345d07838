#!/bin/bash
# SPDX-License-Identifier: MIT
# The zero-touch proof on an emulated arm64 board (TAP). QEMU's virt machine (TCG, Cortex-A57)
# boots U-Boot (Debian's u-boot-qemu) from its CFI NOR flash; the flash's environment says to
# boot the SD card only (boot_targets=virtio0: a virtio disk stands for the card), so the board
# cannot boot its NVMe disk. U-Boot boots the installer from the card; the arm64 agent writes the
# new firmware to the NOR flash through MTD (U-Boot itself, found current; the environment,
# which adds nvme0 to boot_targets: erased, written, read back) and the gold image to NVMe, and
# powers off. Without the card, the old flash content finds nothing to boot; the new one boots
# NVMe, where systemd runs the agent: it looks the board up by MAC, joins, reports. A second
# power cycle is a no-op; a second installer run finds both firmware parts current.
# See tests/vm/README.md.
#
# board-arm64.sh [--keep] [--verbose] [--workdir DIR]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
src=${FBA_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}

. "$here/zero-touch/lib.sh"
while [ $# -gt 0 ]; do
        zt_option "$@"
        shift "$zt_used"
done

t_total=$(now)
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root (debootstrap, chroot, binfmt_misc)"
        exit 0
fi
if ! vm_need_packages qemu-system-arm u-boot-qemu u-boot-tools qemu-user-static debootstrap zstd e2fsprogs \
        fdisk kmod cpio python3 dpkg-dev debhelper file; then
        echo "1..0 # SKIP packages missing and not installable (tests/setup-deps.sh arm64)"
        exit 0
fi
if ! vm_foreign_exec arm64; then
        echo "1..0 # SKIP this machine cannot run arm64 programs through binfmt_misc (debootstrap's second stage, dpkg -i in the image need it)"
        exit 0
fi
zt_workdir fba-board-arm64

uboot=/usr/lib/u-boot/qemu_arm64/u-boot.bin
bank=$((64 * 1024 * 1024))     # each of the virt board's two flash banks
env_size=$((256 * 1024))        # U-Boot's environment: the first erase block of bank 1
mtdparts="0.flash:64m(u-boot),256k(u-boot-env),-(spare)"
mac=52:54:00:fb:a1:04
serial=FBA-BRD-NVME-$$

# ---- 1. the arm64 agent, packaged --------------------------------------------------------------
t=$(now)
deb=$(PKG_DEB_ARCH=arm64 "$src/tests/pkg/build-deb.sh" 2>"$work/deb.log")
[ -f "$deb" ] || { note "$(tail -n 20 "$work/deb.log")"; bail "the arm64 .deb does not build (tests/pkg/build-deb.sh)"; }
dpkg-deb -x "$deb" "$work/deb-root"
agent_bin=$work/deb-root/usr/sbin/first-boot-agent
file -b "$agent_bin" | grep -q 'ARM aarch64'
ok $? "agent: $(basename "$deb"), an ARM aarch64 program"
timed "arm64 .deb (cached by the tree's content)" "$(since "$t")"

# ---- 2. host servers and who the board is ----------------------------------------------------
zt_servers node04
python3 - "$work/groups.json" <<EOF
import json
node04 = {"node_id": "node04", "node_role": "worker", "bootstrap": False,
          "raft_addr": "10.0.2.15:2380", "node_ip": "10.0.2.15",
          "services": $(zt_node_services "$(port chainfire node04)" "$(port flaredb node04)" "$(port iam node04)")}
json.dump({"groups": [{"name": "node04", "selector": {"mac": "$mac"}, "config": node04}]},
          open("$work/groups.json", "w"), indent=2)
EOF
zt_groups "$work/groups.json"
ok 0 "host servers: cluster (leader node01, node04's local services, report), provisioning (node04 by MAC $mac), files"

# ---- 3. the flash: U-Boot in bank 0, its environment in bank 1 ---------------------------------
# The environment U-Boot was built with (its distro boot scripts), with another boot order:
# the old one boots only the SD card, the new one the card, else NVMe. After the boot targets,
# a board with nothing to boot powers off (instead of waiting at U-Boot's prompt).
python3 - "$uboot" "$work" <<'EOF'
import sys
blob = open(sys.argv[1], "rb").read()
start = blob.find(b"bootcmd=run distro_bootcmd\0")
end = blob.find(b"\0\0", start)
assert start >= 0 and end > start, "no default environment found in " + sys.argv[1]
env = dict(kv.decode().split("=", 1) for kv in blob[start:end].split(b"\0"))
env["bootdelay"] = "0"
env["bootcmd"] = "run distro_bootcmd; echo board: nothing bootable in ${boot_targets}; poweroff"
for name, targets in (("old", "virtio0"), ("new", "virtio0 nvme0")):
    env["boot_targets"] = targets
    with open("%s/env-%s.txt" % (sys.argv[2], name), "w") as f:
        f.writelines("%s=%s\n" % kv for kv in sorted(env.items()))
EOF
mkenvimage -s "$env_size" -o "$work/env-old.bin" "$work/env-old.txt" &&
        mkenvimage -s "$env_size" -o "$work/env-new.bin" "$work/env-new.txt" || bail "mkenvimage failed"
pad() {  # pad FILE SIZE: erased NOR reads 0xff
        local have
        have=$(stat -c %s "$1")
        head -c $(($2 - have)) /dev/zero | tr '\0' '\377' >>"$1"
}
cp "$uboot" "$work/bank0.bin" && pad "$work/bank0.bin" "$bank"
cp "$work/env-old.bin" "$work/bank1.bin" && pad "$work/bank1.bin" "$bank"
cp "$work/bank1.bin" "$work/bank1-old.bin"
bank0_sha=$(sha256sum <"$work/bank0.bin" | cut -d' ' -f1)
cp "$uboot" "$work/www/u-boot.bin"
cp "$work/env-new.bin" "$work/www/u-boot-env.bin"
ok 0 "flash: bank 0 holds U-Boot, bank 1 an environment with boot_targets=virtio0 (no NVMe)"

# ---- 4. kernel, gold image, installer card ---------------------------------------------------
t=$(now)
kit=$("$here/arm64-kernel.sh" 2>"$work/kernel.log") || { note "$(tail "$work/kernel.log")"; bail "arm64 kernel (arm64-kernel.sh)"; }
kver=$(cat "$kit/kver")
timed "arm64 kernel, busybox, flash drivers" "$(since "$t")"
t=$(now)
rootfs=$(VM_ARCH=arm64 "$here/build-rootfs.sh" 2>"$work/rootfs.log") || { note "$(tail "$work/rootfs.log")"; bail "arm64 root file system (debootstrap)"; }
grep -q 'cached' "$work/rootfs.log" && rootfs_state=warm || rootfs_state=cold
timed "arm64 root file system ($rootfs_state)" "$(since "$t")"

t=$(now)
"$here/make-initramfs.sh" --arch arm64 "$work/boot-root.cpio.gz" --exec-init "$zt/boot-root.sh" --no-net \
        --load virtio_pci,virtio_net,virtio_rng,nvme,ext4,autofs4 2>"$work/initramfs.log" ||
        { note "$(cat "$work/initramfs.log")"; bail "boot initramfs"; }
# The gold image boots as a board's Debian would: U-Boot's distro boot reads /boot/extlinux.
write_config "$work/node-config.json"
overlay=$work/gold-overlay
secrets_tree "$overlay" "$work/node-config.json"
zt_probe_overlay "$overlay"
install -D -m 644 "$kit/boot/vmlinuz-$kver" "$overlay/boot/Image"
install -D -m 644 "$work/boot-root.cpio.gz" "$overlay/boot/initrd.img"
install -d "$overlay/boot/extlinux"
printf 'default gold\nlabel gold\n  linux /boot/Image\n  initrd /boot/initrd.img\n  append console=ttyAMA0 panic=-1 systemd.show_status=1\n' \
        >"$overlay/boot/extlinux/extlinux.conf"
"$here/build-gold-image.sh" --rootfs "$rootfs" --deb "$deb" --overlay "$overlay" --hostname fba-node \
        --enable zt-probe.service "$work/gold.img" 2>"$work/gold.log"
ok $? "gold image for arm64: GPT + ext4 (debootstrap, systemd, the agent's .deb, /boot/extlinux for U-Boot)"
note "$(cat "$work/gold.log")"
[ -s "$work/gold.img.zst" ] || bail "no gold image"
gold_size=$(stat -c %s "$work/gold.img")
gold_sha=$(cat "$work/gold.img.zst.sha256")
cp "$work/gold.img.zst" "$work/www/gold.img.zst"

flash_json=$(cat <<EOF
{"images": [{"name": "system", "url": "http://10.0.2.2:$p_www/gold.img.zst",
             "sha256": "$gold_sha", "sha256_of": "file", "size": $gold_size,
             "target": {"type": "nvme", "serial": "$serial"}}],
 "firmware": [{"name": "u-boot", "mtd": "u-boot", "url": "http://10.0.2.2:$p_www/u-boot.bin",
               "sha256": "$(sha256sum <"$uboot" | cut -d' ' -f1)"},
              {"name": "u-boot-env", "mtd": "u-boot-env", "url": "http://10.0.2.2:$p_www/u-boot-env.bin",
               "sha256": "$(sha256sum <"$work/env-new.bin" | cut -d' ' -f1)"}],
 "on_success": "poweroff", "on_failure": "none", "progress_interval_s": 1}
EOF
)
write_config "$work/installer-config.json" "$flash_json"
secrets_tree "$work/installer-root" "$work/installer-config.json"
"$here/make-initramfs.sh" --arch arm64 "$work/installer.cpio.gz" --init "$zt/installer.sh" \
        --binary "$agent_bin:/usr/sbin/first-boot-agent" --file "$work/installer-root/etc:/etc" \
        --modules cfi_probe,cfi_cmdset_0001,physmap,cmdlinepart --load nvme 2>>"$work/initramfs.log" ||
        { note "$(cat "$work/initramfs.log")"; bail "installer initramfs"; }
# The card: one bootable partition, extlinux.conf, the kernel and the installer.
card=$work/card
install -D -m 644 "$kit/boot/vmlinuz-$kver" "$card/Image"
install -m 644 "$work/installer.cpio.gz" "$card/installer.gz"
install -d "$card/extlinux"
printf 'default install\nlabel install\n  linux /Image\n  initrd /installer.gz\n  append console=ttyAMA0 panic=-1 first_boot_agent.mode=flash vm.env.ZT_MTDPARTS=%s\n' \
        "$mtdparts" >"$card/extlinux/extlinux.conf"
card_mb=$(( $(du -sm "$card" | cut -f1) + 16 ))
truncate -s "${card_mb}M" "$work/card.fs"
mke2fs -q -F -t ext4 -L fba-sd -d "$card" "$work/card.fs" &&
        truncate -s $((card_mb + 2))M "$work/sd.img" &&
        printf 'label: dos\nstart=2048, size=%d, type=83, bootable\n' $((card_mb * 2048)) | sfdisk -q "$work/sd.img" >/dev/null &&
        dd if="$work/card.fs" of="$work/sd.img" bs=1M seek=1 conv=notrunc status=none ||
        bail "installer card image"
rm -rf "$card" "$work/card.fs"
ok 0 "installer card: extlinux.conf, the arm64 kernel, a busybox initramfs with the agent and the CFI/physmap modules"
timed "gold image, installer card" "$(since "$t")"

nvme=$work/nvme.img
truncate -s 2G "$nvme"
board() {  # board LOG [run-guest options]: power the board on; it boots what its flash says
        local log=$1
        shift
        "$here/run-guest.sh" --arch arm64 --mem 1024 --pflash "$work/bank0.bin" --pflash "$work/bank1.bin" \
                --nvme "$nvme:$serial" --mac "$mac" --timeout 900 --log "$log" "$@"
}
flash_shas() { sha256sum <"$work/bank0.bin" | cut -d' ' -f1; sha256sum <"$work/bank1.bin" | cut -d' ' -f1; }
records() {  # records LOG: the agent's records (firmware, flash, power) on a console
        grep -a '"message_id"' "$1" | grep -a -i 'firmware\|flash\|power' | cut -c1-300 | sed 's/^/# /'
}
uptime_of() {  # uptime_of LOG PREFIX: the seconds the installer printed after PREFIX
        grep -a -o "$2 at [0-9.]*s" "$1" | tail -n1 | sed 's/.* at \([0-9.]*\)s/\1/'
}

# ---- 5. boot 1: U-Boot boots the card; the agent writes flash and NVMe -------------------------
t=$(now)
board "$work/boot1.log" --disk "$work/sd.img:SD-CARD"
rc=$?
timed "boot 1 (U-Boot, card, installer, flash, power-off)" "$(since "$t")"
records "$work/boot1.log"
grep -a '^zt: ' "$work/boot1.log" | sed 's/^/# boot1: /'
grep -aq 'Scanning virtio 0:1' "$work/boot1.log" && grep -aq 'Retrieving file: /installer.gz' "$work/boot1.log"
ok $? "boot 1: U-Boot, with boot_targets=virtio0 from its flash, booted the installer from the card"
ok "$rc" "boot 1: the agent flashed and asked for the power-off by itself (guest exit $rc)"
cmp -n "$gold_size" "$work/gold.img" "$nvme" >/dev/null 2>&1
ok $? "after boot 1: the NVMe disk equals the gold image byte for byte ($gold_size bytes)"
cmp -n "$env_size" "$work/env-new.bin" "$work/bank1.bin" >/dev/null 2>&1 &&
        cmp -i "$env_size" "$work/bank1.bin" "$work/bank1-old.bin" >/dev/null 2>&1
ok $? "after boot 1: the flash's environment block holds the new environment; the rest of bank 1 is untouched"
[ "$(sha256sum <"$work/bank0.bin" | cut -d' ' -f1)" = "$bank0_sha" ]
ok $? "after boot 1: U-Boot in bank 0 unchanged (it was current)"
check "boot 1: firmware written (the environment) and found current (U-Boot); image flashed; power-off" \
        console-records "$work/boot1.log" "$src" MID_FIRMWARE_WRITTEN MID_FIRMWARE_CURRENT MID_FLASH_DONE MID_POWER_ACTION
check "after boot 1: the report endpoint received started/progress/done" events "$ctl" flash-started flash-progress flash-done
flash_after=$(flash_shas)

# ---- 6. what the old flash content does without the card ---------------------------------------
cp "$work/bank1.bin" "$work/bank1-new.bin"
cp "$work/bank1-old.bin" "$work/bank1.bin"
t=$(now)
board "$work/boot-old.log" --timeout 300
rc=$?
timed "old flash without the card (U-Boot finds nothing)" "$(since "$t")"
cp "$work/bank1-new.bin" "$work/bank1.bin"
rm -f "$work/bank1-new.bin"
[ "$rc" -eq 125 ] && grep -aq 'board: nothing bootable in virtio0' "$work/boot-old.log" &&
        ! grep -aq 'Starting kernel' "$work/boot-old.log"
ok $? "the old flash content, same NVMe disk, no card: U-Boot boots nothing and powers off (guest exit $rc)"

# ---- 7. boot 2: no card; the new flash content boots NVMe; first boot ------------------------------
control_post /control/reset-log '{}'
t=$(now)
board "$work/boot2.log"
rc=$?
timed "boot 2 (U-Boot, NVMe, systemd, first-boot-agent.service, join)" "$(since "$t")"
grep -a 'zt-probe:\|zt-boot:' "$work/boot2.log" | grep -v status-json | cut -c1-300 | sed 's/^/# boot2: /'
grep -aq 'Scanning nvme 0:1' "$work/boot2.log" && grep -aq 'Retrieving file: /boot/Image' "$work/boot2.log"
ok $? "boot 2: U-Boot, with the environment the agent wrote, booted the kernel from the NVMe disk"
ok "$rc" "boot 2: systemd ran first-boot-agent.service and the probe (guest exit $rc)"
zt_joined_checks "$work/boot2.log" "$mac"

# ---- 8. boot 3: a second power cycle is a no-op ---------------------------------------------------
zt_reset_logs
t=$(now)
board "$work/boot3.log"
rc=$?
timed "boot 3 (power cycle: agent done at once)" "$(since "$t")"
zt_done_checks "$work/boot3.log" "$rc"

# ---- 9. a second installer run: the firmware is current ------------------------------------------
t=$(now)
board "$work/boot4.log" --disk "$work/sd.img:SD-CARD"
rc=$?
timed "boot 4 (installer again: firmware current, image written)" "$(since "$t")"
records "$work/boot4.log"
ok "$rc" "boot 4: the card's installer ran again and powered off (guest exit $rc)"
[ "$(flash_shas)" = "$flash_after" ]
ok $? "boot 4: both flash banks are byte for byte what boot 1 left"
check "boot 4: both firmware parts compared current" console-records "$work/boot4.log" "$src" MID_FIRMWARE_CURRENT MID_FLASH_DONE
[ "$(grep -ac "$(sed -n 's/^#define MID_FIRMWARE_WRITTEN "\([0-9a-f]*\)".*/\1/p' "$src/agent/record/message-id.h")" "$work/boot4.log")" = 0 ] &&
        [ "$(grep -ac "$(sed -n 's/^#define MID_FIRMWARE_CURRENT "\([0-9a-f]*\)".*/\1/p' "$src/agent/record/message-id.h")" "$work/boot4.log")" = 2 ]
ok $? "boot 4: no firmware written, two found current"

# ---- timings -------------------------------------------------------------------------------
# The agent's run (firmware, then image: start, downloads, reports included), the image's own
# write (its record's ELAPSED_MS), and its peak RSS in the board's kernel.
for b in boot1 boot4; do
        a=$(uptime_of "$work/$b.log" "zt: agent-start")
        e=$(uptime_of "$work/$b.log" "agent-end action=[a-z]* rc=[0-9]*")
        [ -n "$a" ] && [ -n "$e" ] && timed "$b: the agent's flash run" "$(awk -v a="$a" -v b="$e" 'BEGIN { printf "%.1f", b - a }')"
        ms=$(grep -a "$(sed -n 's/^#define MID_FLASH_DONE "\([0-9a-f]*\)".*/\1/p' "$src/agent/record/message-id.h")" "$work/$b.log" |
                grep -a -o '"ELAPSED_MS":"[0-9]*"' | tail -n1 | tr -dc 0-9)
        [ -n "$ms" ] && timed "$b: of which the image's write (its record)" "$(awk -v m="$ms" 'BEGIN { printf "%.1f", m / 1000 }')"
        note "$b: agent peak RSS $(grep -a -o 'zt: agent-peak-rss-kb=[0-9]*' "$work/$b.log" | tail -n1 | cut -d= -f2) KiB (VmHWM)"
done
timed "whole test" "$(since "$t_total")"
echo "1..$tap_n"
note "timings:" "${timings[@]}"
exit 0
