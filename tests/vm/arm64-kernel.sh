#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds (or reuses from the cache) what an arm64 guest boots: Debian's arm64 kernel
# (linux-image-arm64's kernel) with its modules, busybox-static:arm64, and the NOR flash
# drivers Debian's arm64 kernel leaves out (CONFIG_MTD_CFI, CONFIG_MTD_PHYSMAP_OF and
# CONFIG_MTD_CMDLINE_PARTS are off there): cfi_probe, cfi_util, gen_probe, cfi_cmdset_0001
# (the Intel command set of QEMU's pflash), physmap (with device tree) and cmdlinepart, built
# as out-of-tree modules from that kernel's linux-source against its linux-headers. Prints the
# directory:
#
#   boot/vmlinuz-KVER         the kernel (an uncompressed arm64 Image, as U-Boot's booti wants)
#   lib/modules/KVER/         its modules, the flash drivers in extra/, depmod run
#   bin/busybox               busybox-static for arm64
#   kver                      KVER
#
# arm64-kernel.sh
#
# The packages come with apt-get download from the archive this machine's apt uses (multiarch:
# dpkg --add-architecture arm64, then apt-get update; tests/setup-deps.sh arm64 does both). The
# cache key is the packages' versions and this script.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

dpkg --print-foreign-architectures | grep -qx arm64 ||
        vm_die "arm64 is not a dpkg architecture here: run tests/setup-deps.sh arm64 (it runs dpkg --add-architecture arm64 and apt-get update)"
for c in aarch64-linux-gnu-gcc make apt-get xz; do
        command -v "$c" >/dev/null || vm_die "'$c' is missing: run tests/setup-deps.sh arm64"
done

image=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[^:]*-arm64\).*/\1/p' | head -n1)
[ -n "$image" ] || vm_die "apt knows no linux-image-arm64:arm64: run tests/setup-deps.sh arm64 (apt-get update after dpkg --add-architecture arm64)"
kver=${image#linux-image-}
abi=${kver%-arm64}                                      # 6.1.0-57
series=$(echo "$abi" | cut -d. -f1,2)                   # 6.1
packages=("$image:arm64" "linux-headers-$kver:arm64" "linux-headers-$abi-common" "linux-kbuild-$series"
          "linux-source-$series" busybox-static:arm64)
# The versions apt would install (one apt-cache call: each costs seconds).
mapfile -t versions < <(apt-cache policy "${packages[@]}" 2>/dev/null |
        awk '/^[^ ]/ { p = $1 } $1 == "Candidate:" && $2 != "(none)" { print p $2 }')
[ ${#versions[@]} -eq ${#packages[@]} ] ||
        vm_die "apt has no candidate for some of ${packages[*]} (found: ${versions[*]})"
key=$(printf '%s\n' "${versions[@]}" "$(sha256sum <"$0")" | sha256sum | cut -c1-16)
out=$VM_CACHE_DIR/arm64/$kver-$key
if [ -f "$out/kver" ]; then
        vm_log "arm64 kernel cached: $out"
        echo "$out"
        exit 0
fi

mkdir -p "$VM_CACHE_DIR/arm64"
exec 9>"$out.lock"
flock 9
if [ -f "$out/kver" ]; then
        echo "$out"
        exit 0
fi
work=$(mktemp -d "$VM_CACHE_DIR/arm64/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
t0=$(date +%s)
vm_log "downloading ${packages[*]}"
# apt-get download writes into the current directory; _apt must be able to write there.
chmod 755 "$work"
mkdir -m 777 "$work/debs"
(cd "$work/debs" && apt-get download -q "${packages[@]}") >"$work/download.log" 2>&1 ||
        { tail -n 20 "$work/download.log" >&2; vm_die "apt-get download failed"; }

root=$work/root
mkdir -p "$root" "$work/kbuild"
for d in "$work"/debs/*.deb; do
        case ${d##*/} in
        linux-source-*) ;;
        linux-headers-* | linux-kbuild-*) dpkg-deb -x "$d" "$work/kbuild" ;;
        *) dpkg-deb -x "$d" "$root" ;;
        esac
done
[ -f "$root/boot/vmlinuz-$kver" ] && [ -d "$root/lib/modules/$kver" ] ||
        vm_die "the kernel package holds no /boot/vmlinuz-$kver or /lib/modules/$kver"

# The flash drivers, from the kernel's own sources.
headers=$work/kbuild/usr/src/linux-headers-$kver
sed -i "s|^include /usr/src/|include $work/kbuild/usr/src/|" "$headers/Makefile"
mod=$work/mod
mkdir -p "$mod"
dpkg-deb --fsys-tarfile "$work"/debs/linux-source-*.deb |
        tar -xOf - "./usr/src/linux-source-$series.tar.xz" |
        tar -xJf - -C "$mod" --strip-components=4 --wildcards \
                "linux-source-$series/drivers/mtd/chips/cfi_*.c" "linux-source-$series/drivers/mtd/chips/gen_probe.c" \
                "linux-source-$series/drivers/mtd/chips/fwh_lock.h" "linux-source-$series/drivers/mtd/maps/physmap*" \
                "linux-source-$series/drivers/mtd/parsers/cmdlinepart.c"
# What the kernel's configuration would have said with these drivers on.
cat >"$mod/Kbuild" <<'EOF'
ccflags-y += -DCONFIG_MTD_CFI=1 -DCONFIG_MTD_CFI_INTELEXT=1 -DCONFIG_MTD_CFI_NOSWAP=1 \
             -DCONFIG_MTD_PHYSMAP=1 -DCONFIG_MTD_PHYSMAP_OF=1 -DCONFIG_MTD_CMDLINE_PARTS=1
obj-m += cfi_util.o gen_probe.o cfi_probe.o cfi_cmdset_0001.o physmap.o cmdlinepart.o
physmap-y := physmap-core.o
EOF
make -C "$headers" M="$mod" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules >"$work/modules.log" 2>&1 ||
        { tail -n 30 "$work/modules.log" >&2; vm_die "building the flash driver modules failed (log above)"; }
mkdir -p "$root/lib/modules/$kver/extra"
cp "$mod"/*.ko "$root/lib/modules/$kver/extra/"
depmod -b "$root" "$kver"
echo "$kver" >"$root/kver"

rm -rf "$out"
mv "$root" "$out"
vm_log "arm64 kernel $kver, busybox and flash drivers in $out ($(($(date +%s) - t0)) s)"
echo "$out"
