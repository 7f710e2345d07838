#!/bin/bash
# SPDX-License-Identifier: MIT
# The node_exporter textfile (first_boot_agent.prom), read by real parsers: promtool check
# metrics and Debian's prometheus-node-exporter (its textfile collector, scraped over HTTP).
# After a clean first boot, while a step waits, after a failed step, with label values from the
# configuration that need escaping, on a done node (nothing written), a missing or unsafe
# directory, and a kill -9 loop while the agent writes (the file is whole or absent, never half).
# The alert rule and the queries of docs/metrics.md go through promtool. Address block 127.74.1.0/24.
. "$(dirname "$0")/../lib.sh"
. "$src/tests/integration/metrics-lib.sh"
lib_init 127.74.1 "metrics: the textfile through promtool and node_exporter"
metrics_tools_check
cluster_start --unhealthy flaredb:node04

mdir=$tmp/textfile
mkdir -m 0755 "$mdir"
prom=$mdir/first_boot_agent.prom
node_exporter_start "$B.200:9100" "$mdir"
version=$("$FBA_BIN" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)


# --- a clean first boot ------------------------------------------------------------------------
node_config node03 true
config_edit node03 "c['metrics'] = {'textfile_dir': '$mdir'}"
t0=$(date +%s)
start=$(now_ns)
fba node03 run
rc=$?
run_ms=$(elapsed_ms "$start")
t1=$(date +%s)
is "$rc" 0 "node03 (bootstrap): run exits 0"
[ "$rc" -eq 0 ] || show_output
ok "$([ -f "$prom" ]; echo $?)" "first_boot_agent.prom written"
is "$(stat -c %a "$prom")" 644 "mode 0644: node_exporter's user reads it"
promtool_ok "$prom" "after a clean first boot: promtool check metrics accepts it"
scrape "$tmp/scrape.1"
is "$(value "$tmp/scrape.1" node_textfile_scrape_error)" 0 "node_exporter reads it: node_textfile_scrape_error 0"
is "$(value "$tmp/scrape.1" "first_boot_agent_run_info{cluster=\"scenario\",mode=\"firstboot\",node_id=\"node03\",version=\"$version\"}")" 1 \
        "run_info: mode, node, cluster and version, through node_exporter"
is "$(value "$tmp/scrape.1" 'first_boot_agent_run_state{state="done"}')" 1 "run_state done"
step_is "$tmp/scrape.1" identity "" skipped "identity (no provisioning section): skipped"
step_is "$tmp/scrape.1" config "" done "config: done"
step_is "$tmp/scrape.1" chainfire-health chainfire done "chainfire-health: done, service chainfire"
step_is "$tmp/scrape.1" chainfire-join chainfire done "chainfire-join: done, service chainfire"
step_is "$tmp/scrape.1" flaredb-join flaredb done "flaredb-join: done, service flaredb"
step_is "$tmp/scrape.1" iam-setup iam skipped "iam-setup (IAM disabled): skipped"
step_is "$tmp/scrape.1" health-report "" done "health-report: done"
is "$(grep -c '^first_boot_agent_step_state{' "$tmp/scrape.1")" 45 "five state series for each of the nine steps"
is "$(value "$tmp/scrape.1" 'first_boot_agent_step_attempts_total{service="",step="health-report"}')" 1 \
        "health-report: one attempt"
ok "$(value "$tmp/scrape.1" 'first_boot_agent_step_duration_seconds{service="chainfire",step="chainfire-join"}' |
      grep -qE '^[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?$'; echo $?)" "chainfire-join: a duration in seconds"
done_at=$(value "$tmp/scrape.1" first_boot_agent_first_boot_completed_timestamp_seconds)
ok "$(awk -v a="$t0" -v b="$t1" -v v="$done_at" 'BEGIN { exit !(v != "" && a <= v + 0 && v + 0 <= b + 1) }'; echo $?)" \
        "first_boot_completed_timestamp_seconds is the time of the run ($done_at)"
is "$(value "$tmp/scrape.1" first_boot_agent_reports_pending)" 0 "reports_pending 0 (the report was delivered)"
unlike "$prom" 'first_boot_agent_flash_' "no flash series on a first boot"

# --- a done node writes nothing ------------------------------------------------------------------
before=$(stat -c '%i %.9Y' "$prom")
rm -f "$mdir"/unrelated
if command -v strace >/dev/null; then
        # (LeakSanitizer cannot run under ptrace: a sanitizer build runs without it here)
        ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
                strace -f -e trace=%file -o "$tmp/strace.done" "$FBA_BIN" --config "$tmp/node03/config.json" \
                --state-dir "$tmp/node03/state" --log-target json run >/dev/null 2>&1
        is "$?" 0 "done node: run exits 0"
        unlike "$tmp/strace.done" "$mdir" "done node: the metrics directory is not even looked at (strace)"
