# SPDX-License-Identifier: MIT
# Sourced by the benchmarks, with $src the top of the tree: the agent they measure is $FBA_BIN,
# else the one in build-release, else the one in build.
export FBA_SOURCE_ROOT=$src
if [ -z "${FBA_BIN:-}" ]; then
        for d in build-release build; do
                [ -x "$src/$d/agent/first-boot-agent" ] && { FBA_BIN="$src/$d/agent/first-boot-agent"; break; }
        done
fi
export FBA_BIN
