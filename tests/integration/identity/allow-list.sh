#!/bin/bash
# SPDX-License-Identifier: MIT
# What a provisioning server may change: the issue's reproductions, each a signed answer (so
# the signature is good and only the allow-list stands in the way) setting what the image keeps:
# iam.allow_http with its own IAM URL, iam.token_file, a flash section, tls.insecure_skip_verify,
# report.url, an etcd start_command, a service the image does not declare. Each is refused with every member named, and nothing is
# stored or done. The same member listed in provisioning.allow passes, and a whole
# cluster-config.json served as the answer passes. Address block 127.71.2.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.71.2 "identity allow-list: an answer changes only what the image lets it"
cluster_start
openssl genpkey -algorithm ED25519 -out "$tmp/sign.key" 2>/dev/null || bail "openssl genpkey"
openssl pkey -in "$tmp/sign.key" -pubout -out "$tmp/sign.pub" 2>/dev/null || bail "openssl pkey"
prov_start --sign-key "$tmp/sign.key"
witness="$tmp/witness"

# signed_case DESCRIPTION PYTHON_EDIT REGEX: a new machine with a signed-answers template, whose
# answer is node04's edited; refused with REGEX.
signed_case() {
        new_machine
        config_edit "$node" 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
        group "$node" "{\"mac\": \"$mac\"}" "$(answer_with node04 "$2")"
        refused "$1" "$3"
}

signed_case "iam.allow_http with the server's own IAM URL" \
        'd["iam"] = {"allow_http": True}; d["services"]["iam"]["url"] = "http://'"$B"'.100:28081"' \
        'changes what the image keeps: \.services\.iam\.url, \.iam\.allow_http\.'
like "$ERR" '\.iam\.allow_http: expected the image.s value \(nothing: the template does not set it\), which an answer may not change, found true; remove it from the node.s answer on the provisioning server, or, if the image.s owner means the server to set it, list \\"\.iam\.allow_http\\" in provisioning\.allow' \
        "iam.allow_http: the problem says what to do"
has_mid "$ERR" IDENTITY_REFUSED && grep "$(mid IDENTITY_REFUSED)" "$ERR" | grep -q '\.services\.iam\.url, \.iam\.allow_http' 
ok $? "the MID_IDENTITY_REFUSED record names every refused member"

signed_case "iam.token_file pointed at /etc/cron.d" 'd["iam"] = {"token_file": "/etc/cron.d/first-boot"}' \
        'changes what the image keeps: \.iam\.token_file\.'
[ ! -e "$tmp/$node/etc-upper/cron.d" ]
ok $? "iam.token_file: nothing written under /etc/cron.d"

signed_case "a flash section" \
        'd["flash"] = {"images": [{"name": "system", "url": "https://'"$B"'.100:28082/i.img", "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "target": {"type": "nvme", "serial": "S4EW*"}}], "on_success": "reboot"}' \
        'changes what the image keeps: \.flash\.images, \.flash\.on_success\.'

signed_case "tls.insecure_skip_verify" 'd["tls"] = {"insecure_skip_verify": True}' \
        'changes what the image keeps: \.tls\.insecure_skip_verify\.'

signed_case "report.url" 'd["report"] = {"url": "https://'"$B"'.100:28000/stolen"}' \
        'changes what the image keeps: \.report\.url\.'
is "$(cstate "len([r for r in d['reports'] if r['path'] == '/stolen'])")" 0 "report.url: nothing was sent to the answer's URL"

signed_case "an etcd start_command" \
        'd["services"]["chainfire"].update({"driver": "etcd", "etcd": {"start_command": ["/bin/sh", "-c", "id >'"$witness"'"]}})' \
        'changes what the image keeps: \.services\.chainfire\.driver, \.services\.chainfire\.etcd\.start_command\.'
[ ! -e "$witness" ]
ok $? "start_command: it never ran (no witness file)"

signed_case "a service the image does not declare, with enabled alone" 'd["services"]["ledger"] = {"enabled": True}' \
        'changes what the image keeps: \.services\.ledger\.'
like "$ERR" 'a service the image does not declare' "an undeclared service: refused as that, not as an incomplete service"

# The image's owner widens the list: report.url is then the answer's.
machine node04 --nic eno1:52:54:00:fb:a0:04
template node04
config_edit node04 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"; c["provisioning"]["allow"].append(".report.url")'
group node04 '{"mac": "52:54:00:fb:a0:04"}' "$(answer_with node04 'd["report"] = {"url": "https://'"$B"'.100:28000/from-answer"}')"
fba node04 validate
is "$?" 0 "a template with provisioning.allow is valid"
idn node04 run
rc=$?
is "$rc" 0 "report.url listed in provisioning.allow: the answer is accepted, run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(jpy "$(state_dir node04)/cluster-config.json" 'd["report"]["url"]')" "https://$B.100:28000/from-answer" \
        "the stored configuration has the answer's report.url"
is "$(cstate "[r['body']['event'] for r in R if r['path'] == '/from-answer'][-1:]")" '["firstboot-done"]' \
        "the report went to the answer's URL"

# A whole cluster-config.json served as the answer: the template's members repeated, unchanged.
machine node14 --nic eno1:52:54:00:fb:a0:14
template node14
config_edit node14 'c["provisioning"]["public_key"] = "'"$tmp/sign.pub"'"'
group node14 '{"mac": "52:54:00:fb:a0:14"}' "$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
a = json.loads(sys.argv[2])
for k, v in a.items():
    if k == "services":
        for s, o in v.items():
            c["services"][s].update(o)
    else:
        c[k] = v
print(json.dumps(c))' "$tmp/node14/config.json" "$(answer node04)")"
is "$(pstate "[g['size'] > 1000 for g in d['groups'] if g['name'] == 'node14']")" '[true]' "(the whole file is served)"
idn node14 run
rc=$?
is "$rc" 0 "a whole cluster-config.json as the answer is accepted"
[ "$rc" -eq 0 ] || show_output
is "$(jpy "$(state_dir node14)/cluster-config.json" '[d["node_id"], d["provisioning"]["public_key"] == "'"$tmp/sign.pub"'"]')" \
        '["node04", true]' "the stored configuration is node04's, with the image's provisioning section"

tap_done
