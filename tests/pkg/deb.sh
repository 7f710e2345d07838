#!/bin/bash
# SPDX-License-Identifier: MIT
# The Debian package: builds with "dpkg-buildpackage -us -uc -b" (tests/pkg/build-deb.sh),
# lintian reports no error (warnings are printed), and the package holds what it should, with
# maintainer scripts that enable the units without starting them. TAP output.
#
#   tests/pkg/deb.sh [ARCH]
#
# With an ARCH other than this machine's (arm64: the cross build's deb-arm64) the package is
# cross-built for it (build-deb.sh with PKG_DEB_ARCH): its control file and its program must
# say so, and the program runs under $FBA_EXEC_WRAPPER (qemu-user).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands dpkg-buildpackage dpkg-deb lintian file
arch=${1:-$(dpkg --print-architecture)}
export PKG_DEB_ARCH=$arch
# What file(1) says of a program of each architecture the suite builds for.
declare -A elf_machine=([amd64]="x86-64" [arm64]="ARM aarch64")
[ -n "${elf_machine[$arch]:-}" ] || pkg_skip "no ELF machine name known for architecture '$arch'"
run=()
if [ "$arch" != "$(dpkg --print-architecture)" ]; then
        [ -n "${FBA_EXEC_WRAPPER:-}" ] || pkg_skip "a $arch package needs FBA_EXEC_WRAPPER (qemu-user) to run its program"
        run=("$FBA_EXEC_WRAPPER")
fi
src=$(pkg_source_root)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

deb=$("$src/tests/pkg/build-deb.sh" 2>"$work/build.err")
rc=$?
sed 's/^/# /' "$work/build.err"
ok $rc "dpkg-buildpackage -us -uc -b builds the package for $arch"
if [ $rc -ne 0 ] || [ ! -f "$deb" ]; then
        echo "1..$n"
        exit 1
fi
dir=$(dirname "$deb")
echo "# $(basename "$deb"): $(stat -c %s "$deb") bytes, installed size $(dpkg-deb -f "$deb" Installed-Size) KiB"
[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ]
ok $? "the control file says Architecture: $arch (found '$(dpkg-deb -f "$deb" Architecture)')"

changes=$(ls "$dir"/*.changes | head -n1)
# As root lintian warns about itself; that line is not about the package.
lintian --pedantic --tag-display-limit 0 "$changes" >"$work/lintian" 2>&1
grep -v '^running with root privileges' "$work/lintian" | sed 's/^/# lintian: /'
! grep -q '^E: ' "$work/lintian"
ok $? "lintian reports no error ($(grep -c '^E: ' "$work/lintian") errors, $(grep -c '^W: ' "$work/lintian") warnings)"

contents=$(dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|')
missing=()
for f in /usr/sbin/first-boot-agent \
        /lib/systemd/system/first-boot-agent.service \
        /lib/systemd/system/first-boot-agent-flash.service \
        /lib/systemd/system/first-boot-agent-failure.service \
        /usr/lib/tmpfiles.d/first-boot-agent.conf \
        /usr/lib/systemd/catalog/first-boot-agent.catalog \
        /usr/share/man/man8/first-boot-agent.8.gz \
        /usr/share/bash-completion/completions/first-boot-agent; do
        grep -qx "$f" <<<"$contents" || missing+=("$f")
done
[ ${#missing[@]} -eq 0 ]
ok $? "the package holds the program, units, tmpfiles, catalog, man page and completion"
for f in "${missing[@]}"; do echo "#   missing: $f"; done

dpkg-deb -e "$deb" "$work/control"
grep -q "deb-systemd-helper enable 'first-boot-agent.service'" "$work/control/postinst" &&
        grep -q "deb-systemd-helper enable 'first-boot-agent-flash.service'" "$work/control/postinst"
ok $? "postinst enables first-boot-agent.service and first-boot-agent-flash.service"
! grep -q "first-boot-agent-failure" "$work/control/postinst"
ok $? "postinst leaves the OnFailure= unit alone (it has no [Install])"
grep -q "systemd-tmpfiles .*--create first-boot-agent.conf" "$work/control/postinst"
ok $? "postinst creates the state directory through tmpfiles.d"
! cat "$work/control"/{preinst,postinst,prerm,postrm} 2>/dev/null | grep -Eq 'deb-systemd-invoke (start|restart|try-restart)'
ok $? "no maintainer script starts or restarts a unit"

dpkg-deb -x "$deb" "$work/root"
grep -qx 'ExecStart=/usr/sbin/first-boot-agent run' "$work/root/lib/systemd/system/first-boot-agent.service"
ok $? "the packaged unit runs /usr/sbin/first-boot-agent"
what=$(file -b "$work/root/usr/sbin/first-boot-agent")
echo "# file: $what"
[[ $what == *"ELF 64-bit LSB pie executable, ${elf_machine[$arch]},"* ]]
ok $? "the packaged program is an ${elf_machine[$arch]} PIE executable"
"${run[@]}" "$work/root/usr/sbin/first-boot-agent" --version >/dev/null
ok $? "the packaged program runs (--version${run:+, under ${run[*]}})"

echo "1..$n"
exit $fail
