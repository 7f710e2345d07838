#!/bin/sh
# SPDX-License-Identifier: MIT
# Test probe of the gold image (not part of the product): once first-boot-agent.service is
# finished (or skipped), prints what the test checks on the console, then powers off.
agent=/usr/sbin/first-boot-agent
[ -x "$agent" ] || agent=$(command -v first-boot-agent)
state=/var/lib/first-boot-automation
"$agent" status --wait --timeout 600 >/dev/null 2>&1
echo "zt-probe: status-wait rc=$?"
echo "zt-probe: unit $(systemctl show first-boot-agent.service -p ActiveState -p SubState \
        -p Result -p ConditionResult -p ExecMainStatus -p NRestarts | tr '\n' ' ')"
"$agent" status --json >/run/zt-status.json 2>/run/zt-status.err
rc=$?
echo "zt-probe: status-json $(tr -d '\n' </run/zt-status.json)"
[ "$rc" -eq 0 ] || echo "zt-probe: status-stderr $(tr '\n' ' ' </run/zt-status.err)"
echo "zt-probe: markers $(ls -A "$state" 2>/dev/null | tr '\n' ' ')"
echo "zt-probe: transient-hostname $(hostname)"
echo "zt-probe: static-hostname $(cat /etc/hostname)"
echo "zt-probe: hostname-marker $(tail -n +2 "$state/.hostname-set" 2>/dev/null | tr '\n' ' ')"
echo "zt-probe: network-marker $(tail -n +2 "$state/.network-configured" 2>/dev/null | tr '\n' ' ')"
echo "zt-probe: addresses $(hostname -I 2>/dev/null)"
echo "zt-probe: node-config $(stat -c '%a %U' "$state/cluster-config.json" 2>/dev/null)"
echo "zt-probe: uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "@@VM-GUEST-EXIT-CODE=$rc@@"
systemctl poweroff --no-block
