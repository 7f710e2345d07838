#!/bin/bash
# SPDX-License-Identifier: MIT
# The IAM admin's credentials and this node's own IAM: without services.iam.url the IAM URL is
# derived from node_fqdn and node_ip, which a provisioning answer may set. They go there only at
# an address of this machine. A node named at another machine's address (255.255.255.255, which
# nothing can connect to) is refused, exit 5, and no request reaches any IAM; named at its own,
# the request is pinned to that address and the admin is created. Address block 127.77.1.0/24.
. "$(dirname "$0")/../lib.sh"
lib_init 127.77.1 "the IAM admin's credentials go to this node's own IAM only at this machine's address"
PASSWORD="Pw-$(openssl rand -hex 12)"
cluster_start

node_config node04 false
# The name the server's certificate carries (localhost), the address node_ip says.
config_edit node04 'c["services"]["iam"]["enabled"] = True
del c["services"]["iam"]["url"]
c["node_fqdn"] = "localhost"
c["node_ip"] = "255.255.255.255"
c["timeouts"].update(join_attempts=2, backoff_initial_ms=20, backoff_max_ms=40)'
iam_secrets node04 admin "$PASSWORD"

fba node04 run
is "$?" 5 "node_ip another machine's address: exit 5 (refused)"
like "$ERR" "Refusing to send the IAM admin's credentials to https://localhost:$IAM_PORT \(at 255\.255\.255\.255\).*not an address of this machine" \
        "the error names the URL, the address and why"
like "$ERR" "set services\.iam\.url in the image's template" "and what to do"
is "$(requests_where "r['service'] == 'iam' and r['path'] != '/health'")" 0 "no request reached the IAM (its health check aside)"
is "$(cstate "len(d['iam_users'])")" 0 "no IAM user was created"
unlike "$ERR" "$PASSWORD" "the password is not in the output"

config_edit node04 'c["node_ip"] = "'"$B"'.4"'
fba node04 run
rc=$?
is "$rc" 0 "node_ip this machine's (a loopback address): run exits 0"
[ "$rc" -eq 0 ] || show_output
is "$(cstate "len(d['iam_users'])")" 1 "the admin was created"
has_mid "$ERR" IAM_TOKEN_ISSUED; ok $? "and a token issued (MID_IAM_TOKEN_ISSUED)"

tap_done
