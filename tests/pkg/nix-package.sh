#!/bin/bash
# SPDX-License-Identifier: MIT
# nix/package.nix without Nix building it (nixpkgs is not available offline): the derivation's
# inputs and meson flags, as tests/pkg/nix-harness.nix evaluates them, against the tree.
#   - every dependency() of the meson files has its nixpkgs input, and every input is used;
#   - meson, with exactly the derivation's flags and $out as the prefix, configures, builds and
#     installs (DESTDIR) the package; every path of the package that nix/module.nix uses is in
#     that install, nothing lands outside $out, and the units run $out/bin/first-boot-agent.
# TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands nix-instantiate python3 meson ninja
src=$(pkg_source_root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export NIX_CONFIG="build-users-group ="

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

(cd "$src" && nix-instantiate --eval --strict --json -A package tests/pkg/nix-harness.nix) >"$work/package.json" 2>"$work/eval.err"
rc=$?
[ $rc -eq 0 ] && [ ! -s "$work/eval.err" ]
ok $? "the harness evaluates nix/package.nix"
sed 's/^/# /' "$work/eval.err"
get() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); v = d[sys.argv[2]]; print("\n".join(v) if isinstance(v, list) else v)' "$work/package.json" "$1"; }
out=$(get out) || { echo "Bail out! the harness's package answer is unreadable"; exit 1; }

# The pkg-config names of meson.build and units/meson.build, and the nixpkgs package of each.
python3 - "$src" "$work/package.json" >"$work/inputs.txt" <<'PY'
import json, re, sys
src, pkg = sys.argv[1], json.load(open(sys.argv[2]))
provider = {"libsystemd": "systemd", "libudev": "systemd", "systemd": "systemd", "libcurl": "curl",
            "jansson": "jansson", "yaml-0.1": "libyaml", "blkid": "util-linux", "libcrypto": "openssl", "libzstd": "zstd",
            "liblzma": "xz", "zlib": "zlib", "threads": None}
deps = set()
for f in ("meson.build", "units/meson.build"):
    deps |= set(re.findall(r"dependency\(\s*'([^']+)'", open("%s/%s" % (src, f)).read()))
unknown = sorted(d for d in deps if d not in provider)
needed = {provider[d] for d in deps if provider.get(d)}
have = set(pkg["buildInputs"])
print("unknown\t" + " ".join(unknown))
print("missing\t" + " ".join(sorted(needed - have)))
print("unused\t" + " ".join(sorted(have - needed)))
print("native\t" + " ".join(sorted({"meson", "ninja", "pkg-config"} - set(pkg["nativeBuildInputs"]))))
print("deps\t" + " ".join(sorted(deps)))
PY
field() { sed -n "s/^$1\t//p" "$work/inputs.txt"; }
echo "# meson dependencies: $(field deps)"
[ -z "$(field unknown)" ]
ok $? "every meson dependency() has a known nixpkgs provider (unknown: '$(field unknown)')"
[ -z "$(field missing)" ] && [ -n "$(field deps)" ]
ok $? "buildInputs provide every meson dependency (missing: '$(field missing)')"
[ -z "$(field unused)" ]
ok $? "every buildInput is a meson dependency (unused: '$(field unused)')"
[ -z "$(field native)" ]
ok $? "nativeBuildInputs: meson, ninja, pkg-config (missing: '$(field native)')"

# The install layout: the derivation's own flags, $out as the prefix.
mapfile -t flags < <(get mesonFlags)
meson setup "$work/build" "$src" --prefix="$out" "${flags[@]}" >"$work/setup.log" 2>&1 &&
        meson compile -C "$work/build" >"$work/compile.log" 2>&1 &&
        DESTDIR="$work/dest" meson install -C "$work/build" --no-rebuild >"$work/install.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 20 "$work"/*.log | sed 's/^/# /'
ok $rc "meson setup --prefix=\$out ${flags[*]}; compile; install"
missing=()
while read -r p; do
        [ -e "$work/dest$out/$p" ] || missing+=("$p")
done < <(get modulePaths)
[ ${#missing[@]} -eq 0 ] && [ $rc -eq 0 ]
ok $? "every package path nix/module.nix uses is installed ($(get modulePaths | tr '\n' ' '))"
for p in "${missing[@]}"; do echo "#   missing: $p"; done
outside=$(cd "$work/dest" 2>/dev/null && find . -type f -o -type l | grep -v "^\.$out/" | head -n 5)
[ $rc -eq 0 ] && [ -z "$outside" ]
ok $? "nothing is installed outside \$out${outside:+ ($outside)}"
[ $rc -eq 0 ] && [ -e "$work/dest$out/share/man/man8/first-boot-agent.8" ] &&
        [ -e "$work/dest$out/share/bash-completion/completions/first-boot-agent" ]
ok $? "the man page and the bash completion are in \$out/share"
grep -qx "ExecStart=$out/bin/first-boot-agent run" "$work/dest$out/lib/systemd/system/first-boot-agent.service" 2>/dev/null
ok $? "the packaged unit runs \$out/bin/first-boot-agent"

echo "1..$n"
exit $fail
