#!/bin/bash
# SPDX-License-Identifier: MIT
# Answers the agent refuses, each with a clear error, exit 5 and nothing written: invalid JSON,
# a configuration with problems, a member an answer may not set, a machine matching two groups,
# an answer over the size limit, an unsigned or badly signed answer, a server the image's CA
# does not trust, and an answer for another node than the state directory's.
# Address block 127.44.5.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.44.5 "identity: bad answers are refused and nothing is stored"
cluster_start
openssl genpkey -algorithm ED25519 -out "$tmp/sign.key" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || bail "openssl pkey"
prov_start --sign-key "$tmp/sign.key"

new_machine
pctl /control/groups "{\"name\": \"$node\", \"selector\": {\"mac\": \"$mac\"}, \"raw\": \"{\\\"node_id\\\": \\\"node04\\\",\"}" >/dev/null
refused "invalid JSON" 'the answer of https://[^ ]*: \.: expected a JSON object \(the node.s configuration\), found a syntax error at line 1'

new_machine
group "$node" "{\"mac\": \"$mac\"}" '{"node_id": "node04", "node_role": "boss", "bootstrap": false, "raft_addr": "nowhere", "cluster_name": "scenario"}'
refused "a configuration with problems" 'configuration from https://[^ ]* has 2 problems'
like "$ERR" '\.node_role: expected one of \\"control-plane\\", \\"worker\\", \\"all-in-one\\", found the string \\"boss\\"' \
        "invalid configuration: node_role named"
like "$ERR" '\.raft_addr: expected .*HOST:PORT.*found the string \\"nowhere\\"' "invalid configuration: raft_addr named"

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04 | python3 -c 'import json,sys; d=json.load(sys.stdin); d["state_dir"]="/tmp/elsewhere"; print(json.dumps(d))')"
refused "an answer setting state_dir" 'changes what the image keeps: \.state_dir\.'
like "$ERR" '\.state_dir: expected the image.s value .*which an answer may not change, found the string \\"/tmp/elsewhere\\"; where a node looks itself up and keeps its state are the image.s alone' \
        "state_dir: named, never an answer's"

new_machine
group "$node-a" "{\"mac\": \"$mac\"}" "$(answer node04)"
group "$node-b" "{\"mac\": \"$mac\", \"serial\": \"nope\"}" "$(answer node05)"
group "$node-c" "{\"mac\": \"$mac\"}" "$(answer node06)"
refused "a MAC matching two groups" "matches more than one node: HTTP 409: the machine matches 2 groups: $node-a, $node-c"

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
pctl /control/fail '{"path": "/v1/node", "status": 200, "size": 70000}' >/dev/null
refused "an answer over the size limit" 'sent an answer larger than 65536 bytes, over provisioning.max_size \(65536 bytes\)'

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
config_edit "$node" 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
pctl /control/fail '{"path": "/v1/node.sig", "status": 200, "body": "not a signature of anything"}' >/dev/null
refused "a wrong signature" 'the signature https://[^ ]*/v1/node\.sig\?mac=[^ ]* does not verify the answer with the Ed25519 key'

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
config_edit "$node" 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
pctl /control/fail '{"path": "/v1/node.sig", "status": 404, "body": {"error": "no signature"}}' >/dev/null
refused "a missing signature" 'no signature at https://[^ ]*\.sig[^ ]* \(HTTP 404\), and answers must be signed'

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
config_edit "$node" 'c["provisioning"]["ca_cert_path"] = "'"$tmp/certs/other-ca.crt"'"'
refused "a server the image's CA does not trust" "the certificate of https://[^ ]* is not trusted by the CA $tmp/certs/other-ca.crt"

# tls.insecure_skip_verify is for the cluster's servers: the provisioning server is checked all
# the same (an answer over HTTPS is trusted because its certificate is).
new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
config_edit "$node" 'c["provisioning"]["ca_cert_path"] = "'"$tmp/certs/other-ca.crt"'"; c["tls"]["insecure_skip_verify"] = True'
refused "an untrusted server, with tls.insecure_skip_verify in the template" \
        "the certificate of https://[^ ]* is not trusted by the CA $tmp/certs/other-ca.crt"

new_machine
group "$node" "{\"mac\": \"$mac\"}" "$(answer node04)"
printf '{"version": 1, "node_id": "node09", "mode": "firstboot", "steps": {}}\n' >"$(state_dir "$node")/state.json"
chmod 600 "$(state_dir "$node")/state.json"
refused "an answer for another node than the state directory's" \
        "the answer is for node 'node04', but the state directory .* records the progress of node 'node09'"
like "$ERR" 'reset --all' "what to do: clear the old node's progress, or correct the server"
fba "$node" status
is "$?" 5 "status: 5 (the last run was refused)"
like "$OUT" "node09" "status still shows the state directory's node"

tap_done
