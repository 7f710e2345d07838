#!/bin/bash
# SPDX-License-Identifier: MIT
# packaging/rpm/first-boot-agent.spec builds with "rpmbuild -bb" from a tarball of the tree.
# On Debian the build dependencies are not RPM packages, so --nodeps; no debuginfo package
# (Debian's rpm has no find-debuginfo). Checks the payload and the scriptlets; then installs
# the package with "rpm --root" into a scratch copy of the cached Debian tree (systemd, a
# shell: what the scriptlets need), with a preset that enables the unit as an image would:
# "rpm -V" (every file's mode, owner, digest), the units enabled with their aliases, the state
# directory, the catalog database; then "rpm -e" and what it leaves. TAP output.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
pkg_need_commands rpmbuild rpm rpm2cpio cpio
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

# --- installed into a scratch root ----------------------------------------------------------------
if [ -z "$rpmfile" ]; then
        ok 1 "rpm --root: no package to install"
elif [ "$(id -u)" -ne 0 ]; then
        echo "# rpm --root: not root, the installation checks are left out"
else
        base=$(pkg_rootfs_cached 2>"$work/rootfs.log")
        rc=$?
        sed 's/^/# /' "$work/rootfs.log" | tail -n 5
        ok $rc "a Debian tree with systemd to install into (${base:-none})"
        root="$work/root"
        if [ $rc -eq 0 ] && cp -a "$base" "$root"; then
                mkdir -p "$root/etc/systemd/system-preset"
                echo "enable first-boot-agent.service" >"$root/etc/systemd/system-preset/50-gold-image.preset"
                rpm --root "$root" --initdb &&
                        rpm --root "$root" -i --nodeps "$rpmfile" >"$work/install.log" 2>&1
                rc=$?
                sed 's/^/# /' "$work/install.log"
                ok $rc "rpm --root ROOT -i --nodeps: installed, scriptlets ran in ROOT"
                verify=$(rpm --root "$root" -V --nodeps first-boot-agent 2>&1 | grep -v "^rpm: ")
                [ $rc -eq 0 ] && [ -z "$verify" ]
                ok $? "rpm -V --nodeps: every file as packaged (mode, owner, size, digest)"
                [ -n "$verify" ] && printf '%s\n' "$verify" | sed 's/^/#   /'
                modes=$(cd "$root" && stat -c '%a %U %n' usr/sbin/first-boot-agent usr/lib/systemd/system/first-boot-agent.service \
                        usr/lib/tmpfiles.d/first-boot-agent.conf var/lib/first-boot-automation 2>&1)
                printf '%s\n' "$modes" | sed 's/^/# /'
                [ "$(printf '%s\n' "$modes" | awk '{print $1, $2}' | tr '\n' ' ')" = "755 root 644 root 644 root 700 root " ]
                ok $? "modes: program 0755, unit and tmpfiles 0644, state directory 0700, all root's"
                wants="$root/etc/systemd/system/multi-user.target.wants/first-boot-agent.service"
                [ -L "$wants" ]
                ok $? "%post: the preset enabled first-boot-agent.service (multi-user.target.wants)"
                aliases=0
                for u in chainfire-cluster-join flaredb-cluster-join iam-initial-setup cluster-health-check; do
                        case $(readlink "$root/etc/systemd/system/$u.service") in
                        */first-boot-agent.service) aliases=$((aliases + 1)) ;;
                        esac
                done
                is_n() { [ "$1" = "$2" ]; }
                is_n "$aliases" 4
                ok $? "%post: the four aliases of the older unit names are there ($aliases)"
                [ ! -e "$root/etc/systemd/system/multi-user.target.wants/first-boot-agent-flash.service" ]
                ok $? "%post: the flash unit is not enabled (no preset says so)"
                listed=$(journalctl --root "$root" --list-catalog 2>/dev/null | grep -c 'first-boot')
                [ "${listed:-0}" -ge 10 ]
                ok $? "%post: journalctl --update-catalog put the agent's entries in ROOT's catalog database ($listed)"
                rpm --root "$root" -e first-boot-agent >"$work/erase.log" 2>&1
                rc=$?
                sed 's/^/# /' "$work/erase.log"
                ok $rc "rpm --root ROOT -e: removed, scriptlets ran"
                [ ! -e "$wants" ] && [ ! -e "$root/etc/systemd/system/chainfire-cluster-join.service" ] &&
                        [ ! -e "$root/usr/sbin/first-boot-agent" ]
                ok $? "%preun: the unit disabled, its aliases gone; the files removed"
        fi
fi

echo "1..$n"
exit $fail
