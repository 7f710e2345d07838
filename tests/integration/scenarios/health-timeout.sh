#!/bin/bash
# SPDX-License-Identifier: MIT
# A local service never becomes healthy: after timeouts.health_wait_s the agent exits 4 and
# says which service, which URL and what the last check gave. Address block 127.10.7.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.10.7 "health never comes: exit 4 naming the service, the URL and the last error"
cluster_start --unhealthy flaredb:node04

node_config node04 false
config_edit node04 'c["timeouts"]["health_wait_s"] = 3'
notify_listen

start=$(now_ns)
fba node04 run
rc=$?
ms=$(elapsed_ms "$start")
is "$rc" 4 "run exits 4 (step failed)"
[ "$rc" -eq 4 ] || show_output
[ "$ms" -ge 2900 ] && [ "$ms" -le 8000 ]
ok $? "it gives up after the 3 s deadline (${ms} ms)"
is "$(count_mid "$ERR" HEALTH_TIMEOUT)" 1 "one MID_HEALTH_TIMEOUT (only flaredb is unhealthy)"
grep -E "\"message_id\": ?\"$(mid HEALTH_TIMEOUT)\"" "$ERR" >"$tmp/timeout.line"
like "$tmp/timeout.line" "flaredb" "the record names the service"
like "$tmp/timeout.line" "https://$B.4:$FDB/health" "the record names the URL"
like "$tmp/timeout.line" "503" "the record names the last answer (HTTP 503)"
like "$tmp/timeout.line" "systemctl status flaredb.service" "the record says what to check"
unlike "$tmp/timeout.line" "chainfire" "chainfire (healthy) is not blamed"
has_mid "$ERR" SERVICE_HEALTHY; ok $? "chainfire's health was noticed (MID_SERVICE_HEALTHY)"
is "$(count_member chainfire node04)" 1 "chainfire was joined first (its health comes right before its own join)"
is "$(requests_where "r['path'].startswith('/admin/') and r['service'] == 'flaredb'")" 0 "no flaredb join was attempted"
is "$(marker_names node04)" ".chainfire-joined" "the chainfire marker only"
like "$tmp/notify.log" "STATUS=waiting for flaredb health \\(https://$B.4:$FDB/health\\), 2 s" \
        "sd_notify STATUS names the service, its URL and the time waited"

fba node04 status
is "$?" 4 "status exits 4 (stopped on a failed step)"
like "$OUT" "flaredb" "status names the service"
like "$OUT" "$B.4:$FDB/health" "status names the URL"

# The listener closed: the last error is the transport error.
ctl /control/listener '{"service":"flaredb","node":"node04","up":false}' >/dev/null
fba node04 run
is "$?" 4 "with the listener closed: exit 4 again"
grep -E "\"message_id\": ?\"$(mid HEALTH_TIMEOUT)\"" "$ERR" >"$tmp/timeout.line"
like "$tmp/timeout.line" "[Cc]onnect|refused" "the record names the transport error"

# A health endpoint that hangs: each check gives up after 2 s, the deadline still holds.
ctl /control/listener '{"service":"flaredb","node":"node04","up":true}' >/dev/null
ctl /control/delay '{"service":"flaredb","node":"node04","path":"/health","ms":10000,"count":-1}' >/dev/null
start=$(now_ns)
fba node04 run
rc=$?
ms=$(elapsed_ms "$start")
is "$rc" 4 "with a hanging health endpoint: exit 4"
cmp_le "$ms" 6000 "a hanging check does not stretch the deadline much (${ms} ms)"
grep -E "\"message_id\": ?\"$(mid HEALTH_TIMEOUT)\"" "$ERR" >"$tmp/timeout.line"
like "$tmp/timeout.line" "[Tt]imed out|[Tt]imeout" "the record names the timeout"
ctl /control/clear-rules '{}' >/dev/null

# It resumes once healthy.
ctl /control/health '{"service":"flaredb","node":"node04","healthy":true}' >/dev/null
fba node04 run
is "$?" 0 "once flaredb is healthy, the next run finishes"

tap_done
