#!/bin/sh
# SPDX-License-Identifier: MIT
# Boots 2 and 3: PID 1 of the boot initramfs (the harness's /init has mounted /proc, /sys, /dev
# and loaded nvme, ext4 and the NIC driver). Mounts the ext4 root labelled fba-root found on
# the NVMe disk and hands over to systemd.
fail() {
        echo "zt-boot: $*"
        echo "@@VM-GUEST-EXIT-CODE=91@@"
        sync
        poweroff -f
}
dev=
for _ in $(seq 100); do
        dev=$(findfs LABEL=fba-root 2>/dev/null) && break
        sleep 0.1
done
[ -n "$dev" ] || fail "no file system labelled fba-root (is the disk flashed?)"
mkdir -p /newroot
mount -t ext4 -o rw "$dev" /newroot || fail "cannot mount $dev"
[ -x /newroot/lib/systemd/systemd ] || fail "$dev holds no systemd"
echo "zt-boot: root $dev, switching to systemd at $(cut -d' ' -f1 /proc/uptime)s"
umount /dev/pts 2>/dev/null
for m in dev proc sys run; do
        mount --move "/$m" "/newroot/$m" || fail "cannot move /$m"
done
exec switch_root /newroot /lib/systemd/systemd
