#!/bin/bash
# shellcheck disable=SC2034,SC2016  # settings the document's blocks read; sh -c scripts
# SPDX-License-Identifier: MIT
# docs/deploying.md, run: the commands of its blocks marked "<!-- run: NAME -->" are read from
# the document and run here, in order, with the test's settings instead of the document's
# (every name the document's settings block assigns must be assigned here). On loopback,
# address block 127.75.0.0/24:
#
#   .1 .2 .3  the existing cluster (tests/server/clusterd.py: chainfire, flaredb, IAM on their
#             default ports), with certificates issued by the document's recipe;
#   .4        node04's local services;
#   .100      the provisioning host: Debian's nginx with the document's site (the answers as
#             static files in the path form, over HTTPS; the reports into a log file).
#
# The node is the agent with the document's template as the image's configuration, at the
# default path (/etc/nixos/secrets from the gold tree, through an overlay over /etc in a mount
# namespace of its own), a machine with two NICs (a sysfs tree), and a state directory: it
# looks itself up at nginx by MAC, joins chainfire and flaredb, finds the IAM admin and
# reports; the document's report reader shows its firstboot-done. A second machine, whose
# answer file also changes the leader, is refused. TAP output. Root, nginx.
src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$src/tests/integration/identity/lib.sh"
doc="$src/docs/deploying.md"

[ "$(id -u)" -eq 0 ] || skip_all "needs root (a mount namespace for the node, nginx's workers as www-data)"
command -v nginx >/dev/null || command -v /usr/sbin/nginx >/dev/null ||
        skip_all "nginx not installed (Debian's nginx; tests/setup-deps.sh suite installs it)"
command -v unshare >/dev/null || skip_all "unshare not installed (util-linux)"
id www-data >/dev/null 2>&1 || skip_all "no www-data user (Debian's nginx runs its workers as www-data)"
nginx=$(command -v nginx || echo /usr/sbin/nginx)

# The cluster on the services' default ports, as the document's template expects them.
CF=2379 CF_RAFT=2380 FDB=2479 FDB_RAFT=2480 IAM_PORT=8080
id_init 127.75.0 "docs/deploying.md: the walkthrough's commands, a node looks itself up at nginx, joins and reports"
chmod 711 "$tmp"        # www-data reaches $FLEET/www below it, and nothing else
# The node's /etc is an overlay (the image's over this machine's): the kernel must offer it.
mkdir -p "$tmp/probe/lower" "$tmp/probe/upper" "$tmp/probe/work" "$tmp/probe/merged"
unshare --mount --propagation private mount -t overlay overlay \
        -o "lowerdir=$tmp/probe/lower,upperdir=$tmp/probe/upper,workdir=$tmp/probe/work" "$tmp/probe/merged" \
        2>/dev/null || skip_all "no overlay file system here (mount -t overlay failed): the node's /etc is one"
rm -rf "$tmp/probe"

# --- the document's blocks ---------------------------------------------------------------------
python3 - "$doc" "$tmp/blocks" <<'EOF' || bail "cannot read the blocks of $doc"
import os, re, sys
text = open(sys.argv[1]).read()
out = sys.argv[2]
os.makedirs(out)
names = []
for m in re.finditer(r"^<!-- run: ([a-z0-9-]+) -->\n```sh\n(.*?)^```$", text, re.M | re.S):
    names.append(m.group(1))
    open(os.path.join(out, m.group(1) + ".sh"), "w").write(m.group(2))
