#!/bin/bash
# SPDX-License-Identifier: MIT
# An IAM that quotes the credentials back in its errors: as JSON in a 400, as plain text in a
# 503, in the token request. The password holds quotes and backslashes and is 150 characters
# long. Neither it nor its JSON- or URL-escaped forms, nor the bootstrap token, nor a long piece
# of any of them, may reach any output, the state directory, "status" (text and JSON) or a
# report. Address block 127.10.18.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.18 "a server that echoes secrets back: nothing of them gets out"
BOOT="Boot-$(openssl rand -hex 16)"
cluster_start --iam-bootstrap-token "$BOOT"

node_config node04 false
config_edit node04 'c["services"]["iam"]["enabled"] = True; c["timeouts"].update(join_attempts=2, backoff_initial_ms=20, backoff_max_ms=40)'
PASSWORD=$(python3 -c 'import secrets
p = "q\"uo\\te\\\\d" + "-" + secrets.token_hex(70)
print(p[:150])')
python3 -c 'import json, sys; json.dump({"username": "admin", "password": sys.argv[1], "bootstrap_token": sys.argv[2]}, open(sys.argv[3], "w"))' \
        "$PASSWORD" "$BOOT" "$tmp/node04/iam-admin.json"
chmod 600 "$tmp/node04/iam-admin.json"
is "${#PASSWORD}" 150 "a 150-character password with quotes and backslashes"

fail() { ctl /control/clear-rules '{}' >/dev/null; ctl /control/fail "$1" >/dev/null || bail "fail injection refused"; }

# 400 with the password quoted in a JSON error: refused, exit 5.
fail '{"service":"iam","path":"/admin/users","method":"POST","status":400,"count":-1,
       "echo":"password '"'"'%s'"'"' does not meet the policy"}'
fba node04 run
is "$?" 5 "400 quoting the password: exit 5"
like "$ERR" "HTTP 400 \(bad request; IAM's own message is not shown" "the error says why the message is left out"
fba node04 status
fba node04 status --json

# 503 with the password in plain text, every time: retried, then exit 4.
fail '{"service":"iam","path":"/admin/users","method":"POST","status":503,"count":-1,"echo_json":false,
       "echo":"upstream said: password=%s rejected"}'
fba node04 run
is "$?" 4 "503 quoting the password: exit 4 after the retries"
fba node04 status
fba node04 status --json

# The lookup quoting the bootstrap token back.
fail '{"service":"iam","path":"/admin/users/admin","method":"GET","status":403,"count":-1,
       "echo":"token %s is not valid here"}'
fba node04 run
is "$?" 5 "403 quoting the bootstrap token: exit 5"
fba node04 status --json

# The token request quoting the password.
fail '{"service":"iam","path":"/admin/tokens","method":"POST","status":400,"count":-1,
       "echo":"bad credentials for password \"%s\""}'
fba node04 run
is "$?" 5 "400 on the token request quoting the password: exit 5"
fba node04 status
fba node04 status --json

cstate "d['reports']" >"$tmp/reports.json"
is "$(jpy "$tmp/reports.json" "len([r for r in d if r['body']['event'] == 'firstboot-failed'])")" 4 \
        "four failure reports were received"
cat "$tmp/all-output" "$tmp/reports.json" >"$tmp/haystack"
find "$(state_dir node04)" -type f -exec cat {} + >>"$tmp/haystack" 2>/dev/null
[ "$(wc -c <"$tmp/haystack")" -gt 5000 ]; ok $? "the search covers every output ($(wc -c <"$tmp/haystack") bytes)"

# Every form the secrets could take on the way out, and a long piece of each.
python3 - "$tmp/haystack" "$PASSWORD" "$BOOT" <<'PY' >"$tmp/leaks"
import json, sys, urllib.parse
hay = open(sys.argv[1], encoding="utf-8", errors="replace").read()
for name, s in (("password", sys.argv[2]), ("bootstrap token", sys.argv[3])):
    forms = {"raw": s, "JSON-escaped": json.dumps(s)[1:-1], "URL-escaped": urllib.parse.quote(s, safe=""),
             "JSON-escaped twice": json.dumps(json.dumps(s)[1:-1])[1:-1]}
    for kind, f in forms.items():
        for label, needle in (("whole", f), ("first 24 characters", f[:24]), ("last 24 characters", f[-24:])):
            if needle in hay:
                print("%s, %s, %s" % (name, kind, label))
PY
is "$(cat "$tmp/leaks")" "" "no form of the password or the bootstrap token, whole or in part, appears anywhere"
like "$tmp/haystack" "\[redacted\]|not shown" "what was left out is marked as such"

tap_done
