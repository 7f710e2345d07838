#!/bin/sh
# SPDX-License-Identifier: MIT
# Test probe of the gold image (not part of the product), for a machine the provisioning server
# does not know: not ordered after the agent (whose start never finishes while it waits), it
# watches the agent's status text until the agent has asked three times, prints what the test
# checks, then powers off. Exit code 0 when the agent was seen waiting, 1 when not.
agent=/usr/sbin/first-boot-agent
[ -x "$agent" ] || agent=$(command -v first-boot-agent)
seen=1
i=0
while [ "$i" -lt 600 ]; do
        text=$(systemctl show first-boot-agent.service -p StatusText --value)
        case "$text" in
        *"waiting to be known"*"attempt "[3-9]|*"waiting to be known"*"attempt "[1-9][0-9]*) seen=0; break ;;
        esac
        i=$((i + 1))
        sleep 0.5
done
echo "zt-probe: status-text $text"
echo "zt-probe: unit $(systemctl show first-boot-agent.service -p ActiveState -p SubState \
        -p Result -p NRestarts | tr '\n' ' ')"
"$agent" status --json >/run/zt-status.json 2>/run/zt-status.err
echo "zt-probe: status-rc $?"
echo "zt-probe: status-json $(tr -d '\n' </run/zt-status.json)"
echo "zt-probe: markers $(ls -A /var/lib/first-boot-automation 2>/dev/null | tr '\n' ' ')"
echo "zt-probe: transient-hostname $(hostname)"
echo "zt-probe: uptime $(cut -d' ' -f1 /proc/uptime)s"
echo "@@VM-GUEST-EXIT-CODE=$seen@@"
systemctl poweroff --no-block
