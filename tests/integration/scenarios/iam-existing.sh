#!/bin/bash
# SPDX-License-Identifier: MIT
# IAM setup against an IAM that already has the admin: no second account, a token all the same;
# a wrong password or a missing bootstrap token is a refusal (exit 5) that says what to fix;
# 5xx answers are retried. Address block 127.10.12.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.12 "IAM: existing admin, refusals, retries"
PASSWORD="pw-$(openssl rand -hex 8)"
cluster_start --iam-user "admin:$PASSWORD"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True; c["health_check"]["enabled"] = False'
iam_secrets node04 admin "$PASSWORD"
ctl /control/fail '{"service":"iam","path":"/admin/users/admin","status":503,"count":2}' >/dev/null

fba node04 run
rc=$?
is "$rc" 0 "admin already present: run exits 0"
[ "$rc" -eq 0 ] || show_output
has_mid "$ERR" IAM_ADMIN_EXISTS; ok $? "MID_IAM_ADMIN_EXISTS logged"
unlike "$ERR" "\"message_id\": ?\"$(mid IAM_ADMIN_CREATED)\"" "no MID_IAM_ADMIN_CREATED"
is "$(requests_where "r['method'] == 'POST' and r['path'] == '/admin/users'")" 0 "no create request"
is "$(requests_where "r['path'] == '/admin/users/admin'")" 3 "the lookup was retried after two 503s"
is "$(count_mid "$ERR" ATTEMPT_FAILED)" 2 "two MID_ATTEMPT_FAILED records"
fba node04 status --json
is "$(jpy "$OUT" "d['steps']['iam-setup']['attempts']")" 3 "status --json: iam-setup took 3 attempts"
[ -s "$(state_dir node04)/iam-admin.token" ]; ok $? "token file written"

# The secrets file holds another password than the account: the token request is refused.
iam_secrets node04 admin "wrong-$PASSWORD"
fba node04 reset iam-setup >/dev/null
fba node04 run
rc=$?
is "$rc" 5 "wrong password: exit 5"
like "$ERR" "another password" "the error says the password does not match"
grep -qF -- "wrong-$PASSWORD" "$ERR" "$OUT"
is "$?" 1 "the wrong password is not printed"

# IAM wants a bootstrap token the secrets file does not have.
kill "$CLUSTER_PID"; wait "$CLUSTER_PID" 2>/dev/null; unset 'pids[-1]'
CLUSTER_NAME=clusterd-token cluster_start --iam-bootstrap-token "boot-$(openssl rand -hex 8)"
iam_secrets node04 admin "$PASSWORD"
fba node04 run
rc=$?
is "$rc" 5 "missing bootstrap token: exit 5"
like "$ERR" "HTTP 401" "the error names the status"
like "$ERR" "bootstrap_token" "the error says to add the bootstrap token"
is "$(requests_where "r['path'].startswith('/admin/users')")" 1 "a 401 is not retried"

tap_done
