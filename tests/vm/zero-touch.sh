#!/bin/bash
# SPDX-License-Identifier: MIT
# The zero-touch proof (TAP): a QEMU guest network-boots the installer, which flashes the gold
# image to NVMe and firmware to an MTD SPI-NOR and powers off; it then boots the NVMe disk,
# where systemd runs first-boot-agent.service, which looks the machine up at the provisioning
# server and joins the cluster on the host; on a third boot the agent finds its done marker
# holding and exits at once. The gold image is generic: a second guest (another MAC and SMBIOS
# serial) boots the same bytes and becomes another node, with a static address; a third, unknown
# guest reports itself and keeps waiting. A corrupted image leaves the disk without a partition
# table.
# See tests/vm/README.md.
#
# zero-touch.sh [--keep] [--verbose] [--workdir DIR] [--agent-from deb|build] [--skip-install]
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
src=${FBA_SOURCE_ROOT:-$(cd "$here/../.." && pwd)}

. "$here/zero-touch/lib.sh"

agent_from=auto
skip_install=0
while [ $# -gt 0 ]; do
        case "$1" in
        --agent-from) agent_from=$2; shift 2 ;;
        --skip-install) skip_install=1; shift ;;
        *) zt_option "$@"; shift "$zt_used" ;;
        esac
done

t_total=$(now)
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root (debootstrap, chroot)"
        exit 0
fi
if ! vm_need_packages "${VM_HOST_PACKAGES[@]}" qemu-utils debootstrap zstd e2fsprogs fdisk openssl meson ninja-build systemd; then
        echo "1..0 # SKIP packages missing and not installable"
        exit 0
fi

zt_workdir fba-zero-touch

# ---- 1. the agent ---------------------------------------------------------------------------
t=$(now)
build=${FBA_BUILD_ROOT:-$src/build-zero-touch}
if [ -z "${FBA_BUILD_ROOT:-}" ]; then
        [ -d "$build/meson-private" ] || meson setup "$build" "$src" -Dwerror=true >&2 || bail "meson setup failed"
        meson compile -C "$build" >&2 || bail "the agent does not build"
fi
agent_bin=$build/agent/first-boot-agent
[ -x "$agent_bin" ] || bail "no agent binary at $agent_bin"

deb=
if [ "$agent_from" != build ] && [ -x "$src/tests/pkg/build-deb.sh" ]; then
        # It prints the .deb's path; its build is cached by the tree's content.
        if "$src/tests/pkg/build-deb.sh" >"$work/deb.out" 2>"$work/deb.log"; then
                deb=$(tail -n1 "$work/deb.out")
                [ -f "$deb" ] || deb=
        fi
        [ -n "$deb" ] || { note "building the .deb failed:"; note "$(tail -n 20 "$work/deb.log")"; }
        [ -n "$deb" ] || [ "$agent_from" != deb ] || bail "no .deb built (tests/pkg/build-deb.sh)"
fi
if [ -n "$deb" ]; then
        dpkg-deb -x "$deb" "$work/deb-root"
        agent_bin=$(ls "$work"/deb-root/usr/sbin/first-boot-agent "$work"/deb-root/usr/bin/first-boot-agent 2>/dev/null | head -n1)
        [ -x "$agent_bin" ] || bail "the .deb holds no first-boot-agent binary"
        ok 0 "agent package built: $(basename "$deb")"
else
        rm -rf "$work/destdir"
        DESTDIR=$work/destdir meson install -C "$build" --no-rebuild --quiet >"$work/install.log" 2>&1 ||
                { note "$(tail -n 20 "$work/install.log")"; bail "meson install of the agent failed"; }
        if [ "$agent_from" = build ]; then
                why="--agent-from build"
        elif [ -x "$src/tests/pkg/build-deb.sh" ]; then
                why="fallback: the .deb build failed"
        else
                why="no .deb builder in this tree"
        fi
        ok 0 "agent installed from the build tree with meson install ($why)"
fi
timed "agent build/package" "$(since "$t")"

# ---- 2. host servers ------------------------------------------------------------------------
zt_servers node04 node05
p_cf_local=$(port chainfire node04) p_fd_local=$(port flaredb node04) p_iam=$(port iam node04)
p_cf_local5=$(port chainfire node05) p_fd_local5=$(port flaredb node05) p_iam5=$(port iam node05)
mkdir -p "$work/tftp"
ok 0 "host servers: cluster (leader node01, local services of node04 and node05, report), provisioning, images on 127.0.0.1"
note "ports: chainfire $p_cf_leader/$p_cf_local/$p_cf_local5 flaredb $p_fd_leader/$p_fd_local/$p_fd_local5 iam $p_iam/$p_iam5 report $p_report provisioning $p_prov images $p_www control $ctl $pctl"