else
        fba node03 run
        is "$?" 0 "done node: run exits 0"
        skip "strace not installed (tests/setup-deps.sh suite installs it)" \
                "done node: the metrics directory is not even looked at (strace)"
fi
is "$(stat -c '%i %.9Y' "$prom")" "$before" "done node: the file is left as it was"

# --- reports waiting, then delivered by a later start of the done node --------------------------
rm -rf "$tmp/node03/state"
ctl /control/listener '{"service":"report","node":"collector","up":false}' >/dev/null || bail "report listener down"
fba node03 run
is "$?" 0 "with the report server down: run exits 0"
sorted "$prom" "$tmp/pending.prom"
is "$(value "$tmp/pending.prom" first_boot_agent_reports_pending)" 1 "the report waiting in the spool: reports_pending 1"
ctl /control/listener '{"service":"report","node":"collector","up":true}' >/dev/null || bail "report listener up"
fba node03 run
is "$?" 0 "the done node's next start delivers it: exit 0"
sorted "$prom" "$tmp/pending.prom"
is "$(value "$tmp/pending.prom" first_boot_agent_reports_pending)" 0 "after the delivery: reports_pending 0"
step_is "$tmp/pending.prom" chainfire-join chainfire done "after the delivery: the steps are still there"

# --- a step waiting, then failing ---------------------------------------------------------------
node_config node04 false
config_edit node04 "c['metrics'] = {'textfile_dir': '$mdir'}; c['timeouts']['health_wait_s'] = 4"
fba_bg node04 run
for ((i = 0; i < 200; i++)); do
        grep -q 'step="flaredb-health",service="flaredb",state="running"} 1' "$prom" 2>/dev/null && break
        sleep 0.05
done
cp "$prom" "$tmp/running.raw"
sorted "$tmp/running.raw" "$tmp/running.prom"
promtool_ok "$tmp/running.raw" "while flaredb-health waits: promtool accepts the file"
step_is "$tmp/running.prom" flaredb-health flaredb running "while it waits: flaredb-health running"
step_is "$tmp/running.prom" chainfire-join chainfire done "while it waits: chainfire-join done"
step_is "$tmp/running.prom" flaredb-join flaredb pending "while it waits: flaredb-join, not reached yet, pending"
step_is "$tmp/running.prom" health-report "" pending "while it waits: health-report, not reached yet, pending"
is "$(value "$tmp/running.prom" 'first_boot_agent_run_state{state="running"}')" 1 "while it waits: run_state running"
started=$(value "$tmp/running.prom" 'first_boot_agent_step_started_timestamp_seconds{service="flaredb",step="flaredb-health"}')
ok "$([ -n "$started" ]; echo $?)" "while it waits: the step's start time is there ($started)"
wait "$FBA_PID"
is "$?" 4 "node04 (flaredb never healthy): run exits 4"
promtool_ok "$prom" "after a failed step: promtool check metrics accepts it"
scrape "$tmp/scrape.2"
is "$(value "$tmp/scrape.2" node_textfile_scrape_error)" 0 "after a failed step: node_textfile_scrape_error 0"
step_is "$tmp/scrape.2" flaredb-health flaredb failed "flaredb-health: failed"
step_is "$tmp/scrape.2" chainfire-join chainfire done "chainfire-join: done"
is "$(value "$tmp/scrape.2" 'first_boot_agent_run_state{state="failed"}')" 1 "run_state failed"
is "$(grep -c '^first_boot_agent_first_boot_completed_timestamp_seconds' "$tmp/scrape.2")" 0 \
        "no completion time after a failed run"
d=$(value "$tmp/scrape.2" 'first_boot_agent_step_duration_seconds{service="flaredb",step="flaredb-health"}')
ok "$(awk -v d="$d" 'BEGIN { exit !(d != "" && d + 0 >= 4) }'; echo $?)" \
        "flaredb-health's duration covers its 4 s deadline ($d s)"
a=$(value "$tmp/scrape.2" 'first_boot_agent_step_attempts_total{service="flaredb",step="flaredb-health"}')
ok "$([ "${a:-0}" -ge 1 ] 2>/dev/null; echo $?)" "flaredb-health: its attempts are there ($a)"
is "$(value "$tmp/scrape.2" 'first_boot_agent_run_info{cluster="scenario",mode="firstboot",node_id="node04",version="'"$version"'"}')" 1 \
        "the file is node04's now (one file per node)"

