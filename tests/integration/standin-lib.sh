# SPDX-License-Identifier: MIT
# shellcheck disable=SC2034,SC2154,SC2317  # sourced: $src is the caller's; $tmp, $pids, $ca_hash and ctl are for it
# The k3s and Consul tests' common start (sourced after tests/tap.sh, with $src set): a
# temporary directory, the stand-ins' pids killed and waited for at exit, a skip where the test's
# loopback address cannot be bound.
#
#   standin_init IP [PIDFILE]   $tmp and $pids; at exit every $tmp/*/PIDFILE's process (a service
#                               the agent started through its start_command) and every pid in
#                               $pids is killed, then $tmp removed (unless FBA_KEEP=1)
#   standin_tls IP              certificates for IP in $tmp/tls (tests/server/gen-certs.sh), and
#                               $ca_hash, the CA's SHA-256 as a k3s token pins it
#   standin_ctl PORT            ctl PATH JSON: POST to the stand-in's control API on IP:PORT

standin_init() {
        STANDIN_IP=$1
        STANDIN_PIDFILE=${2:-}
        tmp=$(mktemp -d)
        pids=()
        trap standin_cleanup EXIT
        python3 -c "import socket; s=socket.socket(); s.bind(('$STANDIN_IP', 0))" 2>/dev/null ||
                skip_all "no loopback address $STANDIN_IP"
}

standin_cleanup() {
        local p f
        if [ -n "$STANDIN_PIDFILE" ]; then
                for f in "$tmp"/*/"$STANDIN_PIDFILE"; do [ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
        fi
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        [ "${FBA_KEEP:-0}" = 1 ] || rm -rf "$tmp"
}

standin_tls() {
        "$src/tests/server/gen-certs.sh" "$tmp/tls" "$1" >/dev/null 2>&1 || bail "gen-certs.sh failed"
        ca_hash=$(sha256sum "$tmp/tls/ca.crt" | cut -d' ' -f1)
}

standin_ctl() {
        STANDIN_CTL=$1
        ctl() { curl -sf -X POST -d "$2" "http://$STANDIN_IP:$STANDIN_CTL/control/$1" >/dev/null; }
}