# ---- 3. configuration -----------------------------------------------------------------------
serial=FBA-ZT-$$
mtd_kb=4096
mtd_erase_kb=64
fw_size=$((mtd_kb * 1024))
head -c "$fw_size" /dev/urandom >"$work/www/firmware.bin"
fw_sha=$(sha256sum <"$work/www/firmware.bin" | cut -d' ' -f1)

# The machines: A (node04, by MAC) is flashed by the installer; B (node05, by SMBIOS serial,
# with a static address) and C (which nobody knows) boot the same gold image. What tells them
# apart is outside the image: MAC, SMBIOS record, NVMe serial.
mac_a=52:54:00:fb:a0:04 smbios_a=type=1,serial=FBA-ZT-NODE04,uuid=6f0c3d8e-1a2b-4c5d-8e9f-0000000000a4
mac_b=52:54:00:fb:a0:05 smbios_b=type=1,serial=FBA-ZT-NODE05,uuid=6f0c3d8e-1a2b-4c5d-8e9f-0000000000b5
mac_c=52:54:00:fb:a0:66 smbios_c=type=1,serial=FBA-ZT-UNKNOWN,uuid=6f0c3d8e-1a2b-4c5d-8e9f-0000000000c6

# What the provisioning server answers: node04 for A's MAC, node05 for B's SMBIOS serial.
python3 - "$work/groups.json" <<EOF
import json, sys
node04 = {"node_id": "node04", "node_role": "worker", "bootstrap": False,
          "raft_addr": "10.0.2.15:2380", "node_ip": "10.0.2.15",
          "services": $(zt_node_services "$p_cf_local" "$p_fd_local" "$p_iam")}
node05 = {"node_id": "node05", "node_role": "worker", "bootstrap": False,
          "node_fqdn": "node05.zero-touch.test", "raft_addr": "10.0.2.16:2380", "node_ip": "10.0.2.16",
          "services": $(zt_node_services "$p_cf_local5" "$p_fd_local5" "$p_iam5"),
          "network": {"static": {"mac": "$mac_b", "address": "10.0.2.16/24", "gateway": "10.0.2.2",
                                 "dns": ["10.0.2.3"], "wait_s": 60}}}
json.dump({"groups": [{"name": "node04", "selector": {"mac": "$mac_a"}, "config": node04},
                      {"name": "node05", "selector": {"serial": "FBA-ZT-NODE05"}, "config": node05}]},
          open(sys.argv[1], "w"), indent=2)
EOF
zt_groups "$work/groups.json"

# ---- 4. gold image --------------------------------------------------------------------------
t=$(now)
rootfs=$("$here/build-rootfs.sh" 2>"$work/rootfs.log") || { note "$(tail "$work/rootfs.log")"; bail "debootstrap root file system"; }
grep -q 'cached' "$work/rootfs.log" && rootfs_state=warm || rootfs_state=cold
timed "root file system ($rootfs_state)" "$(since "$t")"

t=$(now)
write_config "$work/node-config.json"
overlay=$work/gold-overlay
secrets_tree "$overlay" "$work/node-config.json"
zt_probe_overlay "$overlay"
gold_args=(--rootfs "$rootfs" --overlay "$overlay" --hostname fba-node --enable zt-probe.service
           --enable zt-probe-waiting.service)
if [ -n "$deb" ]; then
        gold_args+=(--deb "$deb")
else
        gold_args+=(--destdir "$work/destdir" --enable first-boot-agent.service)
fi
"$here/build-gold-image.sh" "${gold_args[@]}" "$work/gold.img" 2>"$work/gold.log"
ok $? "gold image: GPT + ext4 root (debootstrap, systemd, agent, template config, certificates), zstd, SHA-256"
note "$(cat "$work/gold.log")"
[ -s "$work/gold.img.zst" ] || bail "no gold image"
gold_size=$(stat -c %s "$work/gold.img")
gold_sha=$(cat "$work/gold.img.zst.sha256")
gold_raw_sha=$(sha256sum <"$work/gold.img" | cut -d' ' -f1)
[ "$gold_raw_sha" = "$(cat "$work/gold.img.sha256")" ]
ok $? "the gold image's SHA-256 before any guest: $gold_raw_sha (raw), $gold_sha (zstd)"
cp "$work/gold.img.zst" "$work/www/gold.img.zst"
timed "gold image" "$(since "$t")"

