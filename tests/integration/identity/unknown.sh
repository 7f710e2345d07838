#!/bin/bash
# SPDX-License-Identifier: MIT
# An unknown machine keeps asking (with backoff), is reported with its identifiers and shown by
# status; once the operator adds its group, it goes on by itself. With provisioning.wait_s it
# gives up instead (exit 4, the next start asks again). Address block 127.44.4.0/24.
. "$(dirname "$0")/lib.sh"
id_init 127.44.4 "identity: unknown node, then known"
cluster_start
prov_start
machine node04 --nic eno1:52:54:00:fb:a0:04 --uuid 4f1d2b44-0000-4000-8000-0000000000b4 --serial SN-0004
template node04
notify_listen

idn_bg node04 run
run_err=$ERR
for ((i = 0; i < 600; i++)); do
        [ "$(pstate "len(d['requests'])")" -ge 3 ] && break
        kill -0 "$FBA_PID" 2>/dev/null || break
        sleep 0.1
done
is "$(pstate "[r['status'] for r in d['requests']][:3]")" '[404, 404, 404]' "the unknown machine asked three times, 404 each"
kill -0 "$FBA_PID" 2>/dev/null
ok $? "the agent is still waiting"

fba node04 status --json
is "$?" 7 "status: 7 (a run is in progress)"
is "$(jpy "$OUT" 'd["steps"]["identity"]["status"]')" running "status: identity is running"
jpy "$OUT" 'd["steps"]["identity"]["last_error"]' >"$tmp/last_error"
like "$tmp/last_error" \
        'unknown to the provisioning server https://[0-9.:]*/v1/node \(mac 52:54:00:fb:a0:04, uuid 4f1d2b44-0000-4000-8000-0000000000b4, serial SN-0004\)' \
        "status shows the identifiers the server did not know"
fba node04 status
like "$OUT" 'identity .*running' "status (text) shows identity running"

is "$(cstate "[r['body']['event'] for r in R]")" '["identity-unknown"]' "one identity-unknown report"
is "$(cstate "[R[0]['body']['identifiers'][k] for k in ('macs', 'uuid', 'serial')]")" \
        '[["52:54:00:fb:a0:04"], "4f1d2b44-0000-4000-8000-0000000000b4", "SN-0004"]' \
        "the report carries the identifiers"
is "$(cstate "type(R[0]['body']['identifiers']['disk_serials']).__name__")" list \
        "the report carries the disk serials (those of this machine's real disks)"
is "$(cstate "R[0]['body']['inventory']['system']['vendor']")" QEMU "the report carries the inventory"
grep -q 'EXTEND_TIMEOUT_USEC=' "$tmp/notify.log"
ok $? "the agent keeps its unit's start from timing out (EXTEND_TIMEOUT_USEC)"
grep -q 'STATUS=waiting to be known by https://[0-9.:]*/v1/node (mac 52:54:00:fb:a0:04)' "$tmp/notify.log"
ok $? "systemctl status would say it waits to be known"

group node04 '{"serial": "SN-0004"}' "$(answer node04)"
wait "$FBA_PID"
rc=$?
OUT=${run_err%.stderr}.stdout ERR=$run_err
idn_collect
is "$rc" 0 "once the group exists, the same run goes on and exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(count_mid "$ERR" IDENTITY_UNKNOWN)" 1 "MID_IDENTITY_UNKNOWN logged once, not at every attempt"
has_mid "$ERR" IDENTITY_FOUND; ok $? "MID_IDENTITY_FOUND logged"
is "$(count_member chainfire node04)" 1 "chainfire lists node04 exactly once"
is "$(cstate "[r['body']['event'] for r in R]")" '["identity-unknown", "firstboot-done"]' \
        "then the firstboot-done report"

# A deadline: provisioning.wait_s.
machine node05 --nic eno1:52:54:00:fb:a0:05
template node05
config_edit node05 'c["provisioning"]["wait_s"] = 1'
idn node05 run
is "$?" 4 "with wait_s, an unknown machine stops with exit 4 (the next start asks again)"
like "$ERR" 'Gave up looking this machine up at .* \(provisioning.wait_s=1\)' "the error names provisioning.wait_s"
fba node05 status
is "$?" 4 "status: 4 (the last run failed)"
like "$OUT" 'still unknown to the provisioning server' "status shows why"
[ ! -e "$(state_dir node05)/cluster-config.json" ]
ok $? "nothing stored"

tap_done
