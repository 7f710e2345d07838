#!/bin/bash
# SPDX-License-Identifier: MIT
# The units, as meson configured them, pass "systemd-analyze verify" with the built binary in
# ExecStart= and the man page in MANPATH; their "systemd-analyze security" exposure stays
# under a ceiling; the tmpfiles.d entry creates the state directory 0700. TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands systemd-analyze systemd-tmpfiles

: "${FBA_BUILD_ROOT:?set by meson}" "${FBA_BIN:?set by meson}"
src=$(pkg_source_root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}
diag() {
        sed 's/^/# /'
}

# Exposure ceilings: the gold image unit is network-only, the failure unit reads a directory,
# the flasher needs devices, CAP_SYS_ADMIN and CAP_SYS_BOOT.
declare -A ceiling=(
        [first-boot-agent.service]=1.5
        [first-boot-agent-failure.service]=1.0
        [first-boot-agent-flash.service]=3.0
)

mkdir -p "$work/units" "$work/man/man8"
cp "$src/units/first-boot-agent.8" "$work/man/man8/"
for name in "${!ceiling[@]}"; do
        built="$FBA_BUILD_ROOT/units/$name"
        [ -f "$built" ] || { ok 1 "$name was configured by meson"; continue; }
        # The binary as installed would be at the configured sbindir; point at the built one.
        sed -E "s|^(Exec[A-Za-z]*=[-@:+!]*)[^ ]*/first-boot-agent( \|$)|\1$FBA_BIN\2|" "$built" >"$work/units/$name"
done

for name in $(printf '%s\n' "${!ceiling[@]}" | sort); do
        unit="$work/units/$name"
        grep -q "^ExecStart=$FBA_BIN " "$unit"
        ok $? "$name: ExecStart= runs the built binary"
        out=$(MANPATH="$work/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$unit" 2>&1)
        rc=$?
        [ -n "$out" ] && printf '%s\n' "$out" | diag
        [ $rc -eq 0 ] && [ -z "$out" ]
        ok $? "$name: systemd-analyze verify passes without a warning"

        score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
                sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        echo "# $name: exposure $score (ceiling ${ceiling[$name]})"
        [ -n "$score" ] && awk -v s="$score" -v c="${ceiling[$name]}" 'BEGIN { exit !(s <= c) }'
        ok $? "$name: systemd-analyze security exposure $score <= ${ceiling[$name]}"
done

# The units' contracts with the agent.
main="$work/units/first-boot-agent.service"
! grep -q '^ConditionPathExists=.*first-boot-done' "$main"
ok $? "first-boot-agent.service has no condition on .first-boot-done (run re-checks the step markers)"
grep -qx 'Alias=chainfire-cluster-join.service flaredb-cluster-join.service iam-initial-setup.service cluster-health-check.service' "$main"
ok $? "first-boot-agent.service is aliased to the older automation's four unit names"
grep -qx 'Type=notify' "$main" && grep -qx 'RestartPreventExitStatus=2 3 5' "$main" &&
        grep -qx 'OnFailure=first-boot-agent-failure.service' "$main"
ok $? "first-boot-agent.service: Type=notify, no restart after exit 2/3/5, OnFailure"
code() { sed -n "s/^[[:space:]]*$1 = \([0-9]*\),.*/\1/p" "$src/agent/basic/exit-code.h"; }
[ "$(code EXIT_USAGE) $(code EXIT_CONFIG) $(code EXIT_STEP_REFUSED)" = "2 3 5" ]
ok $? "RestartPreventExitStatus= matches EXIT_USAGE, EXIT_CONFIG, EXIT_STEP_REFUSED in exit-code.h"
grep -qx 'ConditionKernelCommandLine=first_boot_agent.mode=flash' "$work/units/first-boot-agent-flash.service" &&
        grep -qx 'ConditionKernelCommandLine=!first_boot_agent.mode=flash' "$main"
ok $? "exactly one of the two units runs on a flash boot"

# tmpfiles.d: the state directory, root only.
mkdir -p "$work/root"
systemd-tmpfiles --create --root="$work/root" "$src/units/first-boot-agent.tmpfiles" 2>&1 | diag
mode=$(stat -c '%a %U' "$work/root/var/lib/first-boot-automation" 2>/dev/null)
[ "$mode" = "700 root" ]
ok $? "tmpfiles.d creates /var/lib/first-boot-automation 0700 root (got '$mode')"

echo "1..$n"
exit $fail
