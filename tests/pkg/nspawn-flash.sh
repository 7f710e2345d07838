#!/bin/bash
# SPDX-License-Identifier: MIT
# The installer's unit on a real systemd: a debootstrapped Debian 12 tree with the .deb
# installed boots under systemd-nspawn with "first_boot_agent.mode=flash" on its command line
# (which systemd in a container reads as its kernel command line) and a loop device bound in
# as the target disk. first-boot-agent-flash.service must run, write the image served by
# tests/server/imaged.py (block 127.30.1.0/24) byte for byte under its sandbox, report, and
# power the system off through systemd; first-boot-agent.service must be skipped.
#
# A watchdog unit in the tree powers off after 120 s if the agent did not, and leaves a mark.
# The results are read from the tree's persistent journal afterwards. TAP output.

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/integration/flash/lib.sh"
. "$src/tests/pkg/lib.sh"
set -uo pipefail

[ "$(id -u)" -eq 0 ] || skip_all "needs root"
for c in systemd-nspawn debootstrap dpkg-buildpackage dpkg-deb flock journalctl; do
        command -v "$c" >/dev/null || skip_all "'$c' is not installed"
done
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}

flash_init 0 "nspawn: first-boot-agent-flash.service flashes a loop device and powers off"
# This test's own block, not the flasher tests' 127.20.N.
block=127.30.1
ip_server=$block.1
ip_report=$block.2

deb=$("$src/tests/pkg/build-deb.sh" 2>"$tmp/build-deb.log")
rc=$?
sed 's/^/# /' "$tmp/build-deb.log"
[ $rc -eq 0 ] && [ -f "$deb" ] || bail "the .deb did not build"
mapfile -t deps < <(pkg_deb_depends "$deb")
layer=$(pkg_rootfs_with_packages "${deps[@]}" 2>"$tmp/rootfs.log")
rc=$?
sed 's/^/# /' "$tmp/rootfs.log"
[ $rc -eq 0 ] && [ -d "$layer" ] || bail "no Debian tree (debootstrap or apt failed)"

make_disk_image "$tmp/disk.img" 32
publish "$tmp/disk.img"
imaged_start
report_start
dev=$(new_loop 48)
backing=$tmp/target0.img
diag "target: $dev on $backing"

root="$tmp/root"
cp -a "$layer" "$root" || bail "could not copy the tree"
rm -f "$root/.complete"
cp "$deb" "$root/var/tmp/first-boot-agent.deb"
systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe dpkg -i /var/tmp/first-boot-agent.deb \
        </dev/null >"$tmp/dpkg.log" 2>&1 || { sed 's/^/# /' "$tmp/dpkg.log"; bail "dpkg -i failed"; }
rm -f "$root/var/tmp/first-boot-agent.deb"
[ -L "$root/etc/systemd/system/multi-user.target.wants/first-boot-agent-flash.service" ]
ok $? "after dpkg -i: first-boot-agent-flash.service is enabled"

# The kernel names a loop device's backing file as seen from the reader's root; a file outside
# the container is named from the root of the container's mount namespace. On a host that is
# this test's "/"; when the test runs in a chroot, the container sees the chroot's directory in
# front ("/srv/chroot/tmp/…/target0.img" for "/tmp/…/target0.img"): with the test's own name
# no target matched and the agent exited 6 (what systemd calls NOTCONFIGURED). The name the
# agent will see is asked from inside the container.
seen=$(systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe --bind="$dev" \
        cat "/sys/block/${dev#/dev/}/loop/backing_file" </dev/null 2>"$tmp/seen.log")
[ -n "$seen" ] || { sed 's/^/# /' "$tmp/seen.log"; bail "cannot read $dev's backing file inside the container"; }
[ "$seen" = "$backing" ] || diag "inside the container $dev's backing file is $seen"

install -d -m 0700 "$root/etc/nixos/secrets"
cfg="$root/etc/nixos/secrets/cluster-config.json"
flash_config "$cfg" "$(image_entry system disk.img.zst "$seen")" "" \
        "\"report\": {\"url\": \"http://$ip_report:8000/report\", \"timeout_s\": 5}"
