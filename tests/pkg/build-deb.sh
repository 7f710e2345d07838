#!/bin/bash
# SPDX-License-Identifier: MIT
# Builds the Debian binary package from the working tree: copies the tree's files (tracked and
# untracked, without ignored ones) into OUTDIR/deb-HASH/first-boot-agent-VERSION/, puts
# packaging/debian there as ./debian (where dpkg-buildpackage wants it) and runs
# "dpkg-buildpackage -us -uc -b". HASH covers every copied file, so an unchanged tree is built
# once; concurrent callers wait for one another. Prints the path of the .deb.
#
# The unit tests that debian/rules runs (dh_auto_test) are skipped here with
# DEB_BUILD_OPTIONS=nocheck, since the test suite runs them on its own; PKG_DEB_CHECK=1 runs
# them inside the package build as well.
#
# PKG_DEB_ARCH=arm64 (any Debian architecture other than this machine's) cross-builds the
# package for it ("dpkg-buildpackage -a arm64"; the build dependencies of that architecture come
# from tests/setup-deps.sh arm64).
#
#   tests/pkg/build-deb.sh [OUTDIR]      (default: $FBA_BUILD_ROOT/pkg, else ./build-pkg)
set -euo pipefail

. "$(dirname "$0")/lib.sh"
src=$(pkg_source_root)
out=${1:-${FBA_BUILD_ROOT:+$FBA_BUILD_ROOT/pkg}}
out=${out:-$src/build-pkg}

for c in dpkg-buildpackage dpkg-parsechangelog; do
        command -v "$c" >/dev/null || pkg_die "'$c' is not installed (apt-get install dpkg-dev debhelper git)"
done

version=$(dpkg-parsechangelog -l "$src/packaging/debian/changelog" -S Version)
mapfile -t files < <(pkg_tree_files "$src")
[ ${#files[@]} -gt 0 ] || pkg_die "no files found in '$src'"
if [ "${PKG_DEB_CHECK:-0}" = 1 ]; then
        export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-}"
else
        export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
fi
native=$(dpkg --print-architecture)
arch=${PKG_DEB_ARCH:-$native}
build_args=(-us -uc -b)
if [ "$arch" != "$native" ]; then
        build_args+=(-a "$arch")
        # No unit tests in a cross build of the package: the suite runs them under qemu-user.
        export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS#nocheck }"
fi
hash=$(cd "$src" && { printf '%s\n' "$version" "$DEB_BUILD_OPTIONS" "$arch"; sha256sum -- "${files[@]}"; } |
        sha256sum | cut -c1-16)
dir="$out/deb-$hash"
mkdir -p "$out"

(
        flock 9
        if [ ! -f "$dir/.done" ]; then
                rm -rf "$dir"
                tree="$dir/first-boot-agent-${version%%-*}"
                mkdir -p "$tree"
                (cd "$src" && tar -cf - -- "${files[@]}") | tar -xf - -C "$tree"
                rm -rf "$tree/debian"
                cp -a "$tree/packaging/debian" "$tree/debian"
                pkg_log "dpkg-buildpackage ${build_args[*]} in $tree (log: $dir/build.log)"
                if ! (cd "$tree" && dpkg-buildpackage "${build_args[@]}") >"$dir/build.log" 2>&1; then
                        tail -n 40 "$dir/build.log" >&2
                        pkg_die "dpkg-buildpackage failed; full log in $dir/build.log"
                fi
                touch "$dir/.done"
        fi
) 9>"$out/deb.lock"

# Builds of older trees go once they are an hour old (a test may still be using a recent one).
find "$out" -mindepth 1 -maxdepth 1 -type d -name 'deb-*' ! -name "deb-$hash" -mmin +60 \
        -exec rm -rf {} + 2>/dev/null

deb=$(pkg_deb_path "$dir")
[ -n "$deb" ] || pkg_die "no .deb in $dir"
echo "$deb"
