#!/bin/bash
# SPDX-License-Identifier: MIT
# Broken and hostile answers: a member list whose entry for this node is "removed", or carries its
# name on another machine's id; ids and statuses with terminal escape sequences; a token file
# whose place is a link to elsewhere, in a directory others may write to; a report server that is
# down during the run and back for the next start. Address block 127.10.19.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.19 "hostile member lists, escapes, temp files, reports across runs"
cluster_start --down report:collector

node_config node04 false
config_edit node04 'c["services"]["flaredb"]["enabled"] = False'
ESC=$(printf '\033')
ctl /control/members "{\"service\":\"chainfire\",\"members\":[
        {\"id\":\"node01\",\"raft_addr\":\"$B.1:$CF_RAFT\"},
        {\"id\":\"node04\",\"raft_addr\":\"$B.4:$CF_RAFT\",\"status\":\"removed\"},
        {\"id\":\"node99\",\"name\":\"node04\",\"raft_addr\":\"$B.99:$CF_RAFT\"},
        {\"id\":\"evil\\u001b[2J\\u001b]0;owned\\u0007\",\"raft_addr\":\"$B.66:$CF_RAFT\",\"status\":\"\\u001b[31mred\\u009b1m\"}]}" \
        >/dev/null || bail "control API"

# --- strict membership: neither the removed entry nor the borrowed name is this node ---------------
fba node04 run
rc=$?
is "$rc" 0 "run exits 0 (the report server being down is no failure)"
[ "$rc" -eq 0 ] || show_output
is "$(requests_where "r['path'] == '/admin/member/add' and r['service'] == 'chainfire'")" 1 \
        "the node added itself: a removed entry and a name on another id are not this node"
is "$(cstate "len([m for m in d['members']['chainfire'] if m['id'] == 'node04' and m['status'] == 'active'])")" 1 \
        "an active node04 is in the list now"

# --- terminal escapes from a server never reach a terminal ---------------------------------------
fba node04 member list --service chainfire
is "$?" 0 "member list"
unlike "$OUT" "$ESC" "no escape character in the member list"
like "$OUT" "evil\?\[2J\?\]0;owned\?" "the hostile id is shown with its controls replaced"
FBA_TIMEOUT=30 timeout 30 "$FBA_BIN" --config "$tmp/node04/config.json" --state-dir "$(state_dir node04)" \
        --log-target console member list --service chainfire >"$tmp/console.out" 2>"$tmp/console.err"
cat "$tmp/console.out" "$tmp/console.err" >>"$tmp/all-output"
unlike "$tmp/console.out" "$ESC" "console target, stdout: no escape character"
unlike "$tmp/console.err" "$ESC" "console target, records: no escape character"

# --- the report waits and goes on the next start -------------------------------------------------
is "$(ls "$(state_dir node04)/reports" | grep -c 'firstboot-done.json$')" 1 "the firstboot-done report waits in the spool"
is "$(stat -c %a "$(state_dir node04)/reports")" 700 "the spool is 0700"
fba node04 status
like "$OUT" "^Reports: 1 waiting to be delivered, the oldest \(firstboot-done\)" "status shows the waiting report"
fba node04 status --json
is "$(jpy "$OUT" "'%d %s' % (d['reports_waiting']['count'], d['reports_waiting']['oldest_event'])")" "1 firstboot-done" \
        "status --json too"
ctl /control/listener '{"service":"report","node":"collector","up":true}' >/dev/null || bail "listener up"
fba node04 run
is "$?" 0 "the next start (a done node) exits 0"
is "$(cstate "[r['body']['event'] for r in R]")" '["firstboot-done"]' "the report arrived, once"
is "$(cstate "R[0]['body']['node_id']")" "node04" "with the node's id"
is "$(ls -A "$(state_dir node04)/reports" | wc -l)" 0 "the spool is empty"
fba node04 status
unlike "$OUT" "^Reports:" "status shows no waiting report"

# --- the token goes only where it belongs ---------------------------------------------------------
rm -f "$(state_dir node04)"/.chainfire-joined "$(state_dir node04)"/.first-boot-done "$(state_dir node04)"/.health-reported
iam_secrets node04 admin "pw-$RANDOM$RANDOM"
mkdir -p "$tmp/node04/tokens"
config_edit node04 "c['services']['iam']['enabled'] = True; c['iam']['token_file'] = '$tmp/node04/tokens/iam-admin.token'"
chmod 1777 "$tmp/node04/tokens"
fba node04 run
is "$?" 4 "a token directory others may write to: exit 4"
like "$ERR" "Refusing to write into '$tmp/node04/tokens' \(iam.token_file\): group or others may write to it \(mode 1777\)" \
        "the refusal names the directory, its mode"
like "$ERR" "chmod go-w '$tmp/node04/tokens'" "and the fix"
chmod 700 "$tmp/node04/tokens"
: >"$tmp/stolen"
ln -s "$tmp/stolen" "$tmp/node04/tokens/iam-admin.token"
fba node04 run
is "$?" 0 "with a private directory: exit 0"
[ -f "$tmp/node04/tokens/iam-admin.token" ] && [ ! -L "$tmp/node04/tokens/iam-admin.token" ]
ok $? "a link where the token goes is replaced, not followed"
is "$(stat -c %s "$tmp/stolen")" 0 "the link's target got nothing"
is "$(stat -c %a "$tmp/node04/tokens/iam-admin.token")" 600 "the token file is 0600"
is "$(ls -A "$tmp/node04/tokens")" "iam-admin.token" "no temporary file left behind"

tap_done
