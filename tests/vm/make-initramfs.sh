#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds a busybox initramfs for a QEMU guest. See tests/vm/README.md.
#
# make-initramfs.sh OUT.cpio.gz [--binary PATH]... [--file SRC:DEST]... [--modules m1,m2]
#                   [--load m1,m2] [--init SCRIPT | --exec-init SCRIPT] [--no-net]
#                   [--kver VERSION] [--arch amd64|arm64] [--no-cache]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() {
        cat <<'EOT'
Usage: make-initramfs.sh OUT.cpio.gz [options]
  --binary PATH[:DEST] copy PATH (to DEST, default the same path) and every shared library
                       ldd lists
  --file SRC:DEST      copy a file or directory to DEST in the guest
  --modules m1,m2      kernel modules to include, with their dependencies
  --load m1,m2         modules to include and load at boot, in this order
  --init SCRIPT        shell script run by /init; its exit code is printed as
                       "@@VM-GUEST-EXIT-CODE=N@@" on the console, then the guest powers off
  --exec-init SCRIPT   /init sets up the system, then execs SCRIPT as PID 1 (no marker, no
                       power-off: the script owns the rest, e.g. switch_root)
  --no-net             do not load the NIC driver nor run udhcpc
  --kver VERSION       kernel modules version (default: the one linux-image-amd64 installs)
  --arch ARCH          the guest's architecture: amd64 (this machine's) or arm64 (kernel,
                       modules and busybox from arm64-kernel.sh; binaries' libraries read
                       with the arm64 loader under qemu-user)
  --no-cache           always rebuild (default: reuse a cached build with identical inputs)
EOT
}

out=
binaries=()
files=()
modules=()
load=()
script=
exec_init=0
net=1
kver=
arch=amd64
use_cache=1

[ $# -ge 1 ] || { usage >&2; exit 2; }
while [ $# -gt 0 ]; do
        case "$1" in
        --binary) binaries+=("$2"); shift 2 ;;
        --file) files+=("$2"); shift 2 ;;
        --modules) IFS=, read -r -a m <<<"$2"; modules+=("${m[@]}"); shift 2 ;;
        --load) IFS=, read -r -a m <<<"$2"; load+=("${m[@]}"); shift 2 ;;
        --init) script=$2; exec_init=0; shift 2 ;;
        --exec-init) script=$2; exec_init=1; shift 2 ;;
        --no-net) net=0; shift ;;
        --kver) kver=$2; shift 2 ;;
        --arch) arch=$2; shift 2 ;;
        --no-cache) use_cache=0; shift ;;
        -h|--help) usage; exit 0 ;;
        -*) vm_log "unknown option '$1'"; usage >&2; exit 2 ;;
        *) [ -z "$out" ] || { vm_log "more than one output given ('$out', '$1')"; exit 2; }
           out=$1; shift ;;
        esac
done
[ -n "$out" ] || { usage >&2; exit 2; }

# Where the kernel's modules and busybox come from: this machine's, or the arm64 kit's.
modroot=
busybox=/bin/busybox
run=()
case $arch in
amd64)
        vm_need_packages busybox-static kmod cpio linux-image-amd64 || exit 1
        [ -n "$kver" ] || kver=$(vm_kernel_version) || vm_die "no Debian kernel found (apt-get install linux-image-amd64)" ;;
arm64)
        vm_need_packages kmod cpio qemu-user-static || exit 1
        modroot=$("$here/arm64-kernel.sh") || vm_die "no arm64 kernel (arm64-kernel.sh failed)"
        [ -n "$kver" ] || kver=$(cat "$modroot/kver")
        busybox=$modroot/bin/busybox
        run=(qemu-aarch64-static) ;;
*) vm_die "unknown --arch '$arch': expected amd64 or arm64" ;;
esac
moddir=$modroot/lib/modules/$kver
[ -d "$moddir" ] || vm_die "no modules for kernel '$kver' in $moddir"

if [ "$net" = 1 ]; then
        load=(virtio_pci virtio_net "${load[@]}")
fi
[ -z "$script" ] || [ -r "$script" ] || vm_die "cannot read script '$script'"
for b in "${binaries[@]}"; do
        [ -x "${b%%:*}" ] || vm_die "binary '${b%%:*}' is not an executable file"
