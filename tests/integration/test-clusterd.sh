#!/bin/bash
# SPDX-License-Identifier: MIT
# The cluster test server itself, driven with curl over HTTPS: health, membership, listener
# down/up, failure injection, mTLS, IAM, etcd's gateway. TAP output. Address blocks 127.9.0.0/24
# and 127.72.4.0/24 (etcd).
set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
server="$src/tests/server/clusterd.py"
gencerts="$src/tests/server/gen-certs.sh"

. "$src/tests/tap.sh"

for p in python3 curl openssl; do
        command -v "$p" >/dev/null || { echo "1..0 # SKIP $p not installed"; exit 0; }
done

tmp=$(mktemp -d)
pids=()
racers=()
cleanup() {
        local p
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

A=127.9.0.1
B=127.9.0.2
CTL=127.9.0.1:9000

# start_server NAME ARGS...: runs clusterd in the background and waits for its ready file.
start_server() {
        local name=$1 i
        shift
        python3 "$server" --ready-file "$tmp/$name.ready" "$@" 2>"$tmp/$name.log" &
        pids+=($!)
        for ((i = 0; i < 200; i++)); do
                [ -e "$tmp/$name.ready" ] && return 0
                kill -0 "${pids[-1]}" 2>/dev/null || break
                sleep 0.05
        done
        sed 's/^/# /' "$tmp/$name.log"
        bail "clusterd ($name) did not become ready"
}
stop_server() {         # stop the last server started; returns its exit status
        local p=${pids[-1]}
        kill "$p"
        wait "$p"
        local rc=$?
        unset 'pids[-1]'
        return $rc
}

# code ARGS...: HTTP status of a curl request (000 with the curl exit code on stderr if none).
C=(curl -sS --max-time 10 --cacert "$tmp/certs/ca.crt")
code() { "${C[@]}" -o "$tmp/body" -w '%{http_code}' "$@" 2>"$tmp/curl.err"; }
ctl() {         # ctl PATH [JSON]
        if [ $# -ge 2 ]; then
                curl -sS --max-time 10 -o "$tmp/ctl" -w '%{http_code}' -d "$2" "http://$CTL$1"
        else
                curl -sS --max-time 10 -o "$tmp/ctl" -w '%{http_code}' "http://$CTL$1"
        fi
}
jq_() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@"; }


"$gencerts" "$tmp/certs" "$A" "$B" 127.9.0.3 node01.test >/dev/null 2>"$tmp/gen.err"
ok $? "gen-certs.sh makes the certificates"
[ -f "$tmp/certs/other-ca.crt" ] && [ -f "$tmp/certs/wrong-server.key" ] && [ -f "$tmp/certs/client.crt" ]
ok $? "gen-certs.sh: client, other CA and wrong server files exist"
is "$(stat -c %a "$tmp/certs/server.key") $(stat -c %a "$tmp/certs/ca.key") $(stat -c %a "$tmp/certs/client.key")" \
        "600 600 600" "private keys are 0600"
openssl x509 -in "$tmp/certs/server.crt" -noout -ext subjectAltName 2>/dev/null >"$tmp/san"
grep -q "DNS:localhost" "$tmp/san" && grep -q "IP Address:127.0.0.1" "$tmp/san" && \
        grep -q "IP Address:$B" "$tmp/san" && grep -q "DNS:node01.test" "$tmp/san"
ok $? "server certificate SANs: localhost, 127.0.0.1, given IPs and names"

start_server main \
        --listen chainfire:node01:$A:2379 --listen chainfire:node02:$B:2379 \
        --listen flaredb:node01:$A:2479 \
        --listen iam:node01:$A:8080 --listen report:collector:$A:8000 \
        --member chainfire:node01:$A:2380 \
        --tls-dir "$tmp/certs" --iam-bootstrap-token boot-secret --iam-user root:rootpw \
        --plain report:collector --down chainfire:node02 --unhealthy flaredb:node01 --control $CTL --pidfile "$tmp/main.pid"
is "$(cat "$tmp/main.pid")" "${pids[-1]}" "pidfile holds the server's pid"

# Health.
is "$(code https://$A:2379/health)" 200 "health: 200 when up"
is "$(ctl /control/health '{"service":"chainfire","node":"node01","healthy":false}')" 200 "control: mark unhealthy"
is "$(code https://$A:2379/health)" 503 "health: 503 when unhealthy"
ctl /control/health '{"service":"chainfire","node":"node01","healthy":true,"after_s":1}' >/dev/null
is "$(code https://$A:2379/health)" 503 "health: still unhealthy before after_s"
sleep 1.2
is "$(code https://$A:2379/health)" 200 "health: healthy after after_s"
is "$(code https://localhost:2479/health)" 000 "flaredb listener is on $A only"
is "$(code https://$A:2479/health)" 503 "--unhealthy: 503 from the start"

# Membership.
is "$(code https://$A:2379/admin/cluster/members)" 200 "members: list"
is "$(jq_ "$tmp/body" '[m["id"] for m in d["members"]]')" "['node01']" "members: initial member"
is "$(code -d '{"id":"node02","raft_addr":"'$B':2380"}' https://$A:2379/admin/member/add)" 201 "member add: 201"
is "$(code -d '{"id":"node02","raft_addr":"'$B':2381"}' https://$A:2379/admin/member/add)" 409 "member add again (same id): 409"
jq_ "$tmp/body" 'd["error"]' | grep -q node02
ok $? "409 carries a JSON error naming the member"
is "$(code -d '{"id":"node03","raft_addr":"'$B':2380"}' https://$A:2379/admin/member/add)" 409 "member add (same raft_addr): 409"
is "$(code -d '{"id":"node03"}' https://$A:2379/admin/member/add)" 400 "member add without raft_addr: 400"
jq_ "$tmp/body" 'd["error"]' | grep -q raft_addr
ok $? "400 names the missing field"
is "$(code -d 'not json' https://$A:2379/admin/member/add)" 400 "member add with a non-JSON body: 400"

# Listener down, then up: the shared member list is visible from the other node.
is "$(code https://$B:2379/health; echo " $(grep -o 'curl: ([0-9]*)' "$tmp/curl.err")")" "000 curl: (7)" \
        "listener down at start: connection refused (curl exit 7)"
is "$(ctl /control/listener '{"service":"chainfire","node":"node02","up":true}')" 200 "control: listener up"
is "$(code https://$B:2379/admin/cluster/members)" 200 "second node answers once up"
is "$(jq_ "$tmp/body" 'sorted(m["id"] for m in d["members"])')" "['node01', 'node02']" \
        "all nodes of a service share its member list"
for i in $(seq 20); do
        host=$A; [ $((i % 2)) -eq 0 ] && host=$B
        "${C[@]}" -o /dev/null -w '%{http_code}\n' -d '{"id":"racer","raft_addr":"'$A':2390"}' \
                https://$host:2379/admin/member/add &
        racers+=($!)
done >"$tmp/race"
wait "${racers[@]}"
is "$(sort "$tmp/race" | uniq -c | awk '{printf "%s*%s ", $1, $2}')" "1*201 19*409 " \
        "20 concurrent adds of one member through two nodes: exactly one wins"
code -X DELETE https://$A:2379/admin/member/racer >/dev/null
is "$(code -X DELETE https://$B:2379/admin/member/node02)" 200 "member delete: 200"
is "$(code -X DELETE https://$B:2379/admin/member/node02)" 404 "member delete again: 404"
ctl /control/listener '{"service":"chainfire","node":"node01","up":false}' >/dev/null
"${C[@]}" -o /dev/null https://$A:2379/health 2>/dev/null
is "$?" 7 "listener down: curl exit 7"
ctl /control/listener '{"service":"chainfire","node":"node01","up":true}' >/dev/null
is "$(code https://$A:2379/health)" 200 "listener up again on the same port"

# Failure and delay injection.
ctl /control/fail '{"service":"chainfire","node":"node01","path":"/admin/cluster/members","status":503,"count":2}' >/dev/null
r1=$(code https://$A:2379/admin/cluster/members)
r2=$(code https://$A:2379/admin/cluster/members)
r3=$(code https://$A:2379/admin/cluster/members)
is "$r1 $r2 $r3" "503 503 200" "fail injection: 503 twice, then OK"
ctl /control/fail '{"service":"chainfire","node":"node01","status":0}' >/dev/null
"${C[@]}" -o /dev/null https://$A:2379/health 2>/dev/null
is "$?" 52 "fail injection with status 0: connection closed without an answer"
ctl /control/delay '{"service":"chainfire","ms":600,"count":1}' >/dev/null
start=$(date +%s%N)
code https://$A:2379/health >/dev/null
elapsed=$((($(date +%s%N) - start) / 1000000))
[ "$elapsed" -ge 550 ]
ok $? "delay injection: answer delayed (${elapsed} ms)"

# IAM.
is "$(code -d '{"name":"admin","password":"pw","roles":["admin"]}' https://$A:8080/admin/users)" 401 \
        "IAM: create user without the bootstrap token: 401"
is "$(code -H 'Authorization: Bearer nope' -d '{"name":"admin","password":"pw","roles":["admin"]}' https://$A:8080/admin/users)" 401 \
        "IAM: wrong bootstrap token: 401"
B_=(-H 'Authorization: Bearer boot-secret')
is "$(code "${B_[@]}" -d '{"name":"admin","password":"pw","roles":["admin"]}' https://$A:8080/admin/users)" 201 "IAM: create user: 201"
is "$(code "${B_[@]}" -d '{"name":"admin","password":"pw","roles":["admin"]}' https://$A:8080/admin/users)" 409 "IAM: create again: 409"
is "$(code "${B_[@]}" https://$A:8080/admin/users/admin)" 200 "IAM: get user: 200"
is "$(code "${B_[@]}" https://$A:8080/admin/users/nobody)" 404 "IAM: get unknown user: 404"
is "$(code -d '{"name":"admin","password":"pw"}' https://$A:8080/admin/tokens)" 201 "IAM: token: 201"
tok=$(jq_ "$tmp/body" 'd["token"]')
[ ${#tok} -ge 20 ] && jq_ "$tmp/body" 'd["expires_at"]' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
ok $? "IAM: token and expires_at returned"
is "$(code -d '{"name":"admin","password":"wrong"}' https://$A:8080/admin/tokens)" 401 "IAM: wrong password: 401"
ctl /control/state >/dev/null
! grep -q -e '"pw"' -e rootpw -e boot-secret -e "$tok" "$tmp/ctl" && \
        [ "$(jq_ "$tmp/ctl" 'sorted(u["name"] for u in d["iam_users"])')" = "['admin', 'root']" ]
ok $? "control state lists IAM users, never passwords or tokens"

# Report sink and the request log.
is "$(code -d '{"event":"firstboot-done","node_id":"node01"}' http://$A:8000/report)" 200 "report (--plain): POST stored"
ctl /control/state >/dev/null
is "$(jq_ "$tmp/ctl" '[r["body"]["event"] for r in d["reports"]]')" "['firstboot-done']" "report visible in control state"
ctl '/control/requests?service=chainfire&path=/admin/member/add' >/dev/null
is "$(jq_ "$tmp/ctl" '[e["status"] for e in d["requests"]][:5]')" "[201, 409, 409, 400, 400]" "request log records status per request"

stop_server
is "$?" 0 "SIGTERM: clean exit"
[ ! -e "$tmp/main.ready" ] && [ ! -e "$tmp/main.pid" ]
ok $? "ready file and pidfile removed on exit"

# mTLS: client certificates required.
C_MTLS=127.9.0.3
start_server mtls --listen chainfire:node01:$C_MTLS:2379 --tls-dir "$tmp/certs" \
        --client-ca "$tmp/certs/ca.crt" --control 127.9.0.1:9001
"${C[@]}" -o /dev/null --resolve node01.test:2379:$C_MTLS https://node01.test:2379/health 2>/dev/null
rc=$?
[ "$rc" -ne 0 ]
ok $? "mTLS: refused without a client certificate (curl exit $rc)"
is "$(code --cert "$tmp/certs/client.crt" --key "$tmp/certs/client.key" \
        --resolve node01.test:2379:$C_MTLS https://node01.test:2379/health)" 200 "mTLS: OK with the client certificate"
"${C[@]}" -o /dev/null --cert "$tmp/certs/wrong-server.crt" --key "$tmp/certs/wrong-server.key" \
        --resolve node01.test:2379:$C_MTLS https://node01.test:2379/health 2>/dev/null
rc=$?
[ "$rc" -ne 0 ]
ok $? "mTLS: refused with a certificate from another CA (curl exit $rc)"
stop_server

# A server presenting a certificate from another CA is refused by a client trusting ca.crt.
mkdir "$tmp/wrong"
cp "$tmp/certs/wrong-server.crt" "$tmp/wrong/server.crt"
cp "$tmp/certs/wrong-server.key" "$tmp/wrong/server.key"
start_server wrong --listen chainfire:node01:$C_MTLS:2379 --tls-dir "$tmp/wrong" --control 127.9.0.1:9001
"${C[@]}" -o /dev/null https://$C_MTLS:2379/health 2>/dev/null
is "$?" 60 "wrong server certificate: refused (curl exit 60)"
is "$("${C[@]}" --cacert "$tmp/certs/other-ca.crt" https://$C_MTLS:2379/health -o /dev/null -w '%{http_code}' 2>/dev/null)" 200 \
        "wrong server certificate: accepted when other-ca.crt is trusted"
stop_server

start_server busy --listen chainfire:node01:$A:2379 --control 127.9.0.1:9001
python3 "$server" --listen chainfire:node01:$A:2379 --control 127.9.0.1:9002 \
        --ready-file "$tmp/busy2.ready" 2>"$tmp/busy2.err"
rc=$?
[ "$rc" -eq 1 ] && [ ! -e "$tmp/busy2.ready" ] && grep -q "$A:2379" "$tmp/busy2.err"
ok $? "a port in use: exit 1, no ready file, the address named"
stop_server

# etcd's v3 cluster gateway: a shared member list with etcd's answers, and any list on demand
# (block 127.72.4.0/24).
E=127.72.4.1
ECTL=127.72.4.1:9000
start_server etcd --listen etcd:e1:$E:2379 --listen etcd:e2:127.72.4.2:2379 --control $ECTL
epost() { curl -sS --max-time 10 -o "$tmp/body" -w '%{http_code}' -d "$2" "http://$1" 2>"$tmp/curl.err"; }
is "$(epost $ECTL/control/etcd-members '{"members":[{"ID":"1001","name":"e1","peerURLs":["http://'$E':2380"],
        "clientURLs":["http://'$E':2379"]}]}')" 200 "etcd: control sets the member list"
is "$(epost $E:2379/v3/cluster/member/list '{}')" 200 "etcd: list"
is "$(jq_ "$tmp/body" '[(m["ID"], m["name"], m["peerURLs"]) for m in d["members"]]')" "[('1001', 'e1', ['http://$E:2380'])]" \
        "etcd: IDs as decimal strings, names, peer URLs"
is "$(epost $E:2379/v3/cluster/member/add '{"peerURLs":["http://127.72.4.4:2380"],"isLearner":true}')" 200 \
        "etcd: add a learner"
id=$(jq_ "$tmp/body" 'd["member"]["ID"]')
is "$(jq_ "$tmp/body" '("name" in d["member"], d["member"].get("isLearner"))')" "(False, True)" \
        "etcd: the added member has no name yet and is a learner"
is "$(epost 127.72.4.2:2379/v3/cluster/member/add '{"peerURLs":["http://127.72.4.4:2380"]}')" 400 \
        "etcd: the same peer URL again, at another listener: 400"
is "$(jq_ "$tmp/body" '(d["code"], d["message"])')" "(9, 'etcdserver: Peer URLs already exists')" "etcd: code 9, etcd's message"
is "$(epost $E:2379/v3/cluster/member/add '{"peerURLs":["http://127.72.4.5:2380"],"isLearner":true}')" 400 \
        "etcd: a second learner: 400"
grep -q "too many learner members" "$tmp/body"; ok $? "etcd: too many learner members"
is "$(epost $E:2379/v3/cluster/member/promote '{"ID":"'$id'"}')" 400 "etcd: promoting a learner that never started: 400"
grep -q "in sync with leader" "$tmp/body"; ok $? "etcd: not in sync with the leader"
is "$(epost $ECTL/control/etcd-started '{"peer_url":"http://127.72.4.4:2380","name":"node04"}')" 200 \
        "etcd: control marks it started"
is "$(epost $E:2379/v3/cluster/member/promote '{"ID":"'$id'"}')" 200 "etcd: promote"
is "$(epost $E:2379/v3/cluster/member/promote '{"ID":"'$id'"}')" 400 "etcd: promote a voter: 400"
grep -q "can only promote a learner member" "$tmp/body"; ok $? "etcd: can only promote a learner member"
is "$(epost $E:2379/v3/cluster/member/remove '{"ID":"999"}')" 404 "etcd: remove an unknown ID: 404"
is "$(epost $E:2379/v3/cluster/member/remove '{"ID":"'$id'"}')" 200 "etcd: remove"
is "$(epost $ECTL/control/etcd-members '{"members":[{"name":"e1","peerURLs":["http://'$E':2380\nX=1"]}]}')" 200 \
        "etcd: a hostile list is taken"
epost $E:2379/v3/cluster/member/list '{}' >/dev/null
is "$(jq_ "$tmp/body" 'repr(d["members"][0]["peerURLs"][0])')" "'http://$E:2380\\nX=1'" "etcd: and served as given"
is "$(curl -sS "http://$ECTL/control/state" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["etcd_members"]))')" 1 \
        "etcd: the state shows the list"
stop_server

# Usage errors are reported before anything is bound.
python3 "$server" --listen bogus:n:$A:1 --control 127.9.0.1:9002 2>"$tmp/usage.err"
is "$?" 2 "unknown service: exit 2"
grep -q bogus "$tmp/usage.err"
ok $? "usage error names the bad value"

tap_done
