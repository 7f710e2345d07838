#!/bin/bash
# SPDX-License-Identifier: MIT
# An answer configures the node, so it must come over verified HTTPS or signed: a plain http://
# provisioning URL without provisioning.public_key is refused by validate and by run, loopback
# included, before anything is asked. The issue's reproduction: a hostile plain-HTTP server whose
# answer sets an etcd start_command; it never runs. Over verified HTTPS the same answer is
# refused too (an answer may not choose a command). Address block 127.71.1.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.71.1 "identity transport: http:// needs signed answers, loopback included"
cluster_start
prov_start
witness="$tmp/witness"
hostile=$(answer_with node04 'd["services"]["chainfire"].update({"driver": "etcd", "etcd": {"start_command": ["/bin/sh", "-c", "id >'"$witness"'"]}})')

# The hostile server: plain HTTP, serving that answer to anyone.
www="$tmp/www"
mkdir -p "$www/v1"
printf '%s\n' "$hostile" >"$www/v1/node"
python3 -m http.server --bind "$B.100" --directory "$www" 28080 >"$tmp/www.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do curl -s -o /dev/null "http://$B.100:28080/" && break; sleep 0.05; done
: >"$tmp/www.log"

machine node04 --nic eno1:52:54:00:fb:a0:04
template node04 "http://$B.100:28080/v1/node"

fba node04 validate
is "$?" 3 "validate refuses an http:// provisioning URL without public_key (exit 3)"
like "$ERR" "\.provisioning\.url: expected an https:// URL, or provisioning\.public_key set \(signed answers\).*found the string .http://$B\.100:28080/v1/node.; write https://" \
        "validate names provisioning.url and what to do"
unlike "$OUT" "valid template" "validate does not call it a valid template"

idn node04 run
is "$?" 3 "run refuses it too (exit 3, a configuration problem)"
like "$ERR" '\.provisioning\.url: expected an https:// URL, or provisioning\.public_key set' "run names provisioning.url"
[ ! -e "$witness" ]
ok $? "the answer's start_command never ran (no witness file)"
is "$(grep -c 'GET ' "$tmp/www.log")" 0 "the plain-HTTP server was never asked"
[ ! -e "$(state_dir node04)/cluster-config.json" ]
ok $? "nothing stored"

# The kernel command line's URL is held to the same rule.
machine node05 --nic eno1:52:54:00:fb:a0:05
template node05
config_edit node05 'del c["provisioning"]["url"]'
printf 'quiet first_boot_agent.metadata_url=http://%s.100:28080/v1/node\n' "$B" >"$tmp/cmdline"
FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline" fba node05 validate
is "$?" 3 "validate refuses first_boot_agent.metadata_url=http://… without public_key"
like "$ERR" 'first_boot_agent\.metadata_url \(kernel command line\): expected an https:// URL' \
        "the problem names the kernel command line"

# With public_key the same plain-HTTP server is a valid source: its answers must be signed.
openssl genpkey -algorithm ED25519 -out "$tmp/sign.key" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || bail "openssl pkey"
config_edit node04 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
fba node04 validate
is "$?" 0 "with provisioning.public_key an http:// URL is valid"
idn node04 run
is "$?" 5 "the unsigned answer of the plain-HTTP server is refused (exit 5)"
like "$ERR" "no signature at http://$B\.100:28080/v1/node\.sig" "the missing signature is named"
[ ! -e "$witness" ]
ok $? "the start_command never ran"

# Over verified HTTPS, unsigned: the same answer may still not choose a command.
new_machine
group "$node" "{\"mac\": \"$mac\"}" "$hostile"
refused "an unsigned answer over HTTPS setting an etcd start_command" \
        'changes what the image keeps: \.services\.chainfire\.driver, \.services\.chainfire\.etcd\.start_command\.'
[ ! -e "$witness" ]
ok $? "the start_command never ran"

tap_done
