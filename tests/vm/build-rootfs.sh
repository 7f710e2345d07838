#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds (or reuses from the cache) the gold image's base root filesystem: debootstrap minbase
# with systemd, udev, dbus and the agent's runtime libraries, trimmed and prepared to boot under
# a direct kernel boot. Prints the path of the cached tarball (tar.zst) on stdout.
#
# build-rootfs.sh [--force]
#
# VM_ARCH=arm64 builds an arm64 root (the emulated board's) on this amd64 machine: debootstrap
# runs its second stage under qemu-user through binfmt_misc (vm_foreign_exec in lib.sh).
# The cache key covers the suite, the mirror, the architecture, the package list and this
# script; the mirror is the one this machine's apt uses for its suite (from `apt-cache policy`).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

force=0
[ "${1:-}" = --force ] && force=1

[ "$(id -u)" -eq 0 ] || vm_die "debootstrap needs root"
vm_need_packages debootstrap zstd tar || exit 1

. /etc/os-release
suite=${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}
arch=${VM_ARCH:-$(dpkg --print-architecture)}
vm_foreign_exec "$arch" || vm_die "cannot run $arch programs here, which debootstrap's second stage needs"

# The mirror: the archive apt already uses for "<suite>/main".
mirror=${VM_APT_MIRROR:-$(apt-cache policy 2>/dev/null |
        awk -v s="$suite/main" -v a="$arch" '$3 == s && $4 == a && $5 == "Packages" { print $2; exit }')}
[ -n "$mirror" ] || vm_die "no apt source for '$suite/main' found in this machine's apt configuration"

packages=systemd,systemd-sysv,udev,dbus,libcurl4,libjansson4,libyaml-0-2,libssl3,libblkid1,libudev1,liblzma5,libzstd1,zlib1g,libsystemd0

key=$(printf '%s\n' "$suite" "$mirror" "$arch" "$packages" "$(sha256sum <"$0")" |
        sha256sum | cut -c1-24)
out=$VM_CACHE_DIR/rootfs/$suite-$arch-$key.tar.zst
if [ "$force" = 0 ] && [ -s "$out" ]; then
        vm_log "rootfs cached: $out"
        echo "$out"
        exit 0
fi

mkdir -p "$VM_CACHE_DIR/rootfs"
root=$(mktemp -d "$VM_CACHE_DIR/rootfs/build.XXXXXX")
cleanup() {
        for m in proc sys dev/pts dev; do
                mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m"
        done
        rm -rf "$root"
}
trap cleanup EXIT

vm_log "debootstrap $suite ($arch) from $mirror"
t0=$(date +%s)
debootstrap --variant=minbase --arch="$arch" --include="$packages" \
        "$suite" "$root" "$mirror" >"$root.log" 2>&1 || {
        tail -n 30 "$root.log" >&2
        vm_die "debootstrap failed (log: $root.log)"
}
rm -f "$root.log"
vm_log "debootstrap took $(($(date +%s) - t0))s"

# Trim what a node never reads, to keep the image (and the flash) small.
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* \
       "$root"/usr/share/locale/* "$root"/var/cache/apt/archives/*.deb \
       "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old \
       "$root"/var/log/*.log "$root"/var/log/apt/*

# Boot preparation: the root is found by label, the network by DHCP through networkd, the
# journal is persistent, and units that only cost time under emulation are masked.
printf 'LABEL=fba-root / ext4 defaults,errors=remount-ro 0 1\n' >"$root/etc/fstab"
mkdir -p "$root/var/log/journal" "$root/etc/systemd/network"
cat >"$root/etc/systemd/network/80-dhcp.network" <<'EOF'
[Match]
Name=en* eth*

[Network]
DHCP=ipv4
EOF
chroot "$root" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1 ||
        vm_die "cannot enable systemd-networkd in the root"
for u in systemd-firstboot.service getty@tty1.service serial-getty@ttyS0.service serial-getty@ttyAMA0.service \
         apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service \
         fstrim.timer systemd-timesyncd.service; do
        ln -sf /dev/null "$root/etc/systemd/system/$u"
done
: >"$root/etc/machine-id"

tar --numeric-owner --xattrs -C "$root" -cf - . | zstd -q -T0 -3 >"$out.tmp"
mv "$out.tmp" "$out"
vm_log "rootfs $out ($(du -h "$out" | cut -f1))"
echo "$out"
