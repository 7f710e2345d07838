#!/bin/bash
# SPDX-License-Identifier: MIT
# The flasher in a QEMU guest (TCG, Debian's kernel, busybox initramfs from tests/vm/): firmware
# to an MTD device (mtdram: 1 MiB, 64 KiB erase blocks) found by name — first write, a rerun
# skipped as already current, changed firmware (zstd) rewritten block by block and verified,
# firmware too large refused before anything is erased — then an image to an NVMe disk chosen
# by its serial (refused while a device-mapper device sits on it), and finally the power-off of an initramfs without systemd (reboot(2)). The
# files are served inside the guest by busybox httpd on 127.0.0.1. TAP.
set -uo pipefail

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
FBA_BIN=${FBA_BIN:-$src/build/agent/first-boot-agent}
vm=$src/tests/vm
. "$vm/lib.sh"

n=0
failed=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}

[ -x "$FBA_BIN" ] || { echo "1..0 # SKIP no agent binary at $FBA_BIN"; exit 0; }
vm_need_packages "${VM_HOST_PACKAGES[@]}" zstd fdisk dmsetup || { echo "1..0 # SKIP VM packages missing"; exit 0; }

work=$(mktemp -d /var/tmp/fba-flash-vm.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/srv" "$work/etc"

# Firmware: 300 KiB (not a multiple of the erase block); v2 differs in one erase block only.
head -c 307200 /dev/urandom >"$work/srv/fw1.bin"
cp "$work/srv/fw1.bin" "$work/srv/fw2.bin"
printf 'version two of the boot loader' | dd of="$work/srv/fw2.bin" bs=1 seek=140000 conv=notrunc status=none
zstd -q "$work/srv/fw2.bin" -o "$work/srv/fw2.bin.zst"
head -c $((2 << 20)) /dev/urandom >"$work/srv/huge.bin"
# A small GPT disk image for the NVMe disk.
truncate -s 16M "$work/disk.img"
printf 'label: gpt\nsize=8M, name=root\n' | sfdisk -q "$work/disk.img"
head -c 3M /dev/urandom | dd of="$work/disk.img" bs=1M seek=2 conv=notrunc status=none
zstd -q "$work/disk.img" -o "$work/srv/disk.img.zst"
sha() { sha256sum "$1" | cut -d' ' -f1; }

config() { # config NAME FLASH_JSON
        cat >"$work/etc/$1.json" <<EOF
{"node_id": "installer01", "node_role": "worker", "bootstrap": true, "cluster_name": "vm",
 "raft_addr": "127.0.0.1:2380", "initial_peers": ["127.0.0.1:2380"], "tls": {"enabled": false},
 "flash": $2}
EOF
        chmod 600 "$work/etc/$1.json"
}
fw() { printf '{"mtd": "mtdram test device", "name": "boot-firmware", "url": "http://127.0.0.1:8080/%s", "sha256": "%s"}' "$1" "$(sha "$work/srv/$1")"; }
config fw1 "{\"firmware\": [$(fw fw1.bin)], \"on_success\": \"none\"}"
config fw2 "{\"firmware\": [$(fw fw2.bin.zst)], \"on_success\": \"none\"}"
config huge "{\"firmware\": [$(fw huge.bin)], \"on_success\": \"none\"}"
config nvme "{\"images\": [{\"name\": \"system\", \"url\": \"http://127.0.0.1:8080/disk.img.zst\", \"sha256\": \"$(sha "$work/srv/disk.img.zst")\", \"target\": {\"type\": \"nvme\", \"serial\": \"FBA-NVME-*\"}}], \"firmware\": [$(fw fw2.bin.zst)], \"on_success\": \"poweroff\"}"

cat >"$work/guest.sh" <<'EOF'
#!/bin/sh
fails=0
check() {
        if [ "$2" = 0 ]; then echo "check: $1 ok"; else echo "check: $1 fail $3"; fails=$((fails + 1)); fi
}
fba() { # fba CONFIG ARGS...: the agent, its log in /tmp/CONFIG.log
        c=$1
        shift
        FIRST_BOOT_AGENT_LOG_TARGET=json "$AGENT" --config /etc/fba/$c.json --state-dir /tmp/state flash \
                --no-progress "$@" >/tmp/$c.log 2>&1
}
mtd_sha() { dd if=/dev/mtd0 bs=1024 count=300 2>/dev/null | sha256sum | cut -d' ' -f1; }

modprobe mtdram total_size=1024 erase_size=64
httpd -p 127.0.0.1:8080 -h /srv
sleep 0.3

fba fw1; check fw1-exit $? "(exit $?)"
grep -q '"message_id":"325cad16df9f4bef91070a94e2b2a003"' /tmp/fw1.log; check fw1-written $?
[ "$(mtd_sha)" = "$FW1_SHA" ]; check fw1-content $? "($(mtd_sha))"
grep -q '5 erase blocks rewritten' /tmp/fw1.log; check fw1-five-blocks $?

fba fw1; check rerun-exit $?
grep -q '"message_id":"b46a4818555140c78d15205ac275f1c2"' /tmp/fw1.log; check rerun-current $?
grep -q '"message_id":"325cad16df9f4bef91070a94e2b2a003"' /tmp/fw1.log; check rerun-not-written $((! $?))

fba fw2; check fw2-exit $?
grep -q '1 erase blocks rewritten' /tmp/fw2.log; check fw2-one-block $?
[ "$(mtd_sha)" = "$FW2_SHA" ]; check fw2-content $? "($(mtd_sha))"

fba huge; check huge-refused $((! $?))
grep -q 'does not fit' /tmp/huge.log; check huge-said $?
[ "$(mtd_sha)" = "$FW2_SHA" ]; check huge-untouched $?

fba nvme --dry-run; check nvme-dry-run $?
grep -q 'goes to /dev/nvme0n1: nvme' /tmp/nvme.log; check nvme-chosen-by-serial $?

# A device-mapper device on top of the disk makes it refused.
modprobe dm-mod
if dmsetup create --noudevsync fbatest --table "0 2048 linear /dev/nvme0n1 0" 2>/dev/null; then
        fba nvme --dry-run; check holder-refused $((! $?))
        grep -q 'it is in use by dm-' /tmp/nvme.log; check holder-said $?
        dmsetup remove --noudevsync fbatest
else
        check holder-refused 1 "(dmsetup create failed)"
        check holder-said 1
fi

echo "checks-done fails=$fails"
# The real run: firmware current, image to NVMe, then power-off through reboot(2).
fba nvme
echo "agent-returned $?"
cat /tmp/nvme.log
exit 99
EOF
chmod +x "$work/guest.sh"

"$vm/make-initramfs.sh" "$work/initrd.gz" --init "$work/guest.sh" --modules mtdram,dm-mod --load nvme --no-net \
        --binary "$FBA_BIN:/usr/sbin/first-boot-agent" --binary "$(command -v dmsetup)" --file "$work/srv:/srv" --file "$work/etc:/etc/fba" >&2
ok $? "initramfs with the agent, mtdram and nvme"

truncate -s 32M "$work/nvme.img"
"$vm/run-guest.sh" --initrd "$work/initrd.gz" --nvme "$work/nvme.img:FBA-NVME-0042" \
        --append "vm.env.AGENT=/usr/sbin/first-boot-agent vm.env.FW1_SHA=$(sha "$work/srv/fw1.bin") vm.env.FW2_SHA=$(sha "$work/srv/fw2.bin")" \
        --timeout 600 --log "$work/console.log"
rc=$?
ok $((rc != 125)) "the guest powered off without its init's exit line (status $rc): the agent's power-off"

for c in fw1-exit fw1-written fw1-content fw1-five-blocks rerun-exit rerun-current rerun-not-written \
        fw2-exit fw2-one-block fw2-content huge-refused huge-said huge-untouched nvme-dry-run \
        nvme-chosen-by-serial holder-refused holder-said; do
        line=$(grep -a "^check: $c " "$work/console.log" | tr -d '\r')
        [ "${line#check: $c }" = ok ]
        ok $? "guest: $c ${line#check: $c }"
done
grep -aq '^checks-done fails=0' "$work/console.log"
ok $? "every guest check ran"
! grep -aq '^agent-returned' "$work/console.log"
ok $? "the agent did not return: it powered the guest off"
cmp -s -n $((16 << 20)) "$work/nvme.img" "$work/disk.img"
ok $? "the NVMe disk holds the image byte for byte"

if [ "$failed" -ne 0 ]; then
        echo "# console log:"
        tail -n 80 "$work/console.log" | sed 's/^/# /'
fi
echo "1..$n"
[ "$failed" -eq 0 ]
