#!/bin/sh
# SPDX-License-Identifier: MIT
# Test certificates for the cluster test server.
#
#   gen-certs.sh DIR [SAN...]
#
# DIR gets ca.crt/ca.key, server.crt/server.key (SANs: localhost, 127.0.0.1 and every SAN
# given: IP addresses as IP:, names as DNS:), client.crt/client.key (clientAuth, signed by
# ca), and other-ca.crt/other-ca.key with wrong-server.crt/wrong-server.key signed by that
# other CA (same SANs: a client trusting ca.crt must refuse it). Keys are EC P-256, mode 0600.
set -eu

if [ $# -lt 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
        echo "usage: $0 DIR [SAN...]" >&2
        exit 2
fi
dir=$1
shift
command -v openssl >/dev/null 2>&1 || { echo "$0: openssl not found (apt-get install openssl)" >&2; exit 1; }
mkdir -p "$dir"

is_ip() {
        case $1 in
        *:*) return 0 ;;                        # IPv6
        *[!0-9.]*) return 1 ;;
        *.*.*.*) return 0 ;;
        *) return 1 ;;
        esac
}

sans="DNS:localhost,IP:127.0.0.1"
for s in "$@"; do
        case $s in
        IP:*|DNS:*) entry=$s ;;
        *) if is_ip "$s"; then entry="IP:$s"; else entry="DNS:$s"; fi ;;
        esac
        case ",$sans," in
        *",$entry,"*) ;;
        *) sans="$sans,$entry" ;;
        esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

newkey() {
        ( umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                -out "$1" 2>/dev/null )
        chmod 600 "$1"
}

serial() {
        echo "0x$(openssl rand -hex 12)"
}

# make_ca NAME CN
make_ca() {
        newkey "$dir/$1.key"
        cat > "$tmp/$1.ext" <<EOT
[req]
distinguished_name = dn
prompt = no
[dn]
CN = $2
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
EOT
        openssl req -x509 -new -key "$dir/$1.key" -config "$tmp/$1.ext" -extensions v3_ca \
                -sha256 -days 3650 -set_serial "$(serial)" -out "$dir/$1.crt"
        chmod 644 "$dir/$1.crt"
}

# make_leaf NAME CN CA EXTENDED_KEY_USAGE [SANS]
make_leaf() {
        newkey "$dir/$1.key"
        {
                echo "basicConstraints = critical,CA:FALSE"
                echo "keyUsage = critical,digitalSignature"
                echo "extendedKeyUsage = $4"
                echo "subjectKeyIdentifier = hash"
                echo "authorityKeyIdentifier = keyid,issuer"
                if [ -n "${5:-}" ]; then echo "subjectAltName = $5"; fi
        } > "$tmp/$1.ext"
        openssl req -new -key "$dir/$1.key" -subj "/CN=$2" -out "$tmp/$1.csr"
        openssl x509 -req -in "$tmp/$1.csr" -CA "$dir/$3.crt" -CAkey "$dir/$3.key" \
                -set_serial "$(serial)" -sha256 -days 3650 -extfile "$tmp/$1.ext" \
                -out "$dir/$1.crt" 2>/dev/null
        chmod 644 "$dir/$1.crt"
}

make_ca ca "first-boot test CA"
make_leaf server localhost ca serverAuth "$sans"
make_leaf client client ca clientAuth
make_ca other-ca "untrusted test CA"
make_leaf wrong-server localhost other-ca serverAuth "$sans"

openssl verify -CAfile "$dir/ca.crt" "$dir/server.crt" "$dir/client.crt" >/dev/null
openssl verify -CAfile "$dir/other-ca.crt" "$dir/wrong-server.crt" >/dev/null
if openssl verify -CAfile "$dir/ca.crt" "$dir/wrong-server.crt" >/dev/null 2>&1; then
        echo "$0: wrong-server.crt verifies against ca.crt" >&2
        exit 1
fi
