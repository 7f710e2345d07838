#!/bin/bash
# SPDX-License-Identifier: MIT
# The node_exporter textfile of a node whose services are declared in its configuration: a fourth
# admin-API service ("ledger", after chainfire) and a Consul service named "discovery" (the
# stand-in local agent, tests/server/consul-agent.py, started by its start_command). The steps in
# the file are those of the plan ("reset --list"), each labelled with its service's name; Consul
# has a join step and no health step; read by promtool and Debian's prometheus-node-exporter after
# a clean first boot and after the Consul join fails; the gossip key and ACL token in no label.
# Address block 127.84.1.0/24.
. "$(dirname "$0")/../lib.sh"
. "$src/tests/integration/metrics-lib.sh"
lib_init 127.84.1 "metrics: declared services (a fourth admin service, Consul) through promtool and node_exporter"
metrics_tools_check
LEDGER=22579 LEDGER_RAFT=22580 CONSUL_HTTP=28501
KEY="pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s="
TOKEN="m3trics-acl-token-84"
( umask 077; printf '%s\n' "$KEY" >"$tmp/encrypt"; printf '%s\n' "$TOKEN" >"$tmp/acl-token" )

extra=(--cluster-service ledger)
for i in 1 2 3 4; do
        extra+=(--listen "ledger:node0$i:$B.$i:$LEDGER")
done
for i in 1 2 3; do
        extra+=(--member "ledger:node0$i:$B.$i:$LEDGER_RAFT")
done
cluster_start "${extra[@]}"

mdir=$tmp/textfile
mkdir -m 0755 "$mdir"
prom=$mdir/first_boot_agent.prom
node_exporter_start "$B.200:9100" "$mdir"

# The stand-in Consul agent of node04, started by the service's start_command.
d=$tmp/node04
cat >"$tmp/consul-start" <<EOS
#!/bin/sh
rm -f "$d/consul.ready"
setsid python3 "$src/tests/server/consul-agent.py" --config-dir "$d/consul.d" --catalog "$tmp/catalog.json" \\
        --listen "$B.4:$CONSUL_HTTP" --ready-file "$d/consul.ready" --cluster-key "$KEY" --acl-token "$TOKEN" \\
        >>"$d/consul.log" 2>&1 &
echo \$! >"$d/consul.pid"
EOS
chmod 755 "$tmp/consul-start"
stop_consul() { [ -e "$d/consul.pid" ] && kill "$(cat "$d/consul.pid")" 2>/dev/null; rm -f "$d/consul.pid"; sleep 0.2; }
trap 'stop_consul; lib_cleanup' EXIT

node_config node04 false
config_edit node04 'c["services"]["ledger"] = {"driver": "admin", "after": ["chainfire"], "api_port": '$LEDGER',
    "raft_port": '$LEDGER_RAFT', "health_url": "https://'$B'.4:'$LEDGER'/health"}
c["services"]["discovery"] = {"driver": "consul", "retry_join": ["'$B'.100"], "encrypt_file": "'$tmp'/encrypt",
    "token_file": "'$tmp'/acl-token", "config_dir": "'$d'/consul.d", "data_dir": "'$d'/consul-data",
    "http_url": "http://'$B'.4:'$CONSUL_HTTP'", "start_command": ["'$tmp'/consul-start"]}
c["datacenter"] = "dc1"
c["metrics"] = {"textfile_dir": "'$mdir'"}
c["timeouts"]["health_wait_s"] = 10'

fba node04 reset --list
is "$?" 0 "reset --list"
plan=$(tr '\n' ' ' <"$OUT")
diag "the plan: $plan"
like "$OUT" "^discovery-join$" "the plan has discovery-join"
unlike "$OUT" "^discovery-health$" "and no discovery-health (Consul checks membership in its join)"

# steps_of FILE: the step labels of the one-hot "pending" series, in the file's order.
steps_of() {
        sed -n 's/^first_boot_agent_step_state{step="\([^"]*\)",service="[^"]*",state="pending"} .*/\1/p' "$1" |
                tr '\n' ' '
}
# service_of SORTED_FILE STEP: the service label of STEP's series.
service_of() {
        sed -n "s/^first_boot_agent_step_duration_seconds{service=\"\([^\"]*\)\",step=\"$2\"} .*/\1/p" "$1"
}

# --- a clean first boot ------------------------------------------------------------------------
fba node04 run
rc=$?
is "$rc" 0 "node04 with ledger and Consul declared: run exits 0"
[ "$rc" -eq 0 ] || show_output
promtool_ok "$prom" "after a clean first boot: promtool check metrics accepts it"
is "$(steps_of "$prom")" "$plan" "the file's steps are the plan's, in its order"
scrape "$tmp/scrape.1"
is "$(value "$tmp/scrape.1" node_textfile_scrape_error)" 0 "node_exporter reads it: node_textfile_scrape_error 0"
is "$(service_of "$tmp/scrape.1" ledger-health)" ledger "ledger-health: service ledger"
is "$(service_of "$tmp/scrape.1" ledger-join)" ledger "ledger-join: service ledger"
is "$(service_of "$tmp/scrape.1" discovery-join)" discovery "discovery-join: service discovery (the service's name)"
is "$(service_of "$tmp/scrape.1" chainfire-join)" chainfire "chainfire-join: service chainfire"
ok "$([ -n "$(value "$tmp/scrape.1" 'first_boot_agent_step_duration_seconds{service="",step="health-report"}')" ]; echo $?)" \
        "health-report: the node's own, an empty service"
step_is "$tmp/scrape.1" ledger-join ledger done "ledger-join: done"
step_is "$tmp/scrape.1" discovery-join discovery done "discovery-join: done"
is "$(grep -c '^first_boot_agent_step_state{' "$tmp/scrape.1")" $((5 * $(wc -w <<<"$plan"))) \
        "five state series for each step of the plan, and no other"
unlike "$tmp/scrape.1" 'service="consul"' "no label from the kind's name"
is "$(value "$tmp/scrape.1" 'first_boot_agent_run_state{state="done"}')" 1 "run_state done"
ok "$(! grep -qs -e "$TOKEN" -e "$KEY" "$prom" "$tmp/scrape.1"; echo $?)" \
        "the gossip key and the ACL token are in no label"

# --- the Consul join fails --------------------------------------------------------------------------
# The agent's stand-in is not started again (a start command that does nothing): the join waits
# for the local agent until its deadline and fails.
stop_consul
rm -rf "$d/state" "$d/consul.d" "$d/consul-data"
mkdir -p "$d/state"
config_edit node04 'c["services"]["discovery"]["start_command"] = ["/bin/true"]
c["timeouts"]["health_wait_s"] = 3'
fba node04 run
rc=$?
ok "$([ "$rc" -ne 0 ]; echo $?)" "Consul never answering: run fails (exit $rc)"
promtool_ok "$prom" "after the failed Consul join: promtool check metrics accepts it"
scrape "$tmp/scrape.2"
is "$(value "$tmp/scrape.2" node_textfile_scrape_error)" 0 "after the failed join: node_textfile_scrape_error 0"
step_is "$tmp/scrape.2" discovery-join discovery failed "discovery-join: failed, service discovery"
step_is "$tmp/scrape.2" ledger-join ledger done "ledger-join: done"
step_is "$tmp/scrape.2" health-report "" pending "health-report: not reached, pending"
is "$(value "$tmp/scrape.2" 'first_boot_agent_run_state{state="failed"}')" 1 "run_state failed"
is "$(steps_of "$prom")" "$plan" "the failed run's file has the plan's steps too"

tap_done
