#!/bin/bash
# SPDX-License-Identifier: MIT
# "first-boot-agent inventory [--json]" on a machine described by a sysfs tree: physical NICs
# only (no bridge, loopback or SR-IOV function), a bond member by its permanent MAC, SMBIOS
# placeholders as absent; no configuration needed. No address block (no server).
. "$(dirname "$0")/lib.sh"
id_init 127.44.7 "inventory: NICs, SMBIOS, CPUs, memory, disks"
machine m --nic eno1:52:54:00:FB:A0:01 --nic eno2:52:54:00:fb:a0:01 --nic eno3:52:54:00:fb:a0:03 \
        --uuid 4C4C4544-0000-4000-8000-000000000001 --serial "To Be Filled By O.E.M."
sys="$tmp/m/sys"
# eno2 is a bond member: it shows the bond's MAC (eno1's); its own is in perm_hwaddr.
mkdir -p "$sys/class/net/eno2/bonding_slave"
echo 52:54:00:fb:a0:02 >"$sys/class/net/eno2/bonding_slave/perm_hwaddr"
# eno3 is an SR-IOV virtual function.
mkdir -p "$sys/devices/pci0000:00/eno3/physfn"

FIRST_BOOT_AGENT_SYSFS_DIR="$sys" fba m --config "$tmp/none.json" inventory --json
is "$?" 0 "inventory --json exits 0 without a configuration"
is "$(jpy "$OUT" '[(n["name"], n["mac"]) for n in d["nics"]]')" \
        '[["eno1", "52:54:00:fb:a0:01"], ["eno2", "52:54:00:fb:a0:02"]]' \
        "the physical NICs, the bond member by its permanent MAC, no bridge, loopback or VF"
is "$(jpy "$OUT" '[d["system"][k] for k in ("uuid", "serial", "vendor", "product")]')" \
        '["4c4c4544-0000-4000-8000-000000000001", null, "QEMU", "Test Machine"]' \
        "SMBIOS: the UUID in lower case, the placeholder serial as null"
is "$(jpy "$OUT" 'd["cpus"] == '"$(nproc)"' and d["memory_bytes"] > 0')" true "CPUs and memory"
is "$(jpy "$OUT" 'all(set(k) >= {"name", "type", "size_bytes", "serial", "wwn", "model"} for k in d["disks"])')" true \
        "each disk has name, type, size, serial, WWN and model"
is "$(jpy "$OUT" 'sorted({k["type"] for k in d["disks"]} - {"nvme", "virtio", "mmc", "scsi"})')" '[]' \
        "no loop or device-mapper device among the disks"

FIRST_BOOT_AGENT_SYSFS_DIR="$sys" fba m inventory
is "$?" 0 "inventory exits 0"
like "$OUT" '^  eno2 +52:54:00:fb:a0:02  e1000e$' "the text lists eno2 with its permanent MAC and driver"
like "$OUT" '^UUID: +4c4c4544-0000-4000-8000-000000000001$' "the text shows the UUID"
like "$OUT" '^Serial: +-$' "the text shows no serial"
fba m inventory extra
is "$?" 2 "an argument: usage error"

tap_done
