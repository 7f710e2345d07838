#!/bin/bash
# SPDX-License-Identifier: MIT
# Every .nix file of the tree parses (nix-instantiate --parse); then nix/module.nix and
# nix/package.nix are evaluated by tests/pkg/nix-harness.nix, a stand-in for nixpkgs (which
# is not available offline). What that does and does not verify is written at its top.
# TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands nix-instantiate python3
src=$(pkg_source_root)

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

mapfile -t files < <(cd "$src" && find . -name '*.nix' -not -path './build*' -not -path './.git/*' | sort)
[ ${#files[@]} -ge 3 ]
ok $? "found .nix files (${#files[@]})"
for f in "${files[@]}"; do
        out=$(nix-instantiate --parse "$src/$f" 2>&1 >/dev/null)
        rc=$?
        [ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/# /'
        ok $rc "${f#./} parses"
done

json=$(cd "$src" && nix-instantiate --eval --strict --json tests/pkg/nix-harness.nix 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
        printf '%s\n' "$json" | sed 's/^/# /'
        ok 1 "the harness evaluates nix/module.nix and nix/package.nix"
else
        ok 0 "the harness evaluates nix/module.nix and nix/package.nix"
        while IFS=$'\t' read -r good name detail; do
                [ "$good" = 1 ]
                ok $? "$name"
                [ "$good" = 1 ] || [ -z "$detail" ] || echo "#   $detail"
        done < <(printf '%s' "$json" | python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print("%d\t%s\t%s" % (1 if c["ok"] else 0, c["name"], c["detail"].replace("\t", " ").replace("\n", " ")))
')
fi

echo "1..$n"
exit $fail