done

# The shared libraries of every binary (ldd follows the whole tree).
libs_of() {
        if [ "$arch" = arm64 ]; then
                qemu-aarch64-static /lib/ld-linux-aarch64.so.1 --list "$1" 2>/dev/null
        else
                ldd "$1" 2>/dev/null
        fi | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*/\1/p' || true
}
libs=()
for b in "${binaries[@]}"; do
        while read -r l; do
                [ -n "$l" ] && libs+=("$l")
        done < <(libs_of "${b%%:*}")
done

# The module files (dependencies first), as modprobe would load them.
modfiles=()
for m in "${modules[@]}" "${load[@]}"; do
        [ -n "$m" ] || continue
        deps=$(modprobe -S "$kver" -d "${modroot:-/}" --show-depends "$m" 2>&1) ||
                vm_die "kernel $kver has no module '$m': $deps"
        while read -r verb path _; do
                [ "$verb" = insmod ] && modfiles+=("$path")
        done <<<"$deps"
done

# Cache key: this script, its inputs and their contents.
key_inputs=("$0" "$here/lib.sh" "$busybox" "${libs[@]}" "${modfiles[@]}")
for b in "${binaries[@]}"; do key_inputs+=("${b%%:*}"); done
[ -n "$script" ] && key_inputs+=("$script")
for f in "${files[@]}"; do
        src=${f%%:*}
        if [ -d "$src" ]; then
                while IFS= read -r -d '' x; do key_inputs+=("$x"); done < <(find "$src" -type f -print0 | sort -z)
        else
                key_inputs+=("$src")
        fi
done
key=$( { printf '%s\n' "arch=$arch kver=$kver net=$net exec=$exec_init" "files=${files[*]}" \
                "bin=${binaries[*]}" "mod=${modules[*]}" "load=${load[*]}";
         vm_hash_files "${key_inputs[@]}"; } | sha256sum | cut -c1-32)
cache=$VM_CACHE_DIR/initramfs/$key.cpio.gz
if [ "$use_cache" = 1 ] && [ -s "$cache" ]; then
        cp "$cache" "$out"
        vm_log "initramfs $out (cached $key)"
        exit 0
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/vm-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/vm,dev,proc,sys,tmp,run,root,mnt,var/log}
ln -s ../lib "$stage/usr/lib"
cp "$busybox" "$stage/bin/busybox"
for applet in $("${run[@]}" "$busybox" --list-full); do
        [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done

copy_path() {   # copy_path SRC DEST (inside the stage), dereferencing symlinks
        mkdir -p "$stage$(dirname "$2")"
        rm -f "$stage$2"
        cp -L "$1" "$stage$2"
}
for l in "${libs[@]}"; do
        copy_path "$l" "$l"
        # Keep the path a binary was linked against when it goes through a symlinked dir.
        real=$(readlink -f "$l")
        [ "$real" = "$l" ] || copy_path "$l" "$real"
done
for b in "${binaries[@]}"; do
        src=${b%%:*}
        dest=${b#*:}
        copy_path "$src" "$dest"
done
for f in "${files[@]}"; do
        src=${f%%:*}
        dest=${f#*:}
        [ "$dest" != "$f" ] || vm_die "--file wants SRC:DEST, got '$f'"
        [ -e "$src" ] || vm_die "--file source '$src' does not exist"
        if [ -d "$src" ]; then
                mkdir -p "$stage$dest"
                cp -a "$src/." "$stage$dest/"
        else
                mkdir -p "$stage$(dirname "$dest")"
                cp -a "$src" "$stage$dest"
        fi
done

# Modules: copied uncompressed (busybox insmod reads plain .ko), then depmod for the subset.
for p in "${modfiles[@]}"; do
        rel=${p#"$modroot"}
        rel=${rel#/}
        case "$p" in
        *.ko.xz) d=$stage/${rel%.xz}; mkdir -p "$(dirname "$d")"; xz -dc "$p" >"$d" ;;
        *.ko.zst) d=$stage/${rel%.zst}; mkdir -p "$(dirname "$d")"; zstd -qdc "$p" >"$d" ;;
        *.ko.gz) d=$stage/${rel%.gz}; mkdir -p "$(dirname "$d")"; gzip -dc "$p" >"$d" ;;
        *) mkdir -p "$stage/$(dirname "$rel")"; cp "$p" "$stage/$rel" ;;
        esac
done
mkdir -p "$stage/lib/modules/$kver"
for f in modules.order modules.builtin modules.builtin.modinfo; do
        [ -e "$moddir/$f" ] && cp "$moddir/$f" "$stage/lib/modules/$kver/"
done
depmod -b "$stage" "$kver"
printf '%s\n' "${load[@]}" >"$stage/etc/vm/modules"

cat >"$stage/etc/passwd" <<'EOT'
root:x:0:0:root:/root:/bin/sh
EOT
cat >"$stage/etc/group" <<'EOT'
root:x:0:
EOT
printf '127.0.0.1 localhost\n10.0.2.2 host\n' >"$stage/etc/hosts"
printf 'hosts: files dns\n' >"$stage/etc/nsswitch.conf"
echo "$net" >"$stage/etc/vm/net"

cat >"$stage/etc/vm/udhcpc.script" <<'EOT'
#!/bin/sh
case "$1" in
deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
bound|renew)
        ip addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        for r in $router; do ip route add default via "$r" dev "$interface"; break; done
        : >/etc/resolv.conf
        for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
        echo "vm-init: $interface $ip/${mask:-24} via $router"
        ;;