open(os.path.join(out, "order"), "w").write("\n".join(names) + "\n")
for m in re.finditer(r"^<!-- validate: ([a-z0-9-]+) -->\n```json\n(.*?)^```$", text, re.M | re.S):
    with open(os.open(os.path.join(out, m.group(1) + ".json"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(m.group(2))
m = re.search(r"^## 1\. Settings\n.*?```sh\n(.*?)^```$", text, re.M | re.S)
open(os.path.join(out, "settings"), "w").write(m.group(1) if m else "")
EOF
mapfile -t blocks <"$tmp/blocks/order"
is "${blocks[*]}" "certificates template publish nginx-site reports" \
        "the document marks its runnable blocks, in order (certificates, template, publish, nginx-site, reports)"

# The test's settings for every name the document's settings block assigns.
FLEET=$tmp/fleet
CLUSTER=fleet-test
DOMAIN=fleet.test
LEADER=$B.1
PEER_IPS="$B.1 $B.2 $B.3"
PROV_NAME=prov.fleet.test
PROV_IP=$B.100
PROV_PORT=28443
NGINX_SITE=$tmp/nginx/sites-enabled/fleet
REPORT_LOG=$tmp/nginx/fleet-reports.log
GOLD=$tmp/gold
mapfile -t names < <(sed -n 's/^\([A-Z_][A-Z0-9_]*\)=.*/\1/p' "$tmp/blocks/settings")
unset_names=()
for n in "${names[@]}"; do [ -n "${!n+x}" ] || unset_names+=("$n"); done
[ ${#names[@]} -ge 5 ] && [ ${#unset_names[@]} -eq 0 ]
ok $? "the test sets every name of the document's settings (${names[*]})" || diag "not set here: ${unset_names[*]}"
mkdir -p "$tmp/nginx/sites-enabled" "$GOLD/etc"

# run_block NAME: the block's commands in this shell (its functions stay defined); its output
# goes to $tmp/block-NAME.log.
run_block() {
        local rc
        [ -f "$tmp/blocks/$1.sh" ] || { tap_result 1 "block '$1' exists in the document"; return 1; }
        # shellcheck disable=SC1090  # the document's block
        . "$tmp/blocks/$1.sh" >"$tmp/block-$1.log" 2>&1
        rc=$?
        ok $rc "the document's '$1' block runs (exit $rc)"
        [ $rc -eq 0 ] || sed 's/^/#   /' "$tmp/block-$1.log"
        return $rc
}

# --- 5. the installer's configuration ------------------------------------------------------------
"$FBA_BIN" validate "$tmp/blocks/installer.json" >"$tmp/validate-installer.out" 2>&1
rc=$?
is "$rc" 0 "the installer's configuration in the document is valid"
[ "$rc" -eq 0 ] || sed 's/^/#   /' "$tmp/validate-installer.out"
like "$tmp/validate-installer.out" "flash: 1 image" "and it flashes one image"

# --- 2. certificates ---------------------------------------------------------------------------
run_block certificates || bail "no certificates"
openssl verify -CAfile "$FLEET/ca/ca.crt" "$FLEET/ca/provisioning.crt" >/dev/null 2>&1
ok $? "the provisioning host's certificate verifies against the fleet CA"
is "$(stat -c %a "$FLEET/ca/ca.key") $(stat -c %a "$FLEET/ca/provisioning.key")" "600 600" "the keys are 0600"
# The cluster stand-in's certificate, made with the document's issue(): the nodes' FQDNs and
# addresses, as each service's own certificate would carry them.
sans="DNS:localhost,IP:127.0.0.1"
for i in 1 2 3 4; do sans+=",DNS:node0$i.$DOMAIN,IP:$B.$i"; done
issue cluster "$sans" >"$tmp/issue-cluster.log" 2>&1 || bail "issue cluster: $(cat "$tmp/issue-cluster.log")"
cp "$FLEET/ca/cluster.crt" "$tmp/certs/server.crt"
cp "$FLEET/ca/cluster.key" "$tmp/certs/server.key"
cp "$FLEET/ca/ca.crt" "$tmp/certs/ca.crt"

# --- 4. the template in the gold tree ----------------------------------------------------------
run_block template
cfg="$GOLD/etc/nixos/secrets/cluster-config.json"
is "$(stat -c %a "$GOLD/etc/nixos/secrets") $(stat -c %a "$cfg")" "700 600" \
        "the image's /etc/nixos/secrets is 0700 and the template 0600"

# --- 6. the answers and nginx ------------------------------------------------------------------
run_block publish
publish 52:54:00:75:b0:04 node04 "$B.4"
answer_file="$FLEET/www/nodes/52-54-00-75-b0-04.json"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(d["node_id"] != "node04")' "$answer_file"
ok $? "publish wrote node04's answer as nodes/52-54-00-75-b0-04.json (valid JSON)"
run_block nginx-site

# Debian's /etc/nginx/nginx.conf, reduced to what the site needs: workers as www-data, the
# site included inside http {}, and every file nginx writes in the test's directory.
mkdir -p "$tmp/nginx/temp"
cat >"$tmp/nginx/nginx.conf" <<EOF
user www-data;
worker_processes 1;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 64; }
http {
        include /etc/nginx/mime.types;
        access_log $tmp/nginx/access.log;
        client_body_temp_path $tmp/nginx/temp/body;
        proxy_temp_path $tmp/nginx/temp/proxy;
        fastcgi_temp_path $tmp/nginx/temp/fastcgi;
        uwsgi_temp_path $tmp/nginx/temp/uwsgi;
        scgi_temp_path $tmp/nginx/temp/scgi;
        include $tmp/nginx/sites-enabled/*;
}
EOF
"$nginx" -t -q -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" >"$tmp/nginx-t.log" 2>&1
ok $? "nginx -t accepts the document's site" || sed 's/^/#   /' "$tmp/nginx-t.log" "$tmp/nginx/error.log"
"$nginx" -e "$tmp/nginx/error.log" -c "$tmp/nginx/nginx.conf" -p "$tmp/nginx" -g 'daemon off;' \
        >"$tmp/nginx.out" 2>&1 &
pids+=($!)
for ((i = 0; i < 200; i++)); do
        curl -s -o /dev/null --cacert "$FLEET/ca/ca.crt" --resolve "$PROV_NAME:$PROV_PORT:$PROV_IP" \
                "https://$PROV_NAME:$PROV_PORT/" && break
        sleep 0.05
done
code=$(curl -s -o "$tmp/answer.json" -w '%{http_code}' --cacert "$FLEET/ca/ca.crt" \
        --resolve "$PROV_NAME:$PROV_PORT:$PROV_IP" "https://$PROV_NAME:$PROV_PORT/nodes/52-54-00-75-b0-04.json")
is "$code" 200 "nginx serves the answer over HTTPS, its certificate verified against the fleet CA"
cmp -s "$tmp/answer.json" "$answer_file"
ok $? "the answer served is the file published"
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$FLEET/ca/ca.crt" \
        --resolve "$PROV_NAME:$PROV_PORT:$PROV_IP" "https://$PROV_NAME:$PROV_PORT/nodes/52-54-00-75-ff-ff.json")
is "$code" 404 "a MAC without a file: 404 (an unknown machine)"

# --- the node ----------------------------------------------------------------------------------
cluster_start
# The IAM admin, as the node holding the IAM secrets made it when the cluster was bootstrapped.
curl -sS -o /dev/null --fail --cacert "$CA" -H 'Content-Type: application/json' \
        -d '{"name": "admin", "password": "made-by-the-bootstrap-node", "roles": ["admin"]}' \
        "https://$B.1:$IAM_PORT/admin/users"
ok $? "the cluster's IAM admin exists (made as the bootstrap node would)"

# gold_machine NAME MACHINE-ARGS…: a machine booted from the gold image (its /etc over this one's).
gold_machine() {
        machine "$@"
        mkdir -p "$tmp/$1/etc-upper" "$tmp/$1/etc-work"
        { cat /etc/hosts; echo "$PROV_IP $PROV_NAME"; } >"$tmp/$1/etc-upper/hosts"
}
gold_machine node04 --nic eno1:52:54:00:75:a0:04 --nic eno2:52:54:00:75:b0:04 --uuid 7c1e0a52-75b0-4d04-9a1e-0000000075b4
# node NAME ARGS…: the agent as on that machine: the image's /etc/nixos over this machine's /etc,
# the default configuration path, its own UTS namespace for the host name it sets, no system bus.
node() {
        local name=$1
        shift
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/$name/out.$fba_runs.stdout"
        ERR="$tmp/$name/out.$fba_runs.stderr"
        FIRST_BOOT_AGENT_SYSFS_DIR="$tmp/$name/sys" DBUS_SYSTEM_BUS_ADDRESS="unix:path=$tmp/no-bus" \
        timeout -s KILL 120 unshare --uts --mount --propagation private sh -c '
                mount -t overlay overlay -o "lowerdir=$1:/etc,upperdir=$2,workdir=$3" /etc || exit 99
                shift 3
                exec "$@"' sh "$GOLD/etc" "$tmp/$name/etc-upper" "$tmp/$name/etc-work" \
                "$FBA_BIN" --state-dir "$tmp/$name/state" --log-target json "$@" >"$OUT" 2>"$ERR"
        local rc=$?
        cat "$OUT" "$ERR" >>"$tmp/all-output"
        return $rc
}
node node04 validate
rc=$?
is "$rc" 0 "first-boot-agent validate, on the node, accepts the image's template at the default path"
[ "$rc" -eq 0 ] || show_output
node node04 run
rc=$?
is "$rc" 0 "the node's first boot: run exits 0"
[ "$rc" -eq 0 ] || show_output
grep -q '"GET /nodes/52-54-00-75-b0-04.json HTTP/1.1" 200' "$tmp/nginx/access.log"
ok $? "the node asked nginx for its file by MAC (200)"
grep -q "^matched=mac 52:54:00:75:b0:04$" "$tmp/node04/state/.identity-fetched"
ok $? ".identity-fetched records the MAC that matched"
python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(not (d["node_id"] == "node04" and d["cluster_name"] == "fleet-test"))' \
        "$tmp/node04/state/cluster-config.json" 2>/dev/null
ok $? "the node stored the template merged with its answer (node04 of fleet-test)"
is "$(count_member chainfire node04)" 1 "chainfire lists node04"
is "$(count_member flaredb node04)" 1 "flaredb lists node04"
is "$(requests_where "r.get('method') == 'POST' and r.get('path') == '/admin/users'")" 1 \
        "the node did not create the IAM admin again (it found it)"

# --- 7. the reports ----------------------------------------------------------------------------
run_block reports
like "$tmp/block-reports.log" "^node04 +firstboot-done " "the document's report reader shows node04's firstboot-done"
python3 - "$REPORT_LOG" >"$tmp/report-check.out" 2>&1 <<'EOF'
import json, sys
events = []
for line in open(sys.argv[1]):
    r = json.loads(line)
    b = json.loads(r["body"])
    events.append((b.get("node_id"), b.get("event")))
print(" ".join("%s:%s" % e for e in events))
assert events.count(("node04", "firstboot-done")) == 1, "one firstboot-done from node04"
assert ("node04", "firstboot-progress") in events, "progress reports from node04"
EOF
ok $? "every line of the report log holds a report as JSON: node04's progress and one firstboot-done" ||
        sed 's/^/#   /' "$tmp/report-check.out"
unlike "$tmp/nginx/error.log" "\[(error|crit|alert|emerg)\]" "nginx logged no error"

asked=$(grep -c 'GET /nodes/' "$tmp/nginx/access.log")
node node04 run
is "$?" 0 "the second start: every step done, exit 0"
is "$(grep -c 'GET /nodes/' "$tmp/nginx/access.log")" "$asked" "the second start did not ask for the answer again"

# --- 6. what an answer may set -------------------------------------------------------------------
# The document's publish() writes only what an answer may change by default; an answer file
# that also changes the leader (someone who can write the web server's files, say) is refused:
# exit 5, the member named, nothing stored, no join.
publish 52:54:00:75:b0:05 node05 "$B.5"
python3 - "$FLEET/www/nodes/52-54-00-75-b0-05.json" "https://$B.99:$CF" <<'EOF'
import json, sys
answer = json.load(open(sys.argv[1]))
answer["leader_url"] = sys.argv[2]
open(sys.argv[1], "w").write(json.dumps(answer))
EOF
gold_machine node05 --nic eno1:52:54:00:75:b0:05
node node05 run
is "$?" 5 "an answer that also changes leader_url: the node refuses it (exit 5)"
grep -q '\.leader_url' "$ERR"
ok $? "naming .leader_url as what the answer may not change" || sed 's/^/#   /' "$ERR"
[ ! -e "$tmp/node05/state/cluster-config.json" ] && [ ! -e "$tmp/node05/state/.identity-fetched" ]
ok $? "and storing nothing"
is "$(count_member chainfire node05)" 0 "chainfire does not list node05"

tap_done