# ---- 5. installer -------------------------------------------------------------------------
t=$(now)
flash_json=$(cat <<EOF
{"images": [{"name": "system", "url": "http://10.0.2.2:$p_www/gold.img.zst",
             "sha256": "$gold_sha", "sha256_of": "file", "size": $gold_size,
             "target": {"type": "nvme", "serial": "$serial"}}],
 "firmware": [{"name": "spi", "mtd": "mtdram test device",
               "url": "http://10.0.2.2:$p_www/firmware.bin", "sha256": "$fw_sha"}],
 "on_success": "poweroff", "on_failure": "none", "progress_interval_s": 1}
EOF
)
write_config "$work/installer-config.json" "$flash_json"
secrets_tree "$work/installer-root" "$work/installer-config.json"
"$here/make-initramfs.sh" "$work/www/installer.cpio.gz" --init "$zt/installer.sh" \
        --binary "$agent_bin:/usr/sbin/first-boot-agent" --file "$work/installer-root/etc:/etc" \
        --modules mtdram,mtdblock --load nvme 2>"$work/installer.log" ||
        { note "$(cat "$work/installer.log")"; bail "installer initramfs"; }
ok 0 "installer: Debian kernel + busybox initramfs with the agent, nvme, virtio_net, mtdram"
kernel=$(vm_kernel_path) || bail "no Debian kernel"
cp "$kernel" "$work/www/vmlinuz"
boot_args="console=ttyS0 panic=-1 first_boot_agent.mode=flash vm.env.ZT_MTD_KB=$mtd_kb"
boot_args="$boot_args vm.env.ZT_MTD_ERASE_KB=$mtd_erase_kb vm.env.ZT_FW_SIZE=$fw_size"
cat >"$work/tftp/boot.ipxe" <<EOF
#!ipxe
echo zero-touch: network boot of the installer
kernel http://10.0.2.2:$p_www/vmlinuz $boot_args || goto failed
initrd http://10.0.2.2:$p_www/installer.cpio.gz || goto failed
boot || goto failed
:failed
echo zero-touch: network boot failed
exit 1
EOF
"$here/make-initramfs.sh" "$work/boot-root.cpio.gz" --exec-init "$zt/boot-root.sh" --no-net \
        --load virtio_pci,virtio_net,virtio_rng,nvme,ext4,autofs4 2>>"$work/installer.log" ||
        { note "$(cat "$work/installer.log")"; bail "boot initramfs"; }
ok 0 "boot initramfs for the NVMe root (nvme, ext4, switch_root to systemd)"
timed "installer and boot initramfs" "$(since "$t")"

# ---- 6. boot 1: PXE, flash, power-off ----------------------------------------------------------
nvme=$work/nvme.img
rm -f "$nvme"
truncate -s 2G "$nvme"
if [ "$skip_install" = 1 ]; then
        # Debugging the later boots: the gold image is copied, boot 1 and the failure are skipped.
        dd if="$work/gold.img" of="$nvme" bs=1M conv=notrunc,sparse status=none
        note "--skip-install: gold image copied to the NVMe disk, boot 1 skipped"
else
        t=$(now)
        "$here/run-guest.sh" --pxe "$work/tftp:boot.ipxe" --nvme "$nvme:$serial" --timeout 300 \
                --mac "$mac_a" --smbios "$smbios_a" --log "$work/boot1.log"
        rc=$?
        timed "boot 1 (PXE installer, flash, power-off)" "$(since "$t")"
        grep -a '^zt: \|"MESSAGE_ID"' "$work/boot1.log" | grep -a -i 'zt:\|flash\|firmware\|power' | head -n 40 |
                cut -c1-300 | sed 's/^/# boot1: /'
        grep -q '"GET /vmlinuz HTTP/1.1" 200' "$work/www.log" &&
                grep -q '"GET /installer.cpio.gz HTTP/1.1" 200' "$work/www.log"
        ok $? "boot 1 came over the network: iPXE fetched the kernel and the installer over HTTP"
        ok "$rc" "boot 1: the agent flashed and asked for the power-off by itself (guest exit $rc)"
        cmp -n "$gold_size" "$work/gold.img" "$nvme" >/dev/null 2>&1
        ok $? "after boot 1: the NVMe disk equals the gold image byte for byte ($gold_size bytes)"
        spi_sha=$(python3 "$zt/check.py" console-value "$work/boot1.log" "zt: spi-sha256=")
        [ "$spi_sha" = "$fw_sha" ]
        ok $? "after boot 1: the SPI-NOR content matches the firmware's SHA-256 ($spi_sha)"
        check "after boot 1: the report endpoint received started/progress/done" \
                events "$ctl" flash-started flash-progress flash-done
        check "after boot 1: the flash-started report carries the machine's inventory (MAC, SMBIOS, disks)" \
                flash-inventory "$ctl" "$mac_a" FBA-ZT-NODE04 "${smbios_a##*uuid=}" "$serial"
        check "boot 1: the console holds the agent's records (mode, firmware, image, power-off)" \
                console-records "$work/boot1.log" "$src" MID_MODE_DECIDED MID_FIRMWARE_WRITTEN \
                MID_FLASH_BEGIN MID_FLASH_PROGRESS MID_FLASH_DONE MID_POWER_ACTION