# --- label values that need escaping --------------------------------------------------------------
# cluster_name may hold quotes and backslashes (a newline is refused by the configuration: it never
# reaches a label); the flash's image names too (tests/integration/flash/metrics.sh).
rm -rf "$tmp/node03/state"
config_edit node03 'c["cluster_name"] = "east \"A\" \\\\ rack\\\\n7 Zürich"'
fba node03 run
is "$?" 0 "node03 with cluster_name 'east \"A\" \\\\ rack\\\\n7 Zürich': run exits 0"
promtool_ok "$prom" "escaped labels: promtool check metrics accepts the file"
like "$prom" '^first_boot_agent_run_info\{mode="firstboot",node_id="node03",cluster="east \\"A\\" \\\\\\\\ rack\\\\\\\\n7 Zürich",' \
        "escaped labels: quotes and backslashes escaped in the file"
scrape "$tmp/scrape.3"
is "$(value "$tmp/scrape.3" node_textfile_scrape_error)" 0 "escaped labels: node_textfile_scrape_error 0"
python3 - "$tmp/scrape.3" >"$tmp/cluster.label" <<'EOF'
import re, sys
for line in open(sys.argv[1], encoding="utf-8"):
    if line.startswith("first_boot_agent_run_info{"):
        m = re.search(r'cluster="((?:[^"\\]|\\.)*)"', line)
        v = m.group(1).replace("\\\\", "\0").replace('\\"', '"').replace("\\n", "\n").replace("\0", "\\")
        print(v)
EOF
is "$(cat "$tmp/cluster.label")" 'east "A" \\ rack\\n7 Zürich' \
        "escaped labels: node_exporter gives back the configured name, byte for byte"
config_edit node03 'c["cluster_name"] = "two\nlines"'
fba node03 validate "$tmp/node03/config.json"
ok "$([ $? -ne 0 ]; echo $?)" "a cluster_name with a newline is refused by validate (it cannot reach a label)"
config_edit node03 'c["cluster_name"] = "scenario"'

# --- the directory: missing, unsafe, turned off ---------------------------------------------------
rm -rf "$tmp/node03/state"
config_edit node03 "c['metrics'] = {'textfile_dir': '$tmp/no-such-dir'}"
FIRST_BOOT_AGENT_LOG_LEVEL=debug fba node03 run
is "$?" 0 "a missing metrics directory: run exits 0"
like "$ERR" "metrics directory '$tmp/no-such-dir' \(metrics.textfile_dir\) does not exist" \
        "a missing metrics directory: one debug record naming it"
is "$(grep -c 'metrics.textfile_dir) does not exist' "$ERR")" 1 "a missing metrics directory: said once per run"
ok "$([ ! -e "$tmp/no-such-dir" ]; echo $?)" "a missing metrics directory is not created"

rm -rf "$tmp/node03/state"
mkdir -m 0777 "$tmp/open-dir"
chmod 0777 "$tmp/open-dir"
config_edit node03 "c['metrics'] = {'textfile_dir': '$tmp/open-dir'}"
fba node03 run
is "$?" 0 "a directory others may write to: run exits 0 (metrics never fail a run)"
like "$ERR" "Failed to write the metrics file '$tmp/open-dir/first_boot_agent.prom'.*chmod go-w" \
        "a directory others may write to: a warning naming the file and the chmod"
is "$(grep -c 'Failed to write the metrics file' "$ERR")" 1 "that warning comes once per run"
is "$(ls -A "$tmp/open-dir")" "" "nothing written there"

rm -rf "$tmp/node03/state"
config_edit node03 "c['metrics'] = {'textfile_dir': '$tmp/off', 'enabled': False}"
mkdir -m 0755 "$tmp/off"
fba node03 run
is "$?" 0 "metrics.enabled false: run exits 0"
is "$(ls -A "$tmp/off")" "" "metrics.enabled false: nothing written"

# The built-in default is the directory Debian's prometheus-node-exporter reads (its
# --collector.textfile.directory default; the package's unit passes no other), and both units may
# write it.
ne_default=$(prometheus-node-exporter --help 2>&1 | sed -n 's/.*--collector\.textfile\.directory="\([^"]*\)".*/\1/p')
agent_default=$(sed -n 's/^#define METRICS_TEXTFILE_DIR_DEFAULT "\(.*\)"$/\1/p' "$src/agent/config/config.h")
ok "$([ -n "$ne_default" ] && [ "$agent_default" = "$ne_default" ]; echo $?)" \
        "metrics.textfile_dir's default '$agent_default' is prometheus-node-exporter's ('$ne_default')"
ok "$(grep -qx "ReadWritePaths=-$agent_default" "$src/units/first-boot-agent.service.in" &&
      grep -qx "ReadWritePaths=-$agent_default" "$src/units/first-boot-agent-flash.service.in"; echo $?)" \
        "both units may write it (ReadWritePaths=-$agent_default)"

