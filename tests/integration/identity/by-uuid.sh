#!/bin/bash
# SPDX-License-Identifier: MIT
# The lookup URL from the kernel command line (first_boot_agent.metadata_url=), by SMBIOS UUID
# in the path form, with answers signed (Ed25519) and checked. Address block 127.44.2.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.44.2 "identity by UUID: kernel command line URL, path form, signed answers"
cluster_start
openssl genpkey -algorithm ED25519 -out "$tmp/sign.key" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || bail "openssl pkey"
prov_start --sign-key "$tmp/sign.key"
uuid=0c5a7c2e-31aa-4d59-9f1e-0000000000a4
machine node04 --nic eth0:52:54:00:fb:a0:04 --uuid "${uuid^^}" --serial SN-0004
template node04
# The section keeps the key; the URL comes from the kernel command line only.
config_edit node04 'c["provisioning"] = {"public_key": "'"$tmp/sign.pub"'", "retry_max_s": 1, "allow": c["provisioning"]["allow"]}'
group node04 "{\"uuid\": \"$uuid\"}" "$(answer node04)"
# Another machine's group, by MAC: not this one.
group node05 '{"mac": "52:54:00:fb:a0:04", "uuid": "0c5a7c2e-31aa-4d59-9f1e-0000000000a5"}' "$(answer node05)"

printf 'quiet first_boot_agent.metadata_url=%s/nodes/uuid/{uuid}.json\n' "$PROV" >"$tmp/cmdline"

fba node04 validate
is "$?" 3 "without the command line, a provisioning section without url is refused"
like "$ERR" '\.provisioning\.url: expected an http\(s\) URL.*first_boot_agent\.metadata_url=\), found nothing' \
        "the problem names provisioning.url and the command line"

export FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline"
fba node04 validate
is "$?" 0 "with first_boot_agent.metadata_url= on the command line the template is valid"

idn node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(pstate "[r['path'] for r in d['requests']]")" "[\"/nodes/uuid/$uuid.json\", \"/nodes/uuid/$uuid.json.sig\"]" \
        "one lookup by the UUID (lower case), then its signature"
grep -q "^matched=uuid $uuid$" "$(state_dir node04)/.identity-fetched"
ok $? ".identity-fetched says the UUID matched"
grep -q '"MESSAGE_ID".*signature verified\|signature verified' "$ERR"
ok $? "the record says the signature was verified"
is "$(count_member flaredb node04)" 1 "flaredb lists node04 exactly once"
is "$(cat "$tmp/node04/hostname")" node04.scenario.test "host name set"

tap_done