fi

# ---- 7. boot 2: first boot from the NVMe disk ----------------------------------------------------
disk_boot() {  # disk_boot LOG: machine A from its NVMe disk
        "$here/run-guest.sh" --initrd "$work/boot-root.cpio.gz" --nvme "$nvme:$serial" \
                --mac "$mac_a" --smbios "$smbios_a" --append "systemd.show_status=1" --timeout 300 --log "$1"
}
control_post /control/reset-log '{}'
t=$(now)
disk_boot "$work/boot2.log"
rc=$?
timed "boot 2 (systemd, first-boot-agent.service, join)" "$(since "$t")"
grep -a 'zt-probe:\|zt-boot:' "$work/boot2.log" | cut -c1-400 | sed 's/^/# boot2: /'
ok "$rc" "boot 2: systemd ran first-boot-agent.service and the probe (guest exit $rc)"
zt_joined_checks "$work/boot2.log" "$mac_a"

# The journal, read from the disk image.
part=$work/root-part.img
dd if="$nvme" of="$part" bs=1M skip=1 count=$(( (gold_size >> 20) - 2 )) conv=sparse status=none
rm -rf "$work/journal"
debugfs -R "rdump /var/log/journal $work" "$part" >/dev/null 2>&1
journalctl --directory="$work/journal" -o json --no-pager >"$work/journal.json" 2>/dev/null
check "after boot 2: the guest's journal (from the disk) holds the agent's records with MESSAGE_IDs" \
        journal "$work/journal.json" "$src" MID_IDENTITY_FOUND MID_HOSTNAME_SET MID_STEP_DONE MID_MEMBER_JOINED \
        MID_RUN_DONE
rm -f "$part"

# ---- 8. the same image on two more machines ---------------------------------------------------
# B and C boot copy-on-write overlays of the gold image file itself, which stays untouched.
for m in b c; do
        rm -f "$work/overlay-$m.qcow2"
        qemu-img create -q -f qcow2 -b "$work/gold.img" -F raw "$work/overlay-$m.qcow2" ||
                bail "qemu-img create of the overlay for machine $m"
done
t=$(now)
"$here/run-guest.sh" --initrd "$work/boot-root.cpio.gz" --nvme "$work/overlay-b.qcow2:FBA-ZT-B" \
        --mac "$mac_b" --smbios "$smbios_b" --append "systemd.show_status=1" --timeout 300 --log "$work/boot-b.log"
rc=$?
timed "machine B (same image: lookup by serial, static address, join)" "$(since "$t")"
grep -a 'zt-probe:\|zt-boot:' "$work/boot-b.log" | grep -v status-json | cut -c1-300 | sed 's/^/# machine B: /'
ok "$rc" "machine B booted the same image and ran the agent (guest exit $rc)"
check "machine B: the provisioning server answered node05 (matched by its SMBIOS serial)" \
        prov-lookups "$pctl" "$mac_b" 200 1
check "machine B: chainfire lists node05 once, at its static address" members "$ctl" chainfire node05 10.0.2.16:2380
check "machine B: flaredb lists node05 once, at its static address" members "$ctl" flaredb node05 10.0.2.16:2480
check "machine B: its report says every step succeeded" firstboot-report "$ctl" node05
check "machine B: status --json in the guest shows every step done" status-json "$work/boot-b.log"
[ "$(console "$work/boot-b.log" transient-hostname) $(console "$work/boot-b.log" static-hostname)" = \
  "node05.zero-touch.test node05.zero-touch.test" ]
ok $? "machine B: the host name is node05's node_fqdn, transient and static"
console "$work/boot-b.log" network-marker |
        grep -q 'mac=52:54:00:fb:a0:05 address=10.0.2.16/24 file=/etc/systemd/network/10-first-boot-agent.network'
