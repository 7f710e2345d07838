#!/bin/bash
# SPDX-License-Identifier: MIT
# network.static: the .network file for systemd-networkd, and the wait for the address. Here no
# networkd runs: the first run writes the file and stops (exit 4) because nobody applies it;
# once the address is on the interface (as networkd would put it) the next run goes on without
# asking the provisioning server again. An IPv6 address already present needs nothing more.
# Runs in a network namespace of its own (a veth interface stands for the NIC).
# Address block 127.44.6.0/24.
if [ -z "${FBA_NETNS_OWN:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null &&
        unshare --net true 2>/dev/null; then
        FBA_NETNS_OWN=1 exec unshare --net "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
id_init 127.44.6 "identity: static address through systemd-networkd"
# (root and unshare are there, id_init says so: the kernel refused the namespace)
[ -n "${FBA_NETNS_OWN:-}" ] || skip_all "the kernel refuses a network namespace here (unshare --net failed)"
command -v ip >/dev/null || skip_all "ip not installed (iproute2; tests/setup-deps.sh suite installs it)"
ip link set lo up || bail "cannot bring lo up"
# A veth pair per NIC: the dummy driver is not in every kernel.
for i in 0 1; do
        ip link add "fbatest$i" type veth peer name "fbapeer$i" 2>/dev/null || skip_all "no veth interfaces in this kernel"
        ip link set "fbatest$i" address "52:54:00:fb:a0:0$((i + 4))"
        ip link set "fbapeer$i" up
        ip link set "fbatest$i" up
done
cluster_start
prov_start

machine node04 --nic fbatest0:52:54:00:fb:a0:04 --nic fbatest9:52:54:00:fb:a0:99
ip -o link show fbatest0 | cut -d: -f1 >"$tmp/node04/sys/class/net/fbatest0/ifindex"
template node04
group node04 '{"mac": "52:54:00:fb:a0:04"}' "$(answer node04 | python3 -c 'import json,sys
d = json.load(sys.stdin)
d["network"] = {"cluster_cidr": "10.20.0.0/16",
                "static": {"mac": "52-54-00-FB-A0-04", "address": "192.0.2.14/24", "gateway": "192.0.2.1",
                           "dns": ["192.0.2.53"], "wait_s": 1}}
print(json.dumps(d))')"

idn node04 run
is "$?" 4 "no networkd to apply the address: exit 4 (the next start resumes)"
file="$tmp/node04/etc-upper/systemd/network/10-first-boot-agent.network"
grep -v '^#' "$file" 2>/dev/null >"$tmp/network-file"
printf '[Match]\nMACAddress=52:54:00:fb:a0:04\n\n[Network]\nAddress=192.0.2.14/24\nGateway=192.0.2.1\nDNS=192.0.2.53\n' >"$tmp/network-want"
cmp -s "$tmp/network-file" "$tmp/network-want"
ok $? "/etc/systemd/network/10-first-boot-agent.network matches the NIC by MAC and holds the address"
like "$ERR" 'Wrote .*10-first-boot-agent.network., but systemd-networkd cannot be asked to apply it' \
        "the error says networkd could not be asked"
[ -e "$(state_dir node04)/cluster-config.json" ] && [ -e "$(state_dir node04)/.hostname-set" ] &&
        [ ! -e "$(state_dir node04)/.network-configured" ] && [ ! -e "$(state_dir node04)/.node-identity" ]
ok $? "the configuration and the host name are done, the network and the step are not"
fba node04 status
like "$OUT" 'systemd-networkd cannot be asked to apply it' "status shows why"

ip addr add 192.0.2.14/24 dev fbatest0
requests=$(pstate "len(d['requests'])")
idn node04 run
rc=$?
is "$rc" 0 "with the address in place, the next run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(pstate "len(d['requests'])")" "$requests" "without asking the provisioning server again"
has_mid "$ERR" NETWORK_CONFIGURED; ok $? "MID_NETWORK_CONFIGURED logged"
grep -qx 'interface=fbatest0' "$(state_dir node04)/.network-configured" &&
        grep -qx 'address=192.0.2.14/24' "$(state_dir node04)/.network-configured"
ok $? ".network-configured records the interface and the address"
is "$(jpy "$(state_dir node04)/cluster-config.json" 'd["network"]["cluster_cidr"]')" 10.20.0.0/16 \
        "the other members of network stay"

# IPv6, already on the interface: nothing to wait for.
machine node05 --nic fbatest1:52:54:00:fb:a0:05
template node05
ip addr add 2001:db8::5/64 dev fbatest1 nodad
# node05's services are node04's listeners: one set of local services serves both here.
group node05 '{"mac": "52:54:00:fb:a0:05"}' "$(answer node04 | python3 -c 'import json,sys
d = json.load(sys.stdin)
d.update(node_id="node05", raft_addr="'"$B"'.5:'"$CF_RAFT"'", node_fqdn="node05.scenario.test")
d["network"] = {"static": {"address": "2001:db8::5/64"}}
print(json.dumps(d))')"
idn node05 run
rc=$?
is "$rc" 0 "an IPv6 address already present: exit 0 (the only NIC, no mac needed)"
[ "$rc" -eq 0 ] || show_output
like "$tmp/node05/etc-upper/systemd/network/10-first-boot-agent.network" '^Address=2001:db8::5/64$' \
        "the .network file holds the IPv6 address"

# A MAC this machine does not have.
machine node06 --nic fbatest1:52:54:00:fb:a0:05
template node06
pctl /control/delete '{"name": "node05"}' >/dev/null
group node06 '{"mac": "52:54:00:fb:a0:05"}' "$(answer node06 | python3 -c 'import json,sys
d = json.load(sys.stdin)
d["network"] = {"static": {"mac": "52:54:00:00:00:01", "address": "192.0.2.16/24"}}
print(json.dumps(d))')"
idn node06 run
is "$?" 5 "network.static.mac of no NIC here: exit 5"
like "$ERR" 'No physical NIC of this machine has the MAC 52:54:00:00:00:01 \(network.static.mac\)' "the error names the MAC"

tap_done
