# SPDX-License-Identifier: MIT
# The metrics tests' helpers (sourced after lib.sh or flash/lib.sh): the agent's textfile read by
# real parsers, promtool (Debian's prometheus) and Debian's prometheus-node-exporter.
#
#   metrics_tools_check                 # skip unless promtool and node_exporter are installed
#   node_exporter_start ADDR:PORT DIR   # the textfile collector alone, reading DIR
#   promtool_ok FILE DESCRIPTION        # "promtool check metrics" accepts FILE, without a lint remark
#   scrape FILE                         # node_exporter's /metrics into FILE, labels sorted
#   sorted IN OUT                       # IN with each series' labels sorted by name, as node_exporter does
#   value FILE 'name{labels}'           # the value of that exact series in a sorted FILE (labels in
#                                       # name order), nothing when absent
#   step_is FILE STEP SERVICE STATE DESC  # the step's one-hot state series says STATE alone

metrics_tools_check() {
        command -v promtool >/dev/null || skip_all "promtool not installed (Debian package prometheus)"
        command -v prometheus-node-exporter >/dev/null ||
                skip_all "prometheus-node-exporter not installed"
}

node_exporter_start() {
        local i
        NODE_EXPORTER=$1
        prometheus-node-exporter --web.listen-address="$1" --collector.disable-defaults --collector.textfile \
                --collector.textfile.directory="$2" >"$tmp/node-exporter.log" 2>&1 &
        pids+=($!)
        for ((i = 0; i < 200; i++)); do
                curl -sf -o /dev/null "http://$1/metrics" && return 0
                sleep 0.05
        done
        sed 's/^/# /' "$tmp/node-exporter.log"
        bail "prometheus-node-exporter did not answer on $1"
}

promtool_ok() {
        local out rc
        out=$(promtool check metrics <"$1" 2>&1)
        rc=$?
        [ "$rc" -eq 0 ] && [ -z "$out" ]
        tap_result $? "$2" || { diag "promtool (exit $rc): $out"; sed 's/^/#   /' "$1" | head -n 20; }
        return 0
}

scrape() {
        curl -sf --max-time 10 "http://$NODE_EXPORTER/metrics" >"$1.raw" || bail "node_exporter did not answer"
        sorted "$1.raw" "$1"
}

sorted() {
        python3 - "$1" >"$2" <<'EOF'
import re, sys
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$', line.rstrip("\n"))
    if line.startswith("#") or not m:
        sys.stdout.write(line)
        continue
    labels = re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(2))
    print("%s{%s} %s" % (m.group(1), ",".join('%s="%s"' % kv for kv in sorted(labels)), m.group(3)))
EOF
}

value() {
        # (through the environment: awk -v would take the backslashes of the label values as escapes)
        SERIES=$2 awk 'BEGIN { s = ENVIRON["SERIES"] } index($0, s " ") == 1 { print substr($0, length(s) + 2) }' "$1"
}

# step_is SORTED_FILE STEP SERVICE STATE DESCRIPTION: the one-hot state series of STEP says STATE
# (and only it).
step_is() {
        local st ones=""
        for st in pending running done failed skipped; do
                [ "$(value "$1" "first_boot_agent_step_state{service=\"$3\",state=\"$st\",step=\"$2\"}")" = 1 ] &&
                        ones="$ones$st "
        done
        is "$ones" "$4 " "$5"
}