esac
exit 0
EOT
chmod 755 "$stage/etc/vm/udhcpc.script"

if [ -n "$script" ]; then
        cp "$script" "$stage/etc/vm/script"
        chmod 755 "$stage/etc/vm/script"
fi
echo "$exec_init" >"$stage/etc/vm/exec"

cat >"$stage/init" <<'EOT'
#!/bin/sh
# Guest /init: mount the API filesystems, load modules, bring up the network, run the script,
# print its exit code and power off.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
echo 0 >/proc/sys/kernel/printk 2>/dev/null
echo "vm-init: up at $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
# vm.env.NAME=VALUE on the kernel command line becomes NAME=VALUE in the script's environment.
for w in $(cat /proc/cmdline); do
        case "$w" in
        vm.env.*=*) w=${w#vm.env.}; export "${w%%=*}=${w#*=}" ;;
        esac
done
while read -r m; do
        [ -n "$m" ] || continue
        modprobe "$m" || echo "vm-init: modprobe $m failed"
done </etc/vm/modules
ip link set lo up
if [ "$(cat /etc/vm/net)" = 1 ]; then
        iface=
        for i in 1 2 3 4 5 6 7 8 9 10; do
                for d in /sys/class/net/*; do
                        n=${d##*/}
                        [ "$n" = lo ] || { iface=$n; break; }
                done
                [ -n "$iface" ] && break
                sleep 0.2
        done
        if [ -n "$iface" ]; then
                udhcpc -i "$iface" -s /etc/vm/udhcpc.script -q -n -t 10 -T 1 >/dev/null 2>&1 ||
                        echo "vm-init: no DHCP answer on $iface"
        else
                echo "vm-init: no network interface"
        fi
fi
if [ "$(cat /etc/vm/exec)" = 1 ]; then
        exec /etc/vm/script
fi
rc=0
if [ -x /etc/vm/script ]; then
        echo "vm-init: running script at $(cut -d' ' -f1 /proc/uptime)s"
        /etc/vm/script </dev/console
        rc=$?
fi
sync
echo "@@VM-GUEST-EXIT-CODE=$rc@@ at $(cut -d' ' -f1 /proc/uptime)s"
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
EOT
chmod 755 "$stage/init"

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet -R 0:0) |
        gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
if [ "$use_cache" = 1 ] && mkdir -p "$VM_CACHE_DIR/initramfs" 2>/dev/null; then
        cp "$out" "$cache.tmp.$$" && mv "$cache.tmp.$$" "$cache" || rm -f "$cache.tmp.$$"
fi
vm_log "initramfs $out ($(du -h "$out" | cut -f1), kernel $kver, key $key)"
