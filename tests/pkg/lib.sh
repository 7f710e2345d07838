# SPDX-License-Identifier: MIT
# Shared helpers for the packaging and nspawn tests; sourced, never run.

PKG_CACHE_DIR=${PKG_CACHE_DIR:-/var/cache/first-boot-agent-tests}
PKG_SUITE=${PKG_SUITE:-bookworm}
PKG_INCLUDE=${PKG_INCLUDE:-systemd,systemd-sysv,dbus}

pkg_log() {
        printf '%s: %s\n' "${0##*/}" "$*" >&2
}

pkg_die() {
        pkg_log "$*"
        exit 1
}

# pkg_skip REASON — a TAP plan that skips the whole test.
pkg_skip() {
        echo "1..0 # SKIP $*"
        exit 0
}

pkg_source_root() {
        if [ -n "${FBA_SOURCE_ROOT:-}" ]; then
                echo "$FBA_SOURCE_ROOT"
        else
                (cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
        fi
}

pkg_need_root() {
        [ "$(id -u)" -eq 0 ] || pkg_skip "needs root"
}

# pkg_need_commands CMD... — skips the test when a tool is missing.
pkg_need_commands() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || pkg_skip "'$c' is not installed"
        done
}

# pkg_apt_mirror [SUITE] — the archive URI this machine's apt sources use for SUITE's "main"
# component, read at run time (deb822 .sources and one-line .list files).
pkg_apt_mirror() {
        local suite=${1:-$PKG_SUITE} f
        local files=()
        [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
        for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
                [ -f "$f" ] && files+=("$f")
        done
        [ ${#files[@]} -gt 0 ] || return 1
        python3 - "$suite" "${files[@]}" <<'EOF'
import sys

suite, files = sys.argv[1], sys.argv[2:]

def stanzas(text):
    cur = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur:
                yield cur
            cur = {}
            continue
        if line[0] in " \t" or ":" not in line:
            continue
        k, v = line.split(":", 1)
        cur[k.strip().lower()] = v.strip()
    if cur:
        yield cur

for path in files:
    text = open(path, encoding="utf-8", errors="replace").read()
    if path.endswith(".sources"):
        for s in stanzas(text):
            if "deb" not in s.get("types", "").split():
                continue
            if suite in s.get("suites", "").split() and "main" in s.get("components", "").split():
                print(s["uris"].split()[0])
                sys.exit(0)
    else:
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if not words or words[0] != "deb":
                continue
            words = [w for w in words[1:] if not w.startswith("[")]
            if len(words) >= 3 and words[1] == suite and "main" in words[2:]:
                print(words[0])
                sys.exit(0)
sys.exit(1)
EOF
}

# pkg_rootfs_cached — prints the path of a cached minimal Debian tree with systemd, made with
# debootstrap once and kept outside the source tree, keyed by everything that went into it.
pkg_rootfs_cached() {
        local mirror key dir lock tmp
        mirror=$(pkg_apt_mirror "$PKG_SUITE") || {
                pkg_log "no apt source for '$PKG_SUITE' main found in /etc/apt"
                return 1
        }
        key=$(printf '%s\n' "v1" "$PKG_SUITE" "minbase" "$PKG_INCLUDE" "$mirror" "$(dpkg --print-architecture)" |
                sha256sum | cut -c1-16)
        dir="$PKG_CACHE_DIR/debootstrap-$key"
        mkdir -p "$PKG_CACHE_DIR"
        lock="$dir.lock"
        (
                flock 9
                if [ -f "$dir/.complete" ]; then
                        exit 0
                fi
                tmp="$dir.tmp"
                rm -rf "$tmp" "$dir"
                pkg_log "debootstrap $PKG_SUITE into $dir (mirror $mirror, once)"
                debootstrap --variant=minbase --include="$PKG_INCLUDE" "$PKG_SUITE" "$tmp" "$mirror" >&2 ||
                        exit 1
                # A clean image: no machine id (systemd makes one per boot), apt lists dropped.
                : >"$tmp/etc/machine-id"
                rm -rf "$tmp/var/lib/apt/lists/"* "$tmp/var/cache/apt/archives/"*.deb
                printf '%s\n' "$PKG_SUITE minbase $PKG_INCLUDE $mirror" >"$tmp/.complete"
                mv "$tmp" "$dir"
        ) 9>"$lock" || return 1
        echo "$dir"
}

# pkg_deb_depends DEB — the package names the .deb depends on (first of each alternative).
pkg_deb_depends() {
        dpkg-deb -f "$1" Depends | tr ',' '\n' | sed -e 's/|.*//' -e 's/(.*)//' -e 's/[[:space:]]//g' |
                grep -v '^$' | sort -u
}

# pkg_rootfs_with_packages PKG... — prints the path of a cached copy of pkg_rootfs_cached with
# PKG... installed by apt inside it (the tree's own apt sources, the host's network), keyed by
# the base tree and the package list.
pkg_rootfs_with_packages() {
        local base key dir tmp
        base=$(pkg_rootfs_cached) || return 1
        key=$(printf '%s\n' "v1" "$base" "$@" | sha256sum | cut -c1-16)
        dir="$PKG_CACHE_DIR/rootfs-deps-$key"
        (
                flock 9
                [ -f "$dir/.complete" ] && exit 0
                tmp="$dir.tmp"
                rm -rf "$tmp" "$dir"
                pkg_log "installing $* into a copy of $base (once)"
                cp -a "$base" "$tmp" || exit 1
                rm -f "$tmp/.complete"
                systemd-nspawn -q -D "$tmp" --register=no --keep-unit --pipe /bin/sh -ec '
                        export DEBIAN_FRONTEND=noninteractive
                        apt-get -q update
                        apt-get -q install -y --no-install-recommends "$@"
                        apt-get clean
                        rm -rf /var/lib/apt/lists/*' sh "$@" </dev/null >&2 || exit 1
                : >"$tmp/etc/machine-id"
                printf '%s\n' "$@" >"$tmp/.complete"
                mv "$tmp" "$dir"
        ) 9>"$dir.lock" || return 1
        # Trees for package lists no longer used in a week go.
        touch "$dir/.complete"
        find "$PKG_CACHE_DIR" -mindepth 1 -maxdepth 1 -type d -name 'rootfs-deps-*' ! -name "${dir##*/}" \
                ! -newermt '7 days ago' -exec rm -rf {} + 2>/dev/null
        echo "$dir"
}

# pkg_tree_files SRC — the files a package is built from, relative to SRC, sorted: from git when
# SRC is a checkout (tracked and untracked, without ignored files), else every file; never
# build directories.
pkg_tree_files() {
        local src=$1
        (
                cd "$src" || exit 1
                if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
                        git ls-files -co --exclude-standard
                else
                        find . -type f -not -path './.git/*' | sed 's|^\./||'
                fi | while read -r f; do
                        [ -f "$f" ] && [ "${f#build}" = "$f" ] && printf '%s\n' "$f"
                done | sort
        )
}

# pkg_deb_path DIR — the newest first-boot-agent .deb in DIR (not the debug symbols).
pkg_deb_path() {
        local out=$1
        ls -1t "$out"/first-boot-agent_*.deb 2>/dev/null | grep -v dbgsym | head -n1
}
