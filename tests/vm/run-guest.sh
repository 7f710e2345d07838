#!/bin/bash
# SPDX-License-Identifier: MIT
# Boots a QEMU guest (q35, TCG; or with --arch arm64 the virt board) and returns the exit code
# its script printed on the console. See tests/vm/README.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

usage() {
        cat <<'EOT'
Usage: run-guest.sh (--kernel K --initrd I | --pxe DIR:BOOTFILE | --pflash F…) [options]
  --arch ARCH          amd64 (q35, the default) or arm64 (QEMU's virt board, Cortex-A57, the
                       kernel from arm64-kernel.sh, console ttyAMA0)
  --kernel FILE        direct kernel boot (default: the Debian kernel)
  --initrd FILE        initramfs (make-initramfs.sh)
  --append STRING      more kernel command line (after console=ttyS0 panic=-1)
  --pxe DIR:BOOTFILE   network boot: SeaBIOS + iPXE, QEMU's TFTP serves DIR, DHCP names BOOTFILE
  --pflash FILE        arm64: a CFI NOR flash bank (64 MiB raw file; the first is where the
                       board boots from); without --initrd the board boots its flash's firmware
  --disk FILE:SERIAL   a virtio-blk disk (raw, or qcow2 by extension) with that serial
  --nvme FILE:SERIAL   an NVMe disk with that serial (repeatable)
  --netdev-opt OPT     append ",OPT" to the -netdev user option (e.g. hostfwd=...)
  --mac MAC            the NIC's MAC address (default: QEMU's, 52:54:00:12:34:56)
  --smbios SPEC        an SMBIOS record, e.g. "type=1,serial=S,uuid=U" (repeatable)
  --mem MB             memory (512)
  --smp N              virtual CPUs (1)
  --timeout S          kill the guest after S seconds (600); exit code 124
  --log FILE           serial console log (default: a temporary file, removed)
  --verbose            also copy the console to stderr while it runs
  --qemu-arg ARG       pass ARG to qemu (repeatable)
Exit code: the guest's "@@VM-GUEST-EXIT-CODE=N@@"; 124 timeout; 125 the guest stopped
without printing one; 126 qemu failed.
EOT
}

arch=amd64
kernel=
initrd=
pflash=()
append=
pxe=
disks=()
nvmes=()
netopt=
mac=
smbios=()
mem=512
smp=1
timeout_s=600
log=
verbose=${VM_VERBOSE:-0}
extra=()

while [ $# -gt 0 ]; do
        case "$1" in
        --arch) arch=$2; shift 2 ;;
        --kernel) kernel=$2; shift 2 ;;
        --pflash) pflash+=("$2"); shift 2 ;;
        --initrd) initrd=$2; shift 2 ;;
        --append) append="$append $2"; shift 2 ;;
        --pxe) pxe=$2; shift 2 ;;
        --disk) disks+=("$2"); shift 2 ;;
        --nvme) nvmes+=("$2"); shift 2 ;;
        --netdev-opt) netopt="$netopt,$2"; shift 2 ;;
        --mac) mac=$2; shift 2 ;;
        --smbios) smbios+=(-smbios "$2"); shift 2 ;;
        --mem) mem=$2; shift 2 ;;
        --smp) smp=$2; shift 2 ;;
        --timeout) timeout_s=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --verbose) verbose=1; shift ;;
        --qemu-arg) extra+=("$2"); shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) vm_log "unknown argument '$1'"; usage >&2; exit 2 ;;
        esac
done

