#!/bin/bash
# SPDX-License-Identifier: MIT
# The bash completion answers what it should: verbs, global options and their values, each
# verb's options, step names for reset, member commands and option values. With the
# bash-completion package when it is installed, else with stand-ins for its two helpers.
# TAP output.
set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
n=0
fail=0

if [ -f /usr/share/bash-completion/bash_completion ]; then
        . /usr/share/bash-completion/bash_completion
        echo "# with /usr/share/bash-completion/bash_completion"
else
        echo "# bash-completion is not installed: stand-ins for _init_completion and _filedir"
        _init_completion() {
                words=("${COMP_WORDS[@]}")
                cword=$COMP_CWORD
                cur=${COMP_WORDS[COMP_CWORD]}
                prev=${COMP_WORDS[COMP_CWORD - 1]}
        }
        _filedir() { COMPREPLY=(FILES); }
fi
. "$src/units/first-boot-agent.bash-completion"

# The steps and services come from the agent, for the configuration on the command line.
bin=${FBA_BIN:-$src/build/agent/first-boot-agent}
[ -x "$bin" ] || { echo "Bail out! no agent at $bin"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin"
ln -s "$bin" "$tmp/bin/first-boot-agent"
PATH="$tmp/bin:$PATH"
export FIRST_BOOT_AGENT_PROC_CMDLINE=/dev/null
( umask 077; cat >"$tmp/config.json" <<EOF
{"node_id": "node04", "bootstrap": false, "leader_url": "http://10.0.1.10:2379", "raft_addr": "10.0.1.13:2380",
 "services": {"ledger": {"driver": "admin", "api_port": 2579, "raft_port": 2580, "after": ["chainfire"]},
              "iam": {"enabled": false}}}
EOF
)

# expect "EXPECTED WORDS" WORD... : completing after WORD... (the last one is being typed)
expect() {
        local want=$1 got
        shift
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMP_LINE="${COMP_WORDS[*]}"
        COMP_POINT=${#COMP_LINE}
        COMPREPLY=()
        _first_boot_agent
        got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')
        want=$(printf '%s\n' $want | sort | tr '\n' ' ' | sed 's/ $//')
        n=$((n + 1))
        if [ "$got" = "$want" ]; then
                echo "ok $n - '$*' completes to: $want"
        else
                echo "not ok $n - '$*' completes to: $want"
                echo "#   got: $got"
                fail=1
        fi
}

[ "$(complete -p first-boot-agent 2>/dev/null)" = "complete -F _first_boot_agent first-boot-agent" ]
n=$((n + 1)); if [ $? -eq 0 ]; then echo "ok $n - registered for first-boot-agent"; else echo "not ok $n - registered"; fail=1; fi

expect "run flash status validate reset member inventory" first-boot-agent ""
expect "reset run" first-boot-agent r
expect "-c --config --state-dir --log-target -h --help --version" first-boot-agent -
expect "auto journal json console" first-boot-agent --log-target ""
expect "reset run" first-boot-agent -c /etc/x.json r
expect "status" first-boot-agent --state-dir /tmp st
expect "--no-power-action -h --help" first-boot-agent run -
expect "--dry-run --no-power-action --no-progress -h --help" first-boot-agent flash -
expect "--json -h --help" first-boot-agent inventory -
expect "inventory" first-boot-agent inv
expect "--json --wait --timeout -h --help" first-boot-agent status -
expect "" first-boot-agent status --timeout ""
expect "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health iam-setup health-report" first-boot-agent -c "$tmp/none.json" reset ""
expect "identity config chainfire-health chainfire-join flaredb-health flaredb-join iam-health iam-setup ledger-health ledger-join health-report" first-boot-agent -c "$tmp/config.json" reset ""
expect "flaredb-health flaredb-join" first-boot-agent -c "$tmp/config.json" reset fl
expect "--all -y --yes --list -h --help" first-boot-agent reset -
expect "list add remove" first-boot-agent member ""
expect "chainfire flaredb ledger" first-boot-agent --config "$tmp/config.json" member --service ""
expect "admin etcd" first-boot-agent member -d ""
expect "list add remove" first-boot-agent member -s flaredb ""
expect "" first-boot-agent member list ""
expect "--json" first-boot-agent member list --j

echo "1..$n"
exit $fail
