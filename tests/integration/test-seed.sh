#!/bin/bash
# SPDX-License-Identifier: MIT
# The older automation's own setup, unchanged: its sample cluster-config.json files verbatim (no
# tls section, an https:// leader by name, node_role and cluster_name left out in the examples),
# its certificate layout (/etc/nixos/secrets/ca.crt and NODE.crt/.key, each certificate naming
# only the node's FQDN and IP address), its addresses (10.0.1.10–13) and ports (2379, 2479, 8080),
# names resolved through /etc/hosts, mTLS required by every server. node01 bootstraps with the
# README's format sample and creates the IAM admin; node04 joins with the README's join example
# at the default path with no option at all, its flaredb turning healthy only once it is a
# chainfire member. TAP.
#
# It runs itself in network and mount namespaces of its own: the seed's addresses live on that
# namespace's loopback device, /etc and /var/lib are overlays, so nothing of this machine changes.

. "$(dirname "$0")/lib.sh"

if [ -z "${FBA_SEED_INNER:-}" ]; then
        [ "$(id -u)" -eq 0 ] || skip_all "needs root (network and mount namespaces)"
        command -v unshare >/dev/null || skip_all "unshare not installed (util-linux)"
        command -v ip >/dev/null || skip_all "ip not installed (iproute2; tests/setup-deps.sh suite installs it)"
        unshare --net --mount --propagation private true 2>/dev/null ||
                skip_all "the kernel refuses a network and mount namespace here (unshare --net --mount failed)"
        FBA_SEED_INNER=1 exec unshare --net --mount --propagation private "$0" "$@"
fi

lib_init 127.0.0 "the seed's configs, certificates, addresses and paths, unchanged"
ip link set lo up || bail "cannot bring up the namespace's loopback device"
for a in 10.0.1.10 10.0.1.11 10.0.1.12 10.0.1.13 10.0.2.10; do
        ip addr add "$a/32" dev lo || bail "cannot add $a"
done
for d in etc var/lib; do
        mkdir -p "$tmp/overlay/$d/upper" "$tmp/overlay/$d/work"
        mount -t overlay overlay -o "lowerdir=/$d,upperdir=$tmp/overlay/$d/upper,workdir=$tmp/overlay/$d/work" "/$d" ||
                bail "cannot mount an overlay on /$d"
done
mkdir -p /etc/nixos/secrets
chmod 700 /etc/nixos/secrets
rm -rf /var/lib/first-boot-automation
{
        echo "127.0.0.1 localhost"
        for i in 1 2 3 4; do echo "10.0.1.$((9 + i)) node0$i.prod.example.com node0$i"; done
        echo "10.0.2.10 aio01.dev.example.com aio01"
} >/etc/hosts

# The seed's certificates: one per node, made as its generate-node-cert.sh made them.
for i in 1 2 3 4; do
        "$src/tests/server/gen-node-cert.sh" /etc/nixos/secrets "node0$i.prod.example.com" "10.0.1.$((9 + i))" ||
                bail "gen-node-cert.sh failed"
done
"$src/tests/server/gen-node-cert.sh" /etc/nixos/secrets aio01.dev.example.com 10.0.2.10 || bail "gen-node-cert.sh failed"
openssl x509 -in /etc/nixos/secrets/node04.crt -noout -ext subjectAltName >"$tmp/san" 2>&1
like "$tmp/san" "DNS:node04.prod.example.com, IP Address:10.0.1.13" "node04's certificate names the FQDN and the IP"
unlike "$tmp/san" "localhost|127\." "and nothing local"

# The cluster: node01..node03 members of chainfire and flaredb, each presenting its own
# certificate, client certificates required; node04's own services on its address.
args=()
for i in 1 2 3 4; do
        a=10.0.1.$((9 + i))
        args+=(--listen "chainfire:node0$i:$a:2379" --listen "flaredb:node0$i:$a:2479" --listen "iam:node0$i:$a:8080"
               --node-cert "node0$i:/etc/nixos/secrets/node0$i.crt:/etc/nixos/secrets/node0$i.key")
