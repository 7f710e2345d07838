#!/bin/bash
# SPDX-License-Identifier: MIT
# packaging/rpm/first-boot-agent.spec builds with "rpmbuild -bb" from a tarball of the tree.
# On Debian the build dependencies are not RPM packages, so --nodeps; no debuginfo package
# (Debian's rpm has no find-debuginfo). Checks the payload and the scriptlets. TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands rpmbuild rpm
src=$(pkg_source_root)
spec="$src/packaging/rpm/first-boot-agent.spec"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

n=0
fail=0
ok() {
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

version=$(sed -n 's/^Version:[[:space:]]*//p' "$spec")
mkdir -p "$work"/{SOURCES,BUILD,RPMS,SRPMS,SPECS} "$work/tree/first-boot-agent-$version"
mapfile -t files < <(pkg_tree_files "$src")
(cd "$src" && tar -cf - -- "${files[@]}") | tar -xf - -C "$work/tree/first-boot-agent-$version"
tar -czf "$work/SOURCES/first-boot-agent-$version.tar.gz" -C "$work/tree" "first-boot-agent-$version"

rpmbuild -bb --nodeps --define "_topdir $work" --define "debug_package %{nil}" "$spec" \
        >"$work/rpmbuild.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -n 30 "$work/rpmbuild.log" | sed 's/^/# /'
ok $rc "rpmbuild -bb --nodeps first-boot-agent.spec"

rpmfile=$(find "$work/RPMS" -name "first-boot-agent-$version-*.rpm" | head -n1)
[ -n "$rpmfile" ]
ok $? "the binary RPM exists"
if [ -n "$rpmfile" ]; then
        echo "# $(basename "$rpmfile"): $(stat -c %s "$rpmfile") bytes"
        payload=$(rpm -qlp "$rpmfile" 2>/dev/null)
        missing=()
        for f in /usr/sbin/first-boot-agent \
                /usr/lib/systemd/system/first-boot-agent.service \
                /usr/lib/systemd/system/first-boot-agent-flash.service \
                /usr/lib/systemd/system/first-boot-agent-failure.service \
                /usr/lib/tmpfiles.d/first-boot-agent.conf \
                /usr/lib/systemd/catalog/first-boot-agent.catalog \
                /usr/share/man/man8/first-boot-agent.8 \
                /usr/share/bash-completion/completions/first-boot-agent \
                /var/lib/first-boot-automation; do
                # (Man pages are compressed where brp-compress runs: not with Debian's rpm.)
                grep -Eqx "$f(\.gz|\.xz|\.bz2)?" <<<"$payload" || missing+=("$f")
        done
        [ ${#missing[@]} -eq 0 ]
        ok $? "the payload holds the program, units, tmpfiles, catalog, man page, completion, state dir"
        for f in "${missing[@]}"; do echo "#   missing: $f"; done
        unit=$(rpm2cpio "$rpmfile" 2>/dev/null | (cd "$work" && cpio -idm --quiet ./usr/lib/systemd/system/first-boot-agent.service 2>/dev/null); cat "$work/usr/lib/systemd/system/first-boot-agent.service" 2>/dev/null)
        grep -qx 'ExecStart=/usr/sbin/first-boot-agent run' <<<"$unit"
        ok $? "the packaged unit runs /usr/sbin/first-boot-agent"
        perms=$(rpm -qlvp "$rpmfile" 2>/dev/null | awk '$NF == "/var/lib/first-boot-automation" { print $1, $3 }')
        [ "$perms" = "drwx------ root" ]
        ok $? "the state directory is 0700 root (got '$perms')"
        scripts=$(rpm -qp --scripts "$rpmfile" 2>/dev/null)
        grep -q 'systemctl --no-reload preset first-boot-agent.service first-boot-agent-flash.service' <<<"$scripts" &&
                grep -q 'systemd-tmpfiles --create first-boot-agent.conf' <<<"$scripts" &&
                grep -q 'journalctl --update-catalog' <<<"$scripts"
        ok $? "scriptlets: preset the units, create the state directory, update the catalog"
        ! grep -Eq 'systemctl[^|;]* (start|restart|try-restart)' <<<"$scripts"
        ok $? "scriptlets never start or restart the units"
fi

echo "1..$n"
exit $fail
