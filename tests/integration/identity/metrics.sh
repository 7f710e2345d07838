#!/bin/bash
# SPDX-License-Identifier: MIT
# The node_exporter textfile of a node booted from the generic image: the labels its last write
# carries (the run's end, synced, which a done node keeps showing) are those of the node's own
# configuration, the provisioning server's answer merged over the template (node_id, a
# cluster_name the answer changes), as the writes during the walk have them; read by promtool and
# Debian's prometheus-node-exporter. Address block 127.84.2.0/24.
. "$(dirname "$0")/lib.sh"
. "$src/tests/integration/metrics-lib.sh"
id_init 127.84.2 "identity and metrics: the last write names the node of the answer"
metrics_tools_check
cluster_start
prov_start
mdir=$tmp/textfile
mkdir -m 0755 "$mdir"
prom=$mdir/first_boot_agent.prom
node_exporter_start "$B.200:9100" "$mdir"

machine node04 --nic eno1:52:54:00:fb:a0:84 --uuid 6c1c0b3e-0000-4000-8000-000000008404 --serial SN-8404
template node04
config_edit node04 "c['cluster_name'] = 'template'; c['metrics'] = {'textfile_dir': '$mdir'}"
group node04 '{"mac": "52:54:00:fb:a0:84"}' "$(answer node04 | python3 -c '
import json, sys
a = json.load(sys.stdin)
a["cluster_name"] = "east"
print(json.dumps(a))')"

# Every write the agent makes, kept as it was written (the file is replaced by rename: each new
# inode is a new write).
( seen=""
  while :; do
          i=$(stat -c %i "$prom" 2>/dev/null) &&
                  [ "$i" != "$seen" ] && cp "$prom" "$tmp/write.$i" 2>/dev/null && seen=$i
          sleep 0.01
  done ) &
pids+=($!)
idn node04 run
rc=$?
is "$rc" 0 "run exits 0: looked up, joined, reported"
[ "$rc" -eq 0 ] || show_output
promtool_ok "$prom" "the run's last write: promtool check metrics accepts it"
scrape "$tmp/scrape.1"
is "$(value "$tmp/scrape.1" node_textfile_scrape_error)" 0 "node_exporter reads it: node_textfile_scrape_error 0"
version=$("$FBA_BIN" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)
is "$(value "$tmp/scrape.1" "first_boot_agent_run_info{cluster=\"east\",mode=\"firstboot\",node_id=\"node04\",version=\"$version\"}")" 1 \
        "the last write: node04 in cluster east (the answer's), not the template's"
is "$(grep -c '^first_boot_agent_run_info{' "$tmp/scrape.1")" 1 "one run_info series"
is "$(value "$tmp/scrape.1" 'first_boot_agent_step_state{service="",state="done",step="identity"}')" 1 "identity: done"
is "$(value "$tmp/scrape.1" 'first_boot_agent_step_state{service="chainfire",state="done",step="chainfire-join"}')" 1 \
        "chainfire-join: done, service chainfire"
ok "$([ -n "$(value "$tmp/scrape.1" first_boot_agent_first_boot_completed_timestamp_seconds)" ]; echo $?)" \
        "first boot completed"
n=$(ls "$tmp"/write.* 2>/dev/null | wc -l)
diag "writes seen during the run: $n"
after=$(grep -l 'step="identity",service="",state="done"} 1' "$tmp"/write.* 2>/dev/null | xargs -r grep -h '^first_boot_agent_run_info{' | sort -u)
ok "$([ -n "$after" ] && ! grep -qv 'cluster="east"' <<<"$after"; echo $?)" \
        "every write after the identity step names cluster east"

# The done node's next start writes nothing; what it shows stays the answer's.
idn node04 run
is "$?" 0 "the done node: run exits 0"
like "$prom" 'cluster="east"' "the done node keeps showing cluster east"

tap_done