case $arch in
amd64)
        vm_need_packages qemu-system-x86 ipxe-qemu || exit 126
        [ ${#pflash[@]} -eq 0 ] || vm_die "--pflash is for --arch arm64"
        qemu=(qemu-system-x86_64 -machine q35)
        console=ttyS0 ;;
arm64)
        vm_need_packages qemu-system-arm || exit 126
        [ -z "$pxe" ] || vm_die "--pxe is for --arch amd64 (the arm64 board boots its flash's U-Boot)"
        # No SMBIOS without UEFI on this board: --smbios is refused rather than silently dropped.
        [ ${#smbios[@]} -eq 0 ] || vm_die "--smbios is for --arch amd64 (the virt board has no SMBIOS without UEFI)"
        qemu=(qemu-system-aarch64 -machine virt -cpu cortex-a57)
        console=ttyAMA0
        if [ -n "$initrd" ] && [ -z "$kernel" ]; then
                k=$("$here/arm64-kernel.sh") || vm_die "no arm64 kernel (arm64-kernel.sh failed)"
                kernel=$k/boot/vmlinuz-$(cat "$k/kver")
        fi ;;
*) vm_die "unknown --arch '$arch': expected amd64 or arm64" ;;
esac
if [ -z "$pxe" ] && { [ -n "$initrd" ] || [ ${#pflash[@]} -eq 0 ]; }; then
        [ -n "$initrd" ] || { vm_log "--initrd (or --pxe, or --pflash for arm64) is required"; exit 2; }
        [ -n "$kernel" ] || kernel=$(vm_kernel_path) || vm_die "no Debian kernel (apt-get install linux-image-amd64)"
        [ -r "$kernel" ] || vm_die "cannot read kernel '$kernel'"
        [ -r "$initrd" ] || vm_die "cannot read initrd '$initrd'"
fi

tmplog=0
if [ -z "$log" ]; then
        log=$(mktemp "${TMPDIR:-/tmp}/vm-console.XXXXXX")
        tmplog=1
fi
: >"$log"

args=("${qemu[@]:1}" -accel tcg -m "$mem" -smp "$smp" -nodefaults -no-reboot -display none
      -monitor none -chardev "file,id=con0,path=$log" -serial chardev:con0
      -device virtio-rng-pci)

net="user,id=net0"
if [ -n "$pxe" ]; then
        dir=${pxe%%:*}
        file=${pxe#*:}
        [ -d "$dir" ] && [ -n "$file" ] && [ "$file" != "$pxe" ] || vm_die "--pxe wants DIR:BOOTFILE, got '$pxe'"
        net="$net,tftp=$dir,bootfile=$file"
        # When iPXE gives up, SeaBIOS reboots at once and -no-reboot ends qemu.
        args+=(-boot order=n,reboot-timeout=0)
fi
args+=(-netdev "$net$netopt" -device "virtio-net-pci,netdev=net0${mac:+,mac=$mac}" "${smbios[@]}")

drive_format() {
        case "$1" in *.qcow2) echo qcow2 ;; *) echo raw ;; esac
}
i=0
for d in "${disks[@]}"; do
        f=${d%%:*}; s=${d#*:}
        [ "$s" != "$d" ] || s=disk$i
        [ -e "$f" ] || vm_die "disk '$f' does not exist"
        args+=(-drive "if=none,id=disk$i,file=$f,format=$(drive_format "$f"),cache=writeback"
               -device "virtio-blk-pci,drive=disk$i,serial=$s")
        i=$((i + 1))
done
i=0
for f in "${pflash[@]}"; do
        [ -w "$f" ] || vm_die "flash bank '$f' is not a writable file"
        args+=(-drive "if=pflash,unit=$i,format=raw,file=$f")
        i=$((i + 1))
done
i=0
for d in "${nvmes[@]}"; do
        f=${d%%:*}; s=${d#*:}
        [ "$s" != "$d" ] || s=nvme$i
        [ -e "$f" ] || vm_die "NVMe image '$f' does not exist"
        args+=(-drive "if=none,id=nvme$i,file=$f,format=$(drive_format "$f"),cache=writeback"
               -device "nvme,drive=nvme$i,serial=$s")
        i=$((i + 1))
done
if [ -n "$initrd" ]; then
        args+=(-kernel "$kernel" -initrd "$initrd" -append "console=$console panic=-1$append")
fi
args+=("${extra[@]}")

tailpid=
if [ "$verbose" = 1 ]; then
        tail -n +1 -F "$log" >&2 2>/dev/null &
        tailpid=$!
fi

start=$(date +%s.%N)
rc=0
timeout -k 10 "$timeout_s" "${qemu[0]}" "${args[@]}" </dev/null || rc=$?
end=$(date +%s.%N)
if [ -n "$tailpid" ]; then
        sleep 0.3
        kill "$tailpid" 2>/dev/null || true
        wait "$tailpid" 2>/dev/null || true
fi
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')

code=$(grep -a -o '@@VM-GUEST-EXIT-CODE=[0-9]*@@' "$log" | tail -n1 | tr -dc 0-9 || true)
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        vm_log "guest killed after ${timeout_s}s timeout"
        result=124
elif [ -n "$code" ]; then
        vm_log "guest exited with $code after ${elapsed}s"
        result=$code
elif [ "$rc" -ne 0 ]; then
        vm_log "qemu failed with $rc after ${elapsed}s"
        result=126
else
        vm_log "guest stopped after ${elapsed}s without an exit code on its console"
        result=125
fi
if [ "$result" -ne 0 ] && [ "$verbose" != 1 ]; then
        [ "$tmplog" = 1 ] && where= || where=" ($log)"
        vm_log "last console lines$where:"
        tail -n 25 "$log" | sed 's/^/    /' >&2
fi
[ "$tmplog" = 1 ] && rm -f "$log"
exit "$result"