# The default directory comes from the environment in the tests (never the machine's own).
rm -rf "$tmp/node03/state"
mkdir -m 0755 "$tmp/envdir"
config_edit node03 "del c['metrics']"
FIRST_BOOT_AGENT_METRICS_DIR=$tmp/envdir fba node03 run
is "$?" 0 "without a metrics section: run exits 0"
promtool_ok "$tmp/envdir/first_boot_agent.prom" "without a metrics section: the default directory holds the file"

# --- kill -9 while the agent writes -----------------------------------------------------------------
config_edit node03 "c['metrics'] = {'textfile_dir': '$mdir'}"
rm -f "$prom"
bad=0 seen=0 changes=0 last=""
diag "a whole run of node03 took $run_ms ms"
for ((i = 0; i < 40; i++)); do
        rm -rf "$tmp/node03/state"
        fba_bg node03 run
        # A random moment within the time a whole run took (measured above).
        sleep "$(printf '0.%03d' $((RANDOM % (run_ms + 1) % 1000)))"
        kill -9 "$FBA_PID" 2>/dev/null
        wait "$FBA_PID" 2>/dev/null
        [ -e "$prom" ] || continue
        seen=$((seen + 1))
        out=$(promtool check metrics <"$prom" 2>&1) && [ -z "$out" ] || {
                bad=$((bad + 1))
                cp "$prom" "$tmp/half.$i.prom"
                diag "iteration $i: $out"
        }
        now=$(sha256sum <"$prom")
        [ "$now" != "$last" ] && changes=$((changes + 1))
        last=$now
done
is "$bad" 0 "kill -9 at random times, 40 runs: the file was always absent or whole (promtool)"
ok "$([ "$seen" -gt 0 ] && [ "$changes" -gt 1 ]; echo $?)" \
        "the kills fell while the agent was writing ($seen runs left a file, $changes different contents)"
diag "temporary files left by the kills (node_exporter reads only *.prom): $(find "$mdir" -name 'first_boot_agent.prom.*' | wc -l)"
rm -rf "$tmp/node03/state"
fba node03 run
is "$?" 0 "a whole run after the kills: exit 0"
is "$(find "$mdir" -name 'first_boot_agent.prom.*' | wc -l)" 0 "the temporary files of killed writers are removed by the next write"
promtool_ok "$prom" "after the kills and a whole run: promtool accepts the file"
scrape "$tmp/scrape.4"
is "$(value "$tmp/scrape.4" node_textfile_scrape_error)" 0 "after the kills: node_textfile_scrape_error 0"

# --- docs/metrics.md: the alert rule and the queries ------------------------------------------------
python3 - "$src/docs/metrics.md" "$tmp" >"$tmp/n-queries" <<'EOF'
import re, sys
doc = open(sys.argv[1]).read()
blocks = re.findall(r"```(\w+)\n(.*?)```", doc, re.S)
rules = [b for lang, b in blocks if lang == "yaml" and "alert:" in b]
open(sys.argv[2] + "/rules.yml", "w").write(rules[0] if rules else "")
queries = [q.strip() for lang, b in blocks if lang == "promql" for q in b.split("\n\n") if q.strip()]
with open(sys.argv[2] + "/queries.yml", "w") as f:
    f.write("groups:\n  - name: docs-queries\n    rules:\n")
    for i, q in enumerate(queries):
        q = "\n".join(l for l in q.splitlines() if not l.lstrip().startswith("#"))
        f.write("      - record: docs:query_%d\n        expr: |\n%s\n" % (i, "\n".join("          " + l for l in q.splitlines())))
print(len(queries))
EOF
ok "$([ "$(cat "$tmp/n-queries")" -ge 3 ]; echo $?)" "docs/metrics.md holds the queries ($(cat "$tmp/n-queries"))"
promtool check rules "$tmp/rules.yml" >"$tmp/check-rules.out" 2>&1
rc=$?
ok $rc "docs/metrics.md: the alert rule passes promtool check rules"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/check-rules.out"
like "$tmp/rules.yml" "alert: FirstBootStepStuck" "docs/metrics.md: the alert is the stuck-step alert"
promtool check rules "$tmp/queries.yml" >"$tmp/check-queries.out" 2>&1
rc=$?
ok $rc "docs/metrics.md: every Grafana query parses (promtool check rules)"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/check-queries.out"
cp "$tmp/rules.yml" "$tmp/rules-under-test.yml"
cp "$src/tests/data/metrics/stuck-alert-test.yml" "$tmp/"
(cd "$tmp" && promtool test rules stuck-alert-test.yml) >"$tmp/test-rules.out" 2>&1
rc=$?
ok $rc "the alert fires for a step running 31 minutes, not at 29, not for a done step (promtool test rules)"
[ "$rc" -eq 0 ] || sed 's/^/# /' "$tmp/test-rules.out"

tap_done