done
for i in 1 2 3; do
        args+=(--member "chainfire:node0$i:10.0.1.$((9 + i)):2380" --member "flaredb:node0$i:10.0.1.$((9 + i)):2480")
done
python3 "$server" "${args[@]}" --any-address --tls-dir "$tmp/certs" --client-ca /etc/nixos/secrets/ca.crt \
        --healthy-when-member flaredb:node04:chainfire \
        --control 127.0.0.1:29000 --ready-file "$tmp/clusterd.ready" 2>"$tmp/clusterd.log" &
pids+=($!)
for ((i = 0; i < 200; i++)); do [ -e "$tmp/clusterd.ready" ] && break; sleep 0.05; done
[ -e "$tmp/clusterd.ready" ] || { sed 's/^/# /' "$tmp/clusterd.log"; bail "clusterd did not become ready"; }
CTL=127.0.0.1:29000
# The all-in-one example's own single-node cluster.
python3 "$server" --listen chainfire:aio01:10.0.2.10:2379 --listen flaredb:aio01:10.0.2.10:2479 \
        --listen iam:aio01:10.0.2.10:8080 --member chainfire:aio01:10.0.2.10:2380 --member flaredb:aio01:10.0.2.10:2480 \
        --node-cert aio01:/etc/nixos/secrets/aio01.crt:/etc/nixos/secrets/aio01.key --iam-user admin:aio-pw-0001 \
        --any-address --tls-dir "$tmp/certs" --client-ca /etc/nixos/secrets/ca.crt \
        --control 127.0.0.1:29001 --ready-file "$tmp/aio.ready" 2>"$tmp/aio.log" &
pids+=($!)
for ((i = 0; i < 200; i++)); do [ -e "$tmp/aio.ready" ] && break; sleep 0.05; done
[ -e "$tmp/aio.ready" ] || { sed 's/^/# /' "$tmp/aio.log"; bail "the all-in-one clusterd did not become ready"; }

agent() {       # agent ARGS…: the agent as the unit runs it (plus ARGS); OUT, ERR, rc
        fba_runs=$((fba_runs + 1))
        OUT="$tmp/agent.$fba_runs.stdout"
        ERR="$tmp/agent.$fba_runs.stderr"
        timeout -s KILL 120 "$FBA_BIN" --log-target json "$@" >"$OUT" 2>"$ERR"
        rc=$?
        cat "$OUT" "$ERR" >>"$tmp/all-output"
}

# --- every sample of the seed validates ------------------------------------------------------------
for f in seed-format seed-example-bootstrap seed-example-join seed-example-all-in-one; do
        install -m 0600 "$src/tests/data/configs/good/$f.json" "$tmp/$f.json"
        agent validate "$tmp/$f.json"
        is "$rc" 0 "validate $f: exit 0"
done
agent validate "$tmp/seed-example-join.json"
like "$OUT" "TLS on \(implied by an https:// leader URL\); CA /etc/nixos/secrets/ca.crt \(found in tls.secrets_dir\); client certificate /etc/nixos/secrets/node04.crt with key /etc/nixos/secrets/node04.key \(found in tls.secrets_dir\)" \
        "the join example: TLS from the leader's scheme, the seed's CA and node04's certificate"
agent validate "$tmp/seed-example-bootstrap.json"
like "$OUT" "TLS on \(found in tls.secrets_dir\)" "the bootstrap example (no leader URL): TLS because the seed's CA is there"

