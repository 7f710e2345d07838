#!/bin/bash
# SPDX-License-Identifier: MIT
# What an operator can serve with any static web server keyed by MAC: one file per machine,
# named after a MAC, and its detached RSA signature beside it. Plain HTTP (python3 -m
# http.server): the signature is the trust. Two MACs answering differently are refused.
# Address block 127.44.3.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.44.3 "identity from a static web server keyed by MAC, RSA-signed files"
cluster_start
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$tmp/sign.key" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || bail "openssl pkey"

www="$tmp/www"
mkdir -p "$www/nodes"
publish() {  # publish MAC NODE: the file, bound to that MAC, and its signature, as the operator makes them
        answer "$2" | python3 -c 'import json, sys
d = json.load(sys.stdin)
d["match"] = {"mac": sys.argv[1].replace("-", ":")}
d["not_after"] = "2099-12-31T23:59:59Z"
print(json.dumps(d, indent=2))' "$1" >"$www/nodes/$1.json"
        openssl dgst -sha256 -sign "$tmp/sign.key" -out "$www/nodes/$1.json.sig" "$www/nodes/$1.json"
}
publish 52-54-00-fb-b0-04 node04
python3 -m http.server --bind "$B.100" --directory "$www" 28080 >"$tmp/www.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 100; i++)); do curl -s -o /dev/null "http://$B.100:28080/" && break; sleep 0.05; done

machine node04 --nic eno1:52:54:00:fb:a0:04 --nic eno2:52:54:00:fb:b0:04
template node04 "http://$B.100:28080/nodes/{mac}.json"
config_edit node04 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'

idn node04 run
rc=$?
is "$rc" 0 "run exits 0"
[ "$rc" -eq 0 ] || show_output
grep -q '"GET /nodes/52-54-00-fb-a0-04.json HTTP/1.1" 404' "$tmp/www.log"
ok $? "the first NIC's file was asked for (404)"
grep -q '"GET /nodes/52-54-00-fb-b0-04.json HTTP/1.1" 200' "$tmp/www.log" &&
        grep -q '"GET /nodes/52-54-00-fb-b0-04.json.sig HTTP/1.1" 200' "$tmp/www.log"
ok $? "the second NIC's file and its signature were served"
grep -q "^matched=mac 52:54:00:fb:b0:04$" "$(state_dir node04)/.identity-fetched"
ok $? ".identity-fetched says which MAC matched"
grep -q "^bound_to=mac 52:54:00:fb:b0:04$" "$(state_dir node04)/.identity-fetched" &&
        grep -q "^not_after=2099-12-31T23:59:59+00:00$" "$(state_dir node04)/.identity-fetched"
ok $? ".identity-fetched records the binding the signed file carried (match, not_after)"
is "$(jpy "$(state_dir node04)/cluster-config.json" '[k for k in ("match", "not_after") if k in d]')" '[]' \
        "the stored configuration has neither match nor not_after"
is "$(count_member chainfire node04)" 1 "chainfire lists node04 exactly once"

# A second machine whose two NICs have files for two different nodes.
publish 52-54-00-fb-a0-06 node06
publish 52-54-00-fb-b0-07 node07
machine node06 --nic eno1:52:54:00:fb:a0:06 --nic eno2:52:54:00:fb:b0:07
template node06 "http://$B.100:28080/nodes/{mac}.json"
config_edit node06 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
idn node06 run
is "$?" 5 "two MACs with different answers: refused, exit 5"
like "$ERR" 'matches more than one node: mac 52:54:00:fb:a0:06 and mac 52:54:00:fb:b0:07 have different configurations' \
        "the error names both MACs"
[ ! -e "$(state_dir node06)/cluster-config.json" ] && [ ! -e "$(state_dir node06)/.identity-fetched" ]
ok $? "nothing stored"

# A file whose signature belongs to other bytes.
publish 52-54-00-fb-a0-08 node08
answer node09 >"$www/nodes/52-54-00-fb-a0-08.json"
machine node08 --nic eno1:52:54:00:fb:a0:08
template node08 "http://$B.100:28080/nodes/{mac}.json"
config_edit node08 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
idn node08 run
is "$?" 5 "a file that does not match its signature: refused, exit 5"
like "$ERR" 'the signature http://[0-9.:]*/nodes/52-54-00-fb-a0-08.json.sig does not verify the answer with the RSA key' \
        "the error names the signature and the key type"
[ ! -e "$(state_dir node08)/cluster-config.json" ]
ok $? "nothing stored"

tap_done
