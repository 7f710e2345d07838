#!/bin/sh
# SPDX-License-Identifier: MIT
# A node certificate as the older automation's provisioning made them:
#
#   gen-node-cert.sh DIR FQDN IP
#
# DIR holds the cluster CA (ca.crt, ca.key; made when absent). The node's certificate and key go
# to DIR/NAME.crt and DIR/NAME.key, NAME being the first label of FQDN ("node01" for
# "node01.example.com"), with the node's FQDN and IP address as its only names (no "localhost")
# and usable both by the node's services and as its client certificate (mTLS). The key is EC
# P-256, mode 0600; the layout is the one /etc/nixos/secrets holds on a provisioned node.
set -eu

if [ $# -ne 3 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
        echo "usage: $0 DIR FQDN IP" >&2
        exit 2
fi
dir=$1 fqdn=$2 ip=$3
name=${fqdn%%.*}
command -v openssl >/dev/null 2>&1 || { echo "$0: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() {
        ( umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null )
        chmod 600 "$1"
}
serial() { echo "0x$(openssl rand -hex 12)"; }

if [ ! -e "$dir/ca.crt" ]; then
        newkey "$dir/ca.key"
        printf '[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = cluster CA\n[v3_ca]\n%s\n%s\n%s\n' \
                "basicConstraints = critical,CA:TRUE" "keyUsage = critical,keyCertSign,cRLSign" \
                "subjectKeyIdentifier = hash" >"$tmp/ca.ext"
        openssl req -x509 -new -key "$dir/ca.key" -config "$tmp/ca.ext" -extensions v3_ca -sha256 \
                -days 3650 -set_serial "$(serial)" -out "$dir/ca.crt"
        chmod 644 "$dir/ca.crt"
fi

newkey "$dir/$name.key"
cat >"$tmp/leaf.ext" <<EOT
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth,clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer
subjectAltName = DNS:$fqdn,IP:$ip
EOT
openssl req -new -key "$dir/$name.key" -subj "/CN=$fqdn" -out "$tmp/leaf.csr"
openssl x509 -req -in "$tmp/leaf.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -set_serial "$(serial)" \
        -sha256 -days 3650 -extfile "$tmp/leaf.ext" -out "$dir/$name.crt" 2>/dev/null
chmod 644 "$dir/$name.crt"
openssl verify -CAfile "$dir/ca.crt" "$dir/$name.crt" >/dev/null
