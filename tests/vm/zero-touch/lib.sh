# SPDX-License-Identifier: MIT
# What the zero-touch proofs share (sourced by tests/vm/zero-touch.sh and board-arm64.sh, with
# $here the tests/vm directory, $src the tree and $work the work directory): TAP output, the
# work directory's cleanup, the host servers, the configuration a node gets, its secrets.
zt=$here/zero-touch

# ---- options -------------------------------------------------------------------------------
keep=0
work=
# zt_option ARG [VALUE]: the options every proof takes; sets zt_used to the words it took.
zt_option() {
        case "$1" in
        --keep) keep=1; zt_used=1 ;;
        --verbose) export VM_VERBOSE=1; zt_used=1 ;;
        --workdir) work=$2; zt_used=2 ;;
        -h|--help) sed -n '3,/^set /p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "${0##*/}: unknown argument '$1'" >&2; exit 2 ;;
        esac
}

# ---- TAP ----------------------------------------------------------------------------------
. "$src/tests/tap.sh"
note() { diag "$@"; }
check() {  # check DESCRIPTION CHECK.PY-ARGS... : one TAP line, check.py's output as notes
        local desc=$1 out rc
        shift
        out=$(python3 "$zt/check.py" "$@" 2>&1)
        rc=$?
        ok "$rc" "$desc"
        [ -n "$out" ] && note "$out"
        return "$rc"
}
bail() {  # a failed check, then the end
        ok 1 "$1"
        echo "Bail out! $1"
        exit 1
}
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
timings=()
timed() { timings+=("$1: $2 s"); note "time: $1 $2 s"; }

# zt_workdir NAME: $work (kept with --keep, or when a check failed), the servers stopped at exit.
pids=()
zt_workdir() {
        [ -n "$work" ] || work=$(mktemp -d "/var/tmp/$1.XXXXXX")
        mkdir -p "$work"
        trap zt_cleanup EXIT
        trap 'exit 143' TERM INT
        note "work directory: $work"
}
zt_cleanup() {
        local p
        for p in "${pids[@]}"; do
                kill "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        if [ "$keep" = 1 ] || [ "$tap_failed" -ne 0 ]; then
                echo "# work directory kept: $work" >&2
        else
                rm -rf "$work"
        fi
}

