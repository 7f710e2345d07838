#!/bin/bash
# SPDX-License-Identifier: MIT
# Every .nix file of the tree parses (nix-instantiate --parse); then nix/module.nix and
# nix/package.nix are evaluated by tests/pkg/nix-harness.nix, a stand-in for nixpkgs (which
# is not available offline). What that does and does not verify is written at its top.
#
# Nothing nix says is ignored: nix's own settings for this run come from NIX_CONFIG (no build
# users: a plain evaluation builds nothing), so a healthy run prints nothing on standard
# error; anything printed there fails the check it belongs to. The harness's answer must be
# JSON with a non-empty list of checks, each {name, ok, detail}; an answer that cannot be
# read is a failure, never fewer checks. TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands nix-instantiate python3
src=$(pkg_source_root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The evaluations run as root on a machine without the nixbld group: without this nix warns
# that 'build-users-group' names a group that does not exist.
export NIX_CONFIG="build-users-group ="

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

# quiet FILE: true when nix printed nothing on standard error (else shows it).
quiet() {
        [ -s "$1" ] || return 0
        sed 's/^/# stderr: /' "$1"
        return 1
}

mapfile -t files < <(cd "$src" && find . -name '*.nix' -not -path './build*' -not -path './.git/*' | sort)
[ ${#files[@]} -ge 3 ]
ok $? "found .nix files (${#files[@]})"
for f in "${files[@]}"; do
        nix-instantiate --parse "$src/$f" >/dev/null 2>"$work/parse.err"
        rc=$?
        [ $rc -eq 0 ] && quiet "$work/parse.err"
        ok $? "${f#./} parses, nix says nothing else"
done

(cd "$src" && nix-instantiate --eval --strict --json tests/pkg/nix-harness.nix) >"$work/harness.json" 2>"$work/harness.err"
rc=$?
[ $rc -eq 0 ] && quiet "$work/harness.err"
ok $? "the harness evaluates nix/module.nix and nix/package.nix (exit $rc), nix says nothing else"
[ $rc -eq 0 ] || sed 's/^/# /' "$work/harness.err"

# flake.nix's outputs against a stand-in nixpkgs: the package is nix/package.nix called with
# each system's packages, the module is nix/module.nix itself.
(cd "$src" && nix-instantiate --eval --strict --json -E '
let
  flake = import ./flake.nix;
  standIn = system: { callPackage = path: args: { inherit system; path = toString path; }; };
  nixpkgs = {
    lib.genAttrs = names: f: builtins.listToAttrs (map (name: { inherit name; value = f name; }) names);
    legacyPackages = { x86_64-linux = standIn "x86_64-linux"; aarch64-linux = standIn "aarch64-linux"; };
  };
  out = flake.outputs { self = out; inherit nixpkgs; };
in {
  package = out.packages.x86_64-linux.default;
  same = out.packages.aarch64-linux.first-boot-agent == out.packages.aarch64-linux.default;
  module = builtins.isFunction out.nixosModules.default && builtins.functionArgs out.nixosModules.default == builtins.functionArgs (import ./nix/module.nix);
  input = flake.inputs.nixpkgs.url;
}') >"$work/flake.json" 2>"$work/flake.err"
rc=$?
[ $rc -eq 0 ] && quiet "$work/flake.err" && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["package"] == {"system": "x86_64-linux", "path": sys.argv[2] + "/nix/package.nix"}, d
assert d["same"] and d["module"], d
assert d["input"].startswith("github:NixOS/nixpkgs/"), d' "$work/flake.json" "$(cd "$src" && pwd -P)" 2>"$work/flake-check.err"
ok $? "flake.nix: packages.SYSTEM.default is nix/package.nix, nixosModules.default is nix/module.nix (stand-in nixpkgs)"
[ -s "$work/flake-check.err" ] && sed 's/^/# /' "$work/flake.err" "$work/flake-check.err"

# One line per check: "1<TAB>name<TAB>detail"; exit 3 when the answer is not what it must be.
python3 - "$work/harness.json" >"$work/checks.tsv" 2>"$work/checks.err" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    checks = d["checks"]
    assert isinstance(checks, list) and checks, "no checks"
    for c in checks:
        assert isinstance(c["name"], str) and isinstance(c["ok"], bool) and isinstance(c["detail"], str), c
except Exception as e:  # noqa: BLE001 (any way of being unreadable is the same failure)
    print("unreadable harness answer: %r" % (e,), file=sys.stderr)
    sys.exit(3)
for c in checks:
    print("%d\t%s\t%s" % (1 if c["ok"] else 0, c["name"].replace("\t", " "), c["detail"].replace("\t", " ").replace("\n", " ")))
PY
rc=$?
[ $rc -eq 0 ]
ok $? "the harness's answer is readable: $(wc -l <"$work/checks.tsv") checks"
[ $rc -eq 0 ] || sed 's/^/# /' "$work/checks.err"
while IFS=$'\t' read -r good name detail; do
        [ "$good" = 1 ]
        ok $? "$name"
        [ "$good" = 1 ] || [ -z "$detail" ] || echo "#   $detail"
done <"$work/checks.tsv"

echo "1..$n"
exit $fail
