#!/bin/bash
# SPDX-License-Identifier: MIT
# The IAM admin is cluster-wide: a joining node without the secrets file finds it present and is
# done; when the admin is missing and never appears, the step fails naming the file that would
# create it. Address block 127.10.16.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.16 "IAM without the secrets file: present is enough; missing names the file"
cluster_start --iam-user "admin:pw-$RANDOM$RANDOM"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True'
[ ! -e "$tmp/node04/iam-admin.json" ] || bail "a secrets file is there"
fba node04 run
rc=$?
is "$rc" 0 "admin present, no secrets file: exit 0"
[ "$rc" -eq 0 ] || show_output
has_mid "$ERR" IAM_ADMIN_EXISTS; ok $? "MID_IAM_ADMIN_EXISTS"
is "$(requests_where "r['service'] == 'iam' and r['method'] == 'POST'")" 0 "nothing created, no token asked for"
[ ! -e "$(state_dir node04)/iam-admin.token" ]; ok $? "no token file"
is "$(marker_names node04)" ".chainfire-joined .first-boot-done .flaredb-joined .health-reported .iam-initialized" "markers"

# An IAM without the admin: the node waits (timeouts.health_wait_s), then names the file.
ctl /control/fail '{"service":"iam","path":"/admin/users/admin","status":404,"count":-1,"body":{"error":"no such user"}}' >/dev/null
rm -f "$(state_dir node04)"/.iam-initialized "$(state_dir node04)"/.first-boot-done "$(state_dir node04)"/.health-reported
config_edit node04 'c["timeouts"]["health_wait_s"] = 2'
fba node04 run
is "$?" 4 "admin missing and no secrets file: exit 4"
like "$ERR" "no secrets file at '$tmp/node04/iam-admin.json'" "the error names the file"
fba node04 status
like "$OUT" "iam-setup +failed" "status: iam-setup failed"
[ ! -e "$(state_dir node04)/.iam-initialized" ]; ok $? "no IAM marker"

tap_done
