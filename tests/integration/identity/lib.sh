# SPDX-License-Identifier: MIT
# Shared helpers of the identity scenarios (sourced): the agent on a template configuration
# looks its machine up at tests/server/provisiond.py, then joins tests/server/clusterd.py, all
# over HTTPS on the scenario's 127.44.N.0/24 block (clusterd as in ../lib.sh; provisiond on
# .100, port 28443, control API 29443).
#
# The machine is a sysfs tree of the test's making (FIRST_BOOT_AGENT_SYSFS_DIR): its NICs
# (with a device, as physical ones have) and its SMBIOS record. The agent runs in a UTS and
# mount namespace of its own, with an overlay over /etc and no system bus, so the host name
# it sets and the files it writes under /etc stay in the test.

. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

provd="$src/tests/server/provisiond.py"
PROV_PORT=28443 PROV_CTL_PORT=29443

# id_init BLOCK DESCRIPTION
id_init() {
        lib_init "$@"
        command -v unshare >/dev/null || skip_all "unshare not installed"
        [ "$(id -u)" -eq 0 ] || skip_all "needs root (a UTS and mount namespace for the host name)"
        unshare --uts --mount --propagation private true 2>/dev/null ||
                skip_all "the kernel refuses a UTS and mount namespace here (unshare --uts --mount failed)"
        PROV="https://$B.100:$PROV_PORT"
        PCTL="$B.100:$PROV_CTL_PORT"
}

# prov_start [PROVISIOND ARGS…]: HTTPS with the scenario's certificates unless --tls-dir is given.
prov_start() {
        local i args=(--listen "$B.100:$PROV_PORT" --control "$PCTL" --ready-file "$tmp/provisiond.ready")
        case " $* " in *" --tls-dir "*|*" --plain "*) ;; *) args+=(--tls-dir "$tmp/certs") ;; esac
        local extra=()
        for i in "$@"; do [ "$i" = --plain ] || extra+=("$i"); done
        python3 "$provd" "${args[@]}" "${extra[@]}" 2>"$tmp/provisiond.log" &
        pids+=($!)
        for ((i = 0; i < 200; i++)); do
                [ -e "$tmp/provisiond.ready" ] && return 0
                sleep 0.05
        done
        sed 's/^/# /' "$tmp/provisiond.log"
        bail "provisiond did not become ready"
}

# pctl PATH [JSON]: the provisioning server's control API; fails unless 2xx.
pctl() {
        local code
        if [ $# -ge 2 ]; then
                code=$(curl -sS --max-time 10 -o "$tmp/pctl.out" -w '%{http_code}' -d "$2" "http://$PCTL$1")
        else
                code=$(curl -sS --max-time 10 -o "$tmp/pctl.out" -w '%{http_code}' "http://$PCTL$1")
        fi
        cat "$tmp/pctl.out"
        case $code in 2??) return 0 ;; *) return 1 ;; esac
}

# pstate EXPR: EXPR over the provisioning server's state (d).
pstate() {
        pctl /control/state >"$tmp/pstate.json" || bail "provisiond's control API does not answer"
        jpy "$tmp/pstate.json" "$1"
}

# machine NAME [--nic IFNAME:MAC]… [--uuid U] [--serial S] [--vendor V]: a sysfs tree at
# $tmp/NAME/sys with those NICs (physical: a device link, type 1), a bridge and the loopback
# (which must not count), and the SMBIOS record.
machine() {
        local name=$1 sys="$tmp/$1/sys" ifname mac
        shift
        mkdir -p "$sys/class/net" "$sys/class/dmi/id" "$sys/devices/virtual/net/br0" "$tmp/$name/state"
        chmod 700 "$tmp/$name"
        # Not physical: the loopback and a bridge (no device link).
        mkdir -p "$sys/class/net/lo" "$sys/class/net/br0"
        echo 772 >"$sys/class/net/lo/type"; echo 00:00:00:00:00:00 >"$sys/class/net/lo/address"
        echo 1 >"$sys/class/net/br0/type"; echo 02:42:ac:11:00:01 >"$sys/class/net/br0/address"
        echo QEMU >"$sys/class/dmi/id/sys_vendor"
        echo "Test Machine" >"$sys/class/dmi/id/product_name"
        while [ $# -gt 0 ]; do
                case $1 in
                --nic)
                        ifname=${2%%:*} mac=${2#*:}
                        mkdir -p "$sys/class/net/$ifname" "$sys/devices/pci0000:00/$ifname"
                        ln -s "../../../devices/pci0000:00/$ifname" "$sys/class/net/$ifname/device"
                        ln -s "../../../bus/pci/drivers/e1000e" "$sys/devices/pci0000:00/$ifname/driver"
                        echo 1 >"$sys/class/net/$ifname/type"
                        echo "$mac" >"$sys/class/net/$ifname/address"
                        echo 2 >"$sys/class/net/$ifname/ifindex"
                        shift 2 ;;
                --uuid) echo "$2" >"$sys/class/dmi/id/product_uuid"; shift 2 ;;
                --serial) echo "$2" >"$sys/class/dmi/id/product_serial"; shift 2 ;;
                --vendor) echo "$2" >"$sys/class/dmi/id/sys_vendor"; shift 2 ;;
                *) bail "machine: unknown option $1" ;;
                esac
        done
}

