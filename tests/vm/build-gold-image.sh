#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds a gold image: a GPT disk with one ext4 root partition (label fba-root) made from the
# base root filesystem (build-rootfs.sh), the agent installed from its .deb (or a meson install
# tree), and an overlay of files (config, certificates, extra units). No loop device and no
# mount: the file system is populated by mke2fs -d.
#
# build-gold-image.sh --rootfs TAR.zst (--deb FILE | --destdir DIR) [--overlay DIR]
#                     [--enable UNIT]... [--hostname NAME] OUT.img
#
# Writes OUT.img, OUT.img.zst and OUT.img.zst.sha256 (of the compressed file, as served), and
# OUT.img.sha256 (of the raw disk).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

rootfs=
deb=
destdir=
overlays=()
enable=()
hostname=node
out=
while [ $# -gt 0 ]; do
        case "$1" in
        --rootfs) rootfs=$2; shift 2 ;;
        --deb) deb=$2; shift 2 ;;
        --destdir) destdir=$2; shift 2 ;;
        --overlay) overlays+=("$2"); shift 2 ;;
        --enable) enable+=("$2"); shift 2 ;;
        --hostname) hostname=$2; shift 2 ;;
        -*) vm_die "unknown option '$1'" ;;
        *) out=$1; shift ;;
        esac
done
[ -n "$out" ] && [ -r "$rootfs" ] || vm_die "usage: build-gold-image.sh --rootfs TAR.zst (--deb F | --destdir D) [--overlay D] OUT.img"
[ -n "$deb$destdir" ] || vm_die "give the agent as --deb FILE or --destdir DIR"
[ "$(id -u)" -eq 0 ] || vm_die "building the image needs root (chroot, file ownership)"
vm_need_packages e2fsprogs fdisk zstd || exit 1

root=$(mktemp -d "$(dirname "$out")/gold-root.XXXXXX")
trap 'rm -rf "$root" "$out.fs"' EXIT

# Copies a tree into the root; the root's directory symlinks (/lib -> usr/lib) are kept.
copy_tree() {
        tar -C "$1" -cf - . | tar -C "$root" --keep-directory-symlink -xf -
}

zstd -qdc "$rootfs" | tar --numeric-owner --xattrs -C "$root" -xf -

if [ -n "$deb" ]; then
        cp "$deb" "$root/tmp/agent.deb"
        if ! chroot "$root" dpkg -i /tmp/agent.deb >"$root/tmp/dpkg.log" 2>&1; then
                cat "$root/tmp/dpkg.log" >&2
                vm_die "dpkg -i of '$deb' in the gold root failed"
        fi
        rm -f "$root/tmp/agent.deb" "$root/tmp/dpkg.log"
else
        copy_tree "$destdir"
fi
for o in "${overlays[@]}"; do
        copy_tree "$o"
done
for u in "${enable[@]}"; do
        chroot "$root" systemctl enable "$u" >/dev/null 2>&1 || vm_die "cannot enable '$u' in the gold root"
done
echo "$hostname" >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 %s\n' "$hostname" >"$root/etc/hosts"

used_mb=$(du -sm "$root" | cut -f1)
fs_mb=$(( used_mb * 13 / 10 + 96 ))
[ "$fs_mb" -ge 256 ] || fs_mb=256
rm -f "$out.fs"
truncate -s "${fs_mb}M" "$out.fs"
mke2fs -q -F -t ext4 -L fba-root -E nodiscard,lazy_itable_init=0 -d "$root" "$out.fs"

# GPT: 1 MiB before the partition, 1 MiB after it for the backup table.
disk_bytes=$(( (fs_mb + 2) * 1024 * 1024 ))
rm -f "$out"
truncate -s "$disk_bytes" "$out"
printf 'label: gpt\nstart=2048, size=%d, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="root"\n' \
        $(( fs_mb * 2048 )) | sfdisk -q "$out" >/dev/null
dd if="$out.fs" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none

sha256sum <"$out" | cut -d' ' -f1 >"$out.sha256"
rm -f "$out.zst"
zstd -q -T0 -3 "$out" -o "$out.zst"
sha256sum <"$out.zst" | cut -d' ' -f1 >"$out.zst.sha256"
vm_log "gold image $out: $((disk_bytes / 1048576)) MiB, root ${used_mb} MiB used, $(du -h "$out.zst" | cut -f1) compressed"