# ---- host servers -------------------------------------------------------------------------
# zt_servers NODE…: on 127.0.0.1 (the guests' 10.0.2.2), clusterd with the leader node01
# (chainfire, flaredb), each NODE's own local services (chainfire, flaredb, IAM) and the report
# endpoint; provisiond; an HTTP server for $work/www. Sets $ctl, $pctl (control APIs),
# $p_cf_leader, $p_fd_leader, $p_report, $p_prov, $p_www, $iam_token, $iam_password; port
# SERVICE NODE prints a listener's port.
zt_servers() {
        local node listen=()
        for node in "$@"; do
                listen+=(--listen "chainfire:$node:127.0.0.1:0" --listen "flaredb:$node:127.0.0.1:0"
                         --listen "iam:$node:127.0.0.1:0")
        done
        "$src/tests/server/gen-certs.sh" "$work/certs" 10.0.2.2 >/dev/null 2>&1 || bail "gen-certs.sh failed"
        iam_token=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
        iam_password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
        python3 "$src/tests/server/clusterd.py" \
                --listen chainfire:node01:127.0.0.1:0 --listen flaredb:node01:127.0.0.1:0 \
                --listen report:collector:127.0.0.1:0 "${listen[@]}" \
                --member chainfire:node01:10.0.2.2:2380 --member flaredb:node01:10.0.2.2:2480 \
                --tls-dir "$work/certs" --iam-bootstrap-token "$iam_token" \
                --control 127.40.0.1:0 --ready-file "$work/clusterd.ready" -v >"$work/clusterd.log" 2>&1 &
        pids+=($!)
        vm_wait_file "$work/clusterd.ready" 20 || { note "$(tail "$work/clusterd.log")"; bail "clusterd did not start"; }
        python3 "$zt/check.py" ports "$work/clusterd.ready" >"$work/ports"
        ctl=http://$(awk '$1 == "control" { print $2 }' "$work/ports")
        p_cf_leader=$(port chainfire node01)
        p_fd_leader=$(port flaredb node01)
        p_report=$(port report collector)

        python3 "$src/tests/server/provisiond.py" --listen 127.0.0.1:0 --tls-dir "$work/certs" \
                --control 127.40.0.1:0 --ready-file "$work/provisiond.ready" -v >"$work/provisiond.log" 2>&1 &
        pids+=($!)
        vm_wait_file "$work/provisiond.ready" 20 || { note "$(tail "$work/provisiond.log")"; bail "provisiond did not start"; }
        p_prov=$(ready_value listen)
        p_prov=${p_prov##*:}
        pctl=http://$(ready_value control)

        mkdir -p "$work/www"
        p_www=$(vm_free_port)
        python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$p_www" >"$work/www.log" 2>&1 &
        pids+=($!)
}
port() { awk -v s="$1" -v n="$2" '$1 == s && $2 == n { print $3 }' "$work/ports"; }
ready_value() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/provisiond.ready" "$1"; }
pstate() { python3 -c 'import json, sys, urllib.request
d = json.load(urllib.request.urlopen(sys.argv[1] + "/control/state", timeout=10))
print(eval(sys.argv[2]))' "$1" "$2"; }
control_post() { python3 -c "import urllib.request,sys; urllib.request.urlopen(urllib.request.Request(sys.argv[1], data=sys.argv[2].encode(), headers={'Content-Type':'application/json'}), timeout=10).read()" "$ctl$1" "$2"; }
# zt_groups FILE: gives provisiond its groups (who each machine is).
zt_groups() {
        python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/control/groups", data=open(sys.argv[2], "rb").read()),
                       timeout=10).read()' "$pctl" "$1" || bail "cannot give provisiond its groups"
}
# zt_node_services CF FD IAM: the services part of a group's answer (a node's local services).
zt_node_services() {
        python3 -c 'import json, sys
host = "https://10.0.2.2"
cf, fd, iam = sys.argv[1:4]
print(json.dumps({"chainfire": {"health_url": "%s:%s/health" % (host, cf)},
                  "flaredb": {"health_url": "%s:%s/health" % (host, fd)},
                  "iam": {"health_url": "%s:%s/health" % (host, iam), "url": "%s:%s" % (host, iam)}}))' "$@"
}

# ---- what a node gets ---------------------------------------------------------------------
# The image's configuration: a template with the cluster's settings and where to look a node
# up, no node identity; the installer's copy adds the "flash" section.
write_config() {  # write_config OUT [FLASH_JSON]
        python3 - "$1" "${2:-}" <<EOF
import json, sys
host = "https://10.0.2.2"
cfg = {
    "cluster_name": "zero-touch",
    "leader_url": host + ":$p_cf_leader",
    "initial_peers": ["10.0.2.2:2380"], "flaredb_peers": ["10.0.2.2:2480"],
    "services": {
        "chainfire": {"enabled": True, "leader_url": host + ":$p_cf_leader"},
        "flaredb": {"enabled": True, "leader_url": host + ":$p_fd_leader"},
        "iam": {"enabled": True},
    },
    "tls": {"enabled": True, "ca_cert_path": "/etc/nixos/secrets/ca.crt"},
    "iam": {"secrets_file": "/etc/nixos/secrets/iam-admin.json"},
    "timeouts": {"health_wait_s": 180, "request_s": 20, "connect_s": 5},
    "report": {"url": host + ":$p_report/report", "timeout_s": 10},
    # The answers say where each node's services answer (host ports here, one set per guest),
    # which an answer may change only when the image allows it.
    "provisioning": {"url": host + ":$p_prov/v1/node", "retry_max_s": 2,
                     "allow": [".services.*.health_url", ".services.iam.url"]},
}
if sys.argv[2]:
    cfg["flash"] = json.loads(sys.argv[2])
with open(sys.argv[1], "w") as f:
    json.dump(cfg, f, indent=2)
EOF
        chmod 600 "$1"
}

secrets_tree() {  # secrets_tree ROOT CONFIG — /etc/nixos/secrets as the agent expects it
        install -d -m 700 "$1/etc/nixos/secrets"
        install -m 600 "$2" "$1/etc/nixos/secrets/cluster-config.json"
        install -m 644 "$work/certs/ca.crt" "$1/etc/nixos/secrets/ca.crt"
        printf '{"username": "admin", "password": "%s", "bootstrap_token": "%s"}\n' \
                "$iam_password" "$iam_token" >"$1/etc/nixos/secrets/iam-admin.json"
        chmod 600 "$1/etc/nixos/secrets/iam-admin.json"
}

# zt_probe_overlay DIR: the test probe units (not part of the product) in an image overlay.
zt_probe_overlay() {
        local p
        for p in zt-probe zt-probe-waiting; do
                install -D -m 755 "$zt/$p.sh" "$1/usr/local/libexec/$p"
                install -D -m 644 "$zt/$p.service" "$1/etc/systemd/system/$p.service"
        done
}
console() {  # console LOG PREFIX: the value the probe printed
        python3 "$zt/check.py" console-value "$1" "zt-probe: $2"
}

# ---- what a first boot and a reboot must show ------------------------------------------------
# zt_joined_checks LOG MAC: after a first boot of node04 (10.0.2.15), from the console LOG and
# the servers: looked up by MAC, joined once to each cluster, IAM admin, report, status, host name.
zt_joined_checks() {
        local log=$1 mac=$2
        check "after boot 2: the provisioning server answered node04 for its MAC" prov-lookups "$pctl" "$mac" 200 1
        check "after boot 2: the leader's chainfire member list holds node04 exactly once" members "$ctl" chainfire node04 10.0.2.15:2380
        check "after boot 2: the leader's flaredb member list holds node04 exactly once" members "$ctl" flaredb node04 10.0.2.15:2480
        check "after boot 2: the IAM admin exists" iam-user "$ctl" admin
        check "after boot 2: the report says every step succeeded" firstboot-report "$ctl" node04
        check "after boot 2: status --json in the guest shows every step done" status-json "$log"
        [ "$(console "$log" transient-hostname) $(console "$log" static-hostname)" = "node04 node04" ]
        ok $? "after boot 2: the host name is node04, transient and static (the image said fba-node)"
        [ "$(console "$log" hostname-marker)" = "hostname=node04 method=hostnamed" ]
        ok $? "after boot 2: set through systemd-hostnamed ($(console "$log" hostname-marker))"
        [ "$(console "$log" node-config)" = "600 root" ]
        ok $? "after boot 2: the node's configuration is stored 0600 in the state directory"
}

# zt_reset_logs: the servers forget the requests so far (before a boot that must ask nothing).
zt_reset_logs() {
        control_post /control/reset-log '{}'
        python3 -c 'import sys, urllib.request
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/control/reset-log", data=b"{}"), timeout=10).read()' "$pctl"
}

# zt_done_checks LOG RC: a boot after the first one (zt_reset_logs before it): the agent found
# its done marker and left at once, asking nothing of anyone.
zt_done_checks() {
        local unit
        grep -a 'zt-probe: unit' "$1" | cut -c1-300 | sed 's/^/# boot3: /'
        ok "$2" "boot 3: the node booted again (guest exit $2)"
        unit=$(grep -a 'zt-probe: unit' "$1")
        grep -q 'ActiveState=active' <<<"$unit" && grep -q 'Result=success' <<<"$unit" && grep -q 'ExecMainStatus=0' <<<"$unit"
        ok $? "boot 3: first-boot-agent.service found its done marker holding and exited 0 at once"
        check "boot 3: no request reached the leader (nor any cluster service)" requests "$ctl" all
        [ "$(pstate "$pctl" 'len(d["requests"])')" = 0 ]
        ok $? "boot 3: the provisioning server was not asked again"
}