# --- node01 bootstraps with the README's format sample, creating the IAM admin ----------------------
( umask 077; printf '{"username": "admin", "password": "seed-admin-pw-0001"}\n' >/etc/nixos/secrets/iam-admin.json )
agent --config "$tmp/seed-format.json" --state-dir "$tmp/node01-state" run
is "$rc" 0 "node01 (the README's format sample) bootstraps: exit 0"
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$ERR" | tail -n 15; }
has_mid "$ERR" IAM_ADMIN_CREATED; ok $? "node01 created the IAM admin"
ctl /control/state >"$tmp/state.json" || bail "control API"
is "$(jpy "$tmp/state.json" "len([r for r in d['requests'] if r['node'] == 'node01' and not r['client_cert']])")" 0 \
        "every request to node01 came with node01's client certificate"

# node01 again, with the bootstrap example (no leader URL, no tls section: TLS because the CA is
# in the secrets directory); the admin exists by now, a token is issued with the secrets.
agent --config "$tmp/seed-example-bootstrap.json" --state-dir "$tmp/node01-example-state" run
is "$rc" 0 "node01 (the bootstrap example) runs: exit 0"
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$ERR" | tail -n 15; }
has_mid "$ERR" IAM_TOKEN_ISSUED; ok $? "node01 (with the secrets) had a token issued"
rm -f /etc/nixos/secrets/iam-admin.json

# aio01, the all-in-one example, forms its single-node clusters.
agent --config "$tmp/seed-example-all-in-one.json" --state-dir "$tmp/aio01-state" run
is "$rc" 0 "aio01 (the all-in-one example) runs: exit 0"
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$ERR" | tail -n 15; }
[ -e "$tmp/aio01-state/.chainfire-initialized" ] && [ -e "$tmp/aio01-state/.flaredb-initialized" ]
ok $? "aio01 wrote the bootstrap markers"

# --- node04 joins with the README's join example, at the default path, no option ---------------------
install -m 0600 "$tmp/seed-example-join.json" /etc/nixos/secrets/cluster-config.json
agent run
is "$rc" 0 "node04 (the README's join example, every default) joins: exit 0"
[ "$rc" -eq 0 ] || { sed 's/^/#   /' "$ERR" | tail -n 20; }
ctl /control/state >"$tmp/state.json" || bail "control API"
is "$(jpy "$tmp/state.json" "[m['raft_addr'] for m in d['members']['chainfire'] if m['id'] == 'node04']")" '["10.0.1.13:2380"]' \
        "node04 is a chainfire member with its raft address"
is "$(jpy "$tmp/state.json" "[m['raft_addr'] for m in d['members']['flaredb'] if m['id'] == 'node04']")" '["10.0.1.13:2480"]' \
        "and a flaredb member with the flaredb raft port"
is "$(jpy "$tmp/state.json" "[r['node'] for r in d['requests'] if r['path'] == '/admin/member/add']")" '["node01", "node01"]' \
        "both adds went to the leader, by its name"
is "$(jpy "$tmp/state.json" "sorted(set(r['node'] for r in d['requests'] if r['path'] == '/health' and r['service'] != 'report'))")" \
        '["node01", "node04"]' "health checked on node04's own services (and node01's, by node01 before)"
is "$(jpy "$tmp/state.json" "len([r for r in d['requests'] if r['node'] == 'node04' and r['path'] == '/health' and r['service'] == 'flaredb' and r['status'] == 503])")" \
        "0" "flaredb's health was asked only after the chainfire join (it answers 503 before)"
is "$(jpy "$tmp/state.json" "len([r for r in d['requests'] if not r['client_cert']])")" 0 \
        "every request carried a client certificate"
like "$ERR" "already exists|admin 'admin' exists" "IAM: the admin exists, found without a secrets file"
for m in .chainfire-joined .flaredb-joined .iam-initialized .health-reported .first-boot-done; do
        [ -e "/var/lib/first-boot-automation/$m" ]
        ok $? "marker $m in the seed's state directory"
done
agent status
is "$rc" 0 "status: every step done"
like "$OUT" "^chainfire-health +done" "status shows the per-service health steps"
agent status --json
is "$(jpy "$OUT" "d['steps']['iam-setup']['detail']")" "admin 'admin' present; no secrets file here, no token issued" \
        "status --json says why IAM needed no secrets"

tap_done