# template NODE [URL]: $tmp/NODE/config.json, the image's template: the cluster's settings and
# a provisioning section (URL default: the query form on provisiond), no node identity. Every
# node of a scenario shares the loopback, each on its own address: the answer says where its
# local services answer, which the template allows (provisioning.allow).
template() {
        local node=$1 url=${2:-$PROV/v1/node}
        node_config "$node" false
        config_edit "$node" '
for k in ("node_id", "node_role", "bootstrap", "raft_addr", "node_ip"):
    del c[k]
for s in ("chainfire", "flaredb", "iam"):
    del c["services"][s]["health_url"]
c["provisioning"] = {"url": "'"$url"'", "wait_s": 0, "retry_max_s": 1, "allow": [".services.*.health_url"]}'
}

# answer NODE: the configuration the server gives nodeNN: its identity and its local services.
answer() {
        local node=$1 n=${1#node0}
        cat <<EOT
{"node_id": "$node", "node_role": "control-plane", "bootstrap": false,
 "raft_addr": "$B.$n:$CF_RAFT", "node_ip": "$B.$n", "node_fqdn": "$node.scenario.test",
 "services": {"chainfire": {"health_url": "https://$B.$n:$CF/health"},
              "flaredb": {"health_url": "https://$B.$n:$FDB/health"},
              "iam": {"health_url": "https://$B.$n:$IAM_PORT/health"}}}
EOT
}

# group NAME SELECTOR_JSON CONFIG_JSON
group() {
        pctl /control/groups "{\"name\": \"$1\", \"selector\": $2, \"config\": $3}" >/dev/null ||
                bail "cannot add group $1: $(cat "$tmp/pctl.out")"
}

# idn NODE ARGS…: the agent as node NODE's machine ($tmp/NODE/sys), in its own UTS and mount
# namespaces with an overlay over /etc ($tmp/NODE/etc-upper keeps what it wrote there) and
# no system bus. Afterwards $tmp/NODE/hostname holds the namespace's host name. Sets OUT and
# ERR; returns the agent's status.
idn_exec() {
        local node=$1
        shift
        mkdir -p "$tmp/$node/etc-upper" "$tmp/$node/etc-work"
        FIRST_BOOT_AGENT_SYSFS_DIR="$tmp/$node/sys" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-bus" \
        timeout -s KILL "${FBA_TIMEOUT:-120}" unshare --uts --mount --propagation private sh -c '
                mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc || exit 99
                hostname test-before
                shift 2
                "$@"
                rc=$?
                hostname >"$0"
                exit $rc' "$tmp/$node/hostname" "$tmp/$node/etc-upper" "$tmp/$node/etc-work" \
                "$FBA_BIN" --config "$tmp/$node/config.json" --state-dir "$tmp/$node/state" \
                --log-target json "$@" >"$OUT" 2>"$ERR"
}

idn() {
        local node=$1 rc
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/$node/out.$fba_runs.stdout"
        ERR="$tmp/$node/out.$fba_runs.stderr"
        idn_exec "$@"
        rc=$?
        cat "$OUT" "$ERR" >>"$tmp/all-output"
        return $rc
}

# idn_bg NODE ARGS…: the same in the background; FBA_PID is its pid (wait for it, then
# idn_collect).
idn_bg() {
        local node=$1
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/$node/out.$fba_runs.stdout"
        ERR="$tmp/$node/out.$fba_runs.stderr"
        idn_exec "$@" &
        FBA_PID=$!
}

idn_collect() {
        cat "$OUT" "$ERR" >>"$tmp/all-output"
}

n_case=0
# refused CASE_DESCRIPTION ERROR_REGEX: machine $node (from new_machine) runs; checks exit 5, the error
# and its record, and that nothing was written.
refused() {
        local what=$1 regex=$2 d
        d=$(state_dir "$node")
        idn "$node" run
        is "$?" 5 "$what: exit 5"
        like "$ERR" "$regex" "$what: the error says what was found"
        has_mid "$ERR" IDENTITY_REFUSED
        ok $? "$what: MID_IDENTITY_REFUSED logged"
        grep -q "Nothing was stored" "$ERR"
        ok $? "$what: the record says nothing was stored, and what to do"
        [ ! -e "$d/cluster-config.json" ] && [ ! -e "$d/.identity-fetched" ] && [ ! -e "$d/.node-identity" ] &&
                ! ls "$d" | grep -q '\.tmp\|XXXX'
        ok $? "$what: nothing written (no configuration, no marker, no temporary file)"
        [ "$(cat "$tmp/$node/hostname")" = test-before ]
        ok $? "$what: host name untouched"
}
new_machine() {  # new_machine: node$n_case with its own MAC and a template
        n_case=$((n_case + 1))
        node=$(printf 'm%02d' "$n_case")
        mac=$(printf '52:54:00:fb:aa:%02x' "$n_case")
        machine "$node" --nic "eno1:$mac"
        template "$node"
}

# answer_with NODE PYTHON: answer NODE edited by PYTHON (the dict is d), printed as JSON.
answer_with() {
        answer "$1" | python3 -c 'import json, sys
d = json.load(sys.stdin)
exec(sys.argv[1])
print(json.dumps(d))' "$2" || bail "answer_with $1 failed"
}
