#!/bin/bash
# SPDX-License-Identifier: MIT
# Secrets stay secret: the IAM password, the bootstrap token and the issued token appear in no
# output, no file of the state dir, no report and no "status" output; only the token file
# (0600) holds the token. A secrets file others may read is refused. Address block 127.10.9.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.9 "secrets never leave the secrets and token files"
PASSWORD="Pw-$(openssl rand -hex 12)"
BOOT="Boot-$(openssl rand -hex 12)"
cluster_start --iam-bootstrap-token "$BOOT"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True'
iam_secrets node04 admin "$PASSWORD" "$BOOT"
secrets="$tmp/node04/iam-admin.json"

# A secrets file readable by others is refused, naming the mode and the fix.
chmod 644 "$secrets"
fba node04 run
rc=$?
[ "$rc" -ne 0 ]; ok $? "a 0644 secrets file is refused (exit $rc)"
like "$ERR" "0644" "the refusal names the mode"
like "$ERR" "chmod 600 '?$secrets" "the refusal names the chmod to run"
is "$(cstate "len(d['iam_users'])")" 0 "no IAM user was created"
chmod 600 "$secrets"

fba node04 run
rc=$?
is "$rc" 0 "run exits 0 with a 0600 secrets file"
[ "$rc" -eq 0 ] || show_output
token_file="$(state_dir node04)/iam-admin.token"
is "$(stat -c %a "$token_file" 2>/dev/null)" 600 "the token file is 0600"
TOKEN=$(cat "$token_file")
[ ${#TOKEN} -ge 16 ]; ok $? "the token file holds a token"
has_mid "$ERR" IAM_TOKEN_ISSUED; ok $? "MID_IAM_TOKEN_ISSUED logged"
like "$ERR" "$token_file" "the record names the token file"

# Everything the agent printed or wrote, plus what the server received as reports.
fba node04 status
fba node04 status --json
fba node04 run                          # the done fast path
fba node04 reset health-report >/dev/null
fba node04 run                          # a second report
cstate "d['reports']" >"$tmp/reports.json"
cat "$tmp/all-output" "$tmp/reports.json" >"$tmp/haystack"
find "$(state_dir node04)" -type f ! -path "$token_file" -exec cat {} + >>"$tmp/haystack"
[ "$(wc -c <"$tmp/haystack")" -gt 2000 ]; ok $? "the search covers the output ($(wc -c <"$tmp/haystack") bytes)"
is "$(jpy "$tmp/reports.json" "len([r for r in d if r['body']['event'] == 'firstboot-done'])")" 2 \
        "two firstboot-done reports were received"

for name in PASSWORD BOOT TOKEN; do
        grep -qF -- "${!name}" "$tmp/haystack"
        is "$?" 1 "$name appears nowhere in outputs, state files or reports"
done
grep -rlF -- "$TOKEN" "$(state_dir node04)" >"$tmp/token-files"
is "$(cat "$tmp/token-files")" "$token_file" "the token file is the only file in the state dir with the token"

tap_done