sed -i 's/"on_success": "none"/"on_success": "poweroff"/' "$cfg"
grep -q '"on_success": "poweroff"' "$cfg" || bail "could not set on_success"
chmod 600 "$cfg"

cat >"$root/etc/systemd/system/fba-test-watchdog.service" <<'EOF'
[Unit]
Description=Power off if the flasher did not
After=first-boot-agent-flash.service

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'sleep 120; touch /fba-watchdog-fired; systemctl --no-block poweroff'

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/fba-test-watchdog.service \
        "$root/etc/systemd/system/multi-user.target.wants/fba-test-watchdog.service"

start=$(date +%s%N)
timeout -s KILL "$BOOT_TIMEOUT" systemd-nspawn -b -D "$root" --register=no --keep-unit \
        --console=read-only -q --bind="$dev" </dev/null >"$tmp/console" 2>&1 \
        first_boot_agent.mode=flash
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
ok $rc "the installer booted and powered off (${ms} ms on the host clock)"
[ ! -e "$root/fba-watchdog-fired" ]
ok $? "the agent powered the system off itself (the watchdog did not fire)"

journalctl --root "$root" -o json --no-pager >"$tmp/journal.json" 2>/dev/null
# journalctl -x inside the tree: its catalog database, made by dpkg's trigger at installation.
systemd-nspawn -q -D "$root" --register=no --keep-unit --pipe \
        journalctl -x --no-pager -u first-boot-agent-flash.service </dev/null >"$tmp/journal-x.txt" 2>&1
journalctl --root "$root" --no-pager -o cat >"$tmp/journal.txt" 2>&1

# count UNIT MID_NAME [FIELD=VALUE]: records of UNIT with that MESSAGE_ID (and field).
count() {
        python3 - "$tmp/journal.json" "$1" "$(mid "$2")" "${3:-}" <<'EOF'
import json, sys
path, unit, mid, want = sys.argv[1:5]
n = 0
for line in open(path):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("_SYSTEMD_UNIT") == unit and r.get("MESSAGE_ID") == mid:
        if want:
            k, v = want.split("=", 1)
            if r.get(k) != v:
                continue
        n += 1
print(n)
EOF
}
mid() { sed -n "s/^#define MID_$1 \"\([0-9a-f]*\)\".*/\1/p" "$src/agent/record/message-id.h"; }

like "$tmp/journal.txt" 'first-boot-agent-flash.service.*(Finished|Deactivated successfully)|Finished first-boot-agent-flash.service' \
        "first-boot-agent-flash.service ran"
unlike "$tmp/journal.txt" 'first-boot-agent-flash.service: (Main process exited, code=exited, status=[1-9]|Failed with result|Triggering OnFailure)' \
        "first-boot-agent-flash.service did not fail (the SIGTERM of the power-off is a success)"
like "$tmp/journal.txt" 'first-boot-agent.service.*skipped because of an unmet condition check \(ConditionKernelCommandLine=!first_boot_agent.mode=flash\)' \
        "first-boot-agent.service was skipped on the flash boot"
is "$(count first-boot-agent-flash.service FLASH_BEGIN)" 1 "MID_FLASH_BEGIN from the flash unit"
is "$(count first-boot-agent-flash.service FLASH_DONE)" 1 "MID_FLASH_DONE from the flash unit"
is "$(count first-boot-agent-flash.service POWER_ACTION MODE=poweroff)" 1 "MID_POWER_ACTION with MODE=poweroff"
like "$tmp/journal-x.txt" 'Subject: system written and verified' "journalctl -x explains MID_FLASH_DONE from the catalog"
unlike "$tmp/journal-x.txt" '@[A-Z_]+@' "no unsubstituted @FIELD@ in journalctl -x"
like "$tmp/journal.txt" 'Powering off|System Power Off|Reached target.*Power-Off' "systemd carried out the power-off"

same_as_image "$dev" "$tmp/disk.img"
ok $? "the loop device holds the image byte for byte"
has_partition_table "$dev"
ok $? "the target has its partition table"
is "$(report_events | grep -v '^flash-progress$' | tr '\n' ' ')" "flash-started flash-done " \
        "the provisioning server got flash-started and flash-done"

tap_done
