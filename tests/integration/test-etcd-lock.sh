#!/bin/bash
# SPDX-License-Identifier: MIT
# The node that holds etcd's join lock dies: node04 takes the lock (TTL 5 s), adds its learner
# and is killed (SIGKILL) while it starts its etcd. node05 and node06, waiting for the lock, get
# it once node04's lease has run out; node04, started again (as systemd restarts it), finds its
# learner and finishes without the lock, which lets the others' adds through. The cluster ends
# with six voting members and no learner. TAP. Address block 127.64.0.0/24.
. "$(dirname "$0")/lib.sh"

lib_init 127.64.0 "etcd join lock: its holder killed, the others go on after its lease"
. "$(dirname "$0")/etcd-lib.sh"
etcd_lock_block
etcd_check_free 1 2 3 4 5 6
etcd_cluster_start

for i in 4 5 6; do
        etcd_agent "node0$i" "$i" "c['timeouts']['join_lock_ttl_s'] = 5"
done

# node04 holds the lock, its learner added, stuck in its etcd's start command.
touch "$tmp/node04/hold"
FBA_TIMEOUT=300 fba_bg node04 run
holder=$FBA_PID
err04=$ERR
for ((i = 0; i < 300; i++)); do [ -e "$tmp/node04/holding" ] && break; sleep 0.1; done
[ -e "$tmp/node04/holding" ] || bail "node04 never reached its start command"
has_mid "$err04" JOIN_LOCK_TAKEN; ok $? "node04 holds the join lock"
is "$(etcd_members)" "3 1 1 0" "its learner is in the cluster, not started"

FBA_TIMEOUT=300 fba_bg node05 run; p05=$FBA_PID; err05=$ERR
FBA_TIMEOUT=300 fba_bg node06 run; p06=$FBA_PID; err06=$ERR
for ((i = 0; i < 100; i++)); do
        has_mid "$err05" JOIN_LOCK_WAITING && has_mid "$err06" JOIN_LOCK_WAITING && break
        sleep 0.1
done
has_mid "$err05" JOIN_LOCK_WAITING && has_mid "$err06" JOIN_LOCK_WAITING
ok $? "node05 and node06 wait for the lock"
like "$err05" "held by node04" "naming its holder"

kill -9 "$holder"
{ wait "$holder"; } 2>/dev/null
killed=$(now_ns)
diag "node04 killed while holding the lock"
rm -f "$tmp/node04/hold"

# Whoever is next gets the lock once node04's lease has run out (5 s after its last renewal).
for ((i = 0; i < 200; i++)); do
        has_mid "$err05" JOIN_LOCK_TAKEN || has_mid "$err06" JOIN_LOCK_TAKEN && break
        sleep 0.1
done
after=$(elapsed_ms "$killed")
has_mid "$err05" JOIN_LOCK_TAKEN || has_mid "$err06" JOIN_LOCK_TAKEN
ok $? "another node took the lock after the holder died"
diag "the lock passed on ${after} ms after the kill (lease TTL 5 s)"
cmp_le "$after" 9000 "within the lease's TTL and a little"

# systemd restarts the killed agent: it finds its learner and goes on without the lock.
sleep 1
FBA_TIMEOUT=300 fba node04 run
is "$?" 0 "node04, started again, finishes"
like "$ERR" "already a learner" "it found its learner"
unlike "$ERR" "\"message_id\": ?\"$(mid JOIN_LOCK_TAKEN)\"" "without taking the lock"

wait "$p05"; is "$?" 0 "node05 finishes"
wait "$p06"; is "$?" 0 "node06 finishes"
is "$(etcd_members)" "6 0 0 0" "six voting members, no learner, every one started, none twice"
ectl get --prefix first-boot-agent/ --keys-only >"$tmp/keys" 2>&1
is "$(grep -c . "$tmp/keys")" 0 "no lock key left"

etcd_agents_stop node04 node05 node06
tap_done