ok $? "machine B: the static address went to networkd for the NIC with its MAC"
console "$work/boot-b.log" addresses | tr ' ' '\n' | grep -qx 10.0.2.16
ok $? "machine B: 10.0.2.16 is on its NIC (addresses: $(console "$work/boot-b.log" addresses))"
check "machine B took nothing from A: chainfire still lists node04 once" members "$ctl" chainfire node04 10.0.2.15:2380

t=$(now)
"$here/run-guest.sh" --initrd "$work/boot-root.cpio.gz" --nvme "$work/overlay-c.qcow2:FBA-ZT-C" \
        --mac "$mac_c" --smbios "$smbios_c" --append "systemd.show_status=1 zt.probe=waiting" --timeout 300 \
        --log "$work/boot-c.log"
rc=$?
timed "machine C (unknown: reports itself, keeps waiting)" "$(since "$t")"
grep -a 'zt-probe:' "$work/boot-c.log" | grep -v status-json | cut -c1-300 | sed 's/^/# machine C: /'
ok "$rc" "machine C: the agent was seen waiting to be known (guest exit $rc)"
check "machine C: still starting, never restarted nor failed; status shows it unknown after 3+ lookups" \
        waiting "$work/boot-c.log"
check "machine C: the provisioning server answered 404 to its lookups" prov-lookups "$pctl" "$mac_c" 404 3
check "machine C: it reported itself with its identifiers" identity-unknown "$ctl" "$mac_c" FBA-ZT-UNKNOWN
[ "$(pstate "$ctl" 'sorted(m["id"] for m in d["members"]["chainfire"])')" = "['node01', 'node04', 'node05']" ]
ok $? "machine C joined nothing: chainfire lists node01, node04 and node05"

[ "$(sha256sum <"$work/gold.img" | cut -d' ' -f1)" = "$gold_raw_sha" ] &&
        [ "$(sha256sum <"$work/gold.img.zst" | cut -d' ' -f1)" = "$gold_sha" ]
ok $? "after three machines: the gold image's SHA-256 is unchanged (raw and zstd)"
rm -f "$work/overlay-b.qcow2" "$work/overlay-c.qcow2"

# ---- 9. boot 3: the agent leaves at once --------------------------------------------------------------
zt_reset_logs
t=$(now)
disk_boot "$work/boot3.log"
rc=$?
timed "boot 3 (reboot, agent done at once)" "$(since "$t")"
zt_done_checks "$work/boot3.log" "$rc"

# ---- 10. failure variant: a corrupted image -----------------------------------------------------------
if [ "$skip_install" = 0 ]; then
        t=$(now)
        cp --sparse=always "$work/gold.img" "$work/bad.img"
        printf 'corrupted' | dd of="$work/bad.img" bs=1 seek=$((1048576 + 1024 + 100)) conv=notrunc status=none
        zstd -q -T0 -3 -f "$work/bad.img" -o "$work/www/gold.img.zst"
        rm -f "$work/bad.img"
        nvme=$work/nvme-bad.img
        rm -f "$nvme"
        truncate -s 2G "$nvme"
        printf 'label: gpt\nstart=2048, size=204800, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4\n' |
                sfdisk -q "$nvme" >/dev/null
        sfdisk -d "$nvme" >/dev/null 2>&1
        ok $? "corrupted image: the disk starts with a valid GPT"
        reports_before=$(python3 "$zt/check.py" count-reports "$ctl")
        "$here/run-guest.sh" --pxe "$work/tftp:boot.ipxe" --nvme "$nvme:$serial" --timeout 300 \
                --mac "$mac_a" --smbios "$smbios_a" --log "$work/boot-bad.log"
        rc=$?
        timed "failure variant boot (corrupted image)" "$(since "$t")"
        grep -a '^zt: ' "$work/boot-bad.log" | sed 's/^/# bad: /'
        [ "$rc" -eq 6 ]
        ok $? "corrupted image: the agent fails the flash with exit code 6 (guest exit $rc)"
        check "corrupted image: the report endpoint received flash-failed" events "$ctl" flash-failed
        check "corrupted image: the console holds the agent's flash-failed record" \
                console-records "$work/boot-bad.log" "$src" MID_FLASH_FAILED
        sfdisk -d "$nvme" >"$work/bad-sfdisk.txt" 2>&1
        [ $? -ne 0 ] && ! grep -q '^label:' "$work/bad-sfdisk.txt"
        ok $? "corrupted image: the NVMe disk has no partition table afterwards (primary nor backup)"
        note "$(head -n 3 "$work/bad-sfdisk.txt")"
        note "reports before the failure boot: $reports_before"
fi

timed "whole test" "$(since "$t_total")"
echo "1..$tap_n"
note "timings:" "${timings[@]}"
exit 0
