#!/bin/bash
# SPDX-License-Identifier: MIT
# TLS of the agent's requests, through "member list/add" against clusterd.py: a verified HTTPS
# answer; a server whose certificate comes from another CA is refused with a message naming
# the CA file; an mTLS server refuses a client without a certificate and accepts the configured
# one; missing TLS files are a configuration error; insecure_skip_verify works and is warned
# about (MID_TLS_INSECURE) on every use. TAP. Address block 127.8.10.0/24.

. "$(dirname "$0")/lib.sh"

lib_init 127.8.10 "TLS: verification, wrong CA, mTLS, insecure_skip_verify"

# Another run of this test (from another build directory) would use the same addresses: take
# turns.
exec 9>"${TMPDIR:-/tmp}/fba-test-block-$B.lock"
flock -w 150 9 || bail "another run holds the address block $B.0/24 for more than 150 s"

cluster_stop() {
        kill "$CLUSTER_PID" 2>/dev/null
        wait "$CLUSTER_PID" 2>/dev/null
}

# --- verified ---------------------------------------------------------------------------------
cluster_start
node_config node04 false

fba node04 member list
is "$?" 0 "verified HTTPS: list works"
like "$OUT" "^node01 +$B\.1:$CF_RAFT " "with the members"
is "$(count_mid "$ERR" TLS_INSECURE)" 0 "no insecure warning while verifying"
fba node04 member add
is "$?" 0 "verified HTTPS: add works"
cluster_stop

# --- a server certificate from another CA -----------------------------------------------------
mkdir -p "$tmp/wrong"
cp "$tmp/certs/wrong-server.crt" "$tmp/wrong/server.crt"
cp "$tmp/certs/wrong-server.key" "$tmp/wrong/server.key"
CLUSTER_NAME=wrong cluster_start --tls-dir "$tmp/wrong"

fba node04 member list
rc=$?
is "$rc" 4 "certificate from another CA: refused (exit 4)"
like "$ERR" "not trusted" "says the certificate is not trusted"
like "$ERR" "$CA" "names the CA file"
like "$ERR" "tls\.ca_cert_path" "names the setting"
# As in the join steps (rotation.h): a server whose certificate fails is not asked again, the
# next one is asked once; none twice.
is "$(grep -c "\"message_id\": \?\"$(mid PEER_FALLBACK)\"" "$ERR")" 2 "each of the three servers asked once (two fallbacks)"
like "$ERR" "not asked again" "saying a server with an untrusted certificate is not asked again"
fba node04 member add
is "$?" 4 "add is refused the same way"

# insecure_skip_verify: works, and every use is warned about
config_edit node04 'c["tls"]["insecure_skip_verify"] = True'
fba node04 member list
is "$?" 0 "insecure_skip_verify: list works against the other CA's certificate"
like "$OUT" "^node01 " "with the members"
is "$(count_mid "$ERR" TLS_INSECURE)" 1 "MID_TLS_INSECURE warning"
like "$ERR" "\"priority\": ?4,\"message_id\": ?\"$(mid TLS_INSECURE)\"" "at warning priority"
fba node04 member list --json
is "$?" 0 "second use"
is "$(count_mid "$ERR" TLS_INSECURE)" 1 "warned again"
fba node04 member add node09 "$B.9:$CF_RAFT"
is "$?" 0 "insecure add"
is "$(count_mid "$ERR" TLS_INSECURE)" 1 "warned on add too"
config_edit node04 'del c["tls"]["insecure_skip_verify"]'
cluster_stop

# --- mTLS -------------------------------------------------------------------------------------
CLUSTER_NAME=mtls cluster_start --client-ca "$CA"
fba node04 member list
is "$?" 4 "mTLS server, no client certificate configured: refused (exit 4)"
like "$ERR" "tls\.node_cert_path" "suggests configuring a client certificate"
is "$(requests_where "r['path'] == '/admin/cluster/members'")" 0 "no request got through"

config_edit node04 "c['tls']['node_cert_path'] = '$tmp/certs/client.crt'; c['tls']['node_key_path'] = '$tmp/certs/client.key'"
fba node04 member list
is "$?" 0 "mTLS with the client certificate: list works"
like "$OUT" "^node01 " "with the members"
ok "$([ "$(requests_where "r['path'] == '/admin/cluster/members' and r['client_cert']")" -ge 1 ] && echo 0 || echo 1)" \
        "the server saw the client certificate"
fba node04 member add node08 "$B.8:$CF_RAFT"
is "$?" 0 "mTLS add"
is "$(count_member chainfire node08)" 1 "node08 added"

# missing TLS files: a configuration problem (exit 3), whoever notices it first
config_edit node04 "c['tls']['node_key_path'] = '$tmp/certs/missing.key'"
fba node04 member list
is "$?" 3 "missing client key: exit 3"
like "$ERR" "missing\.key" "names the file"
config_edit node04 "c['tls']['node_key_path'] = '$tmp/certs/client.key'; c['tls']['ca_cert_path'] = '$tmp/certs/missing-ca.crt'"
fba node04 member list
is "$?" 3 "missing CA file: exit 3"
like "$ERR" "missing-ca\.crt" "names the file"
cluster_stop

tap_done
