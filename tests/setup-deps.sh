#!/bin/bash
# shellcheck disable=SC2034  # the package lists below are read through a name reference
# SPDX-License-Identifier: MIT
# Installs the Debian 12 packages a profile needs (as root). Safe to run again: what is already
# installed is not asked for.
#
#   tests/setup-deps.sh [PROFILE…]        (default: suite)
#
#   build   the compiler, meson and the libraries the agent links against
#   demo    build, and what tests/demo.sh runs (test servers, certificates, a loop-device flash)
#   arm64   build, and the arm64 cross build: dpkg's arm64 architecture (multiarch), the
#           cross compiler, the arm64 -dev packages, qemu-user (the tests run the arm64 agent
#           under it), and the emulated board: qemu-system-arm, U-Boot for QEMU, mkenvimage
#   suite   demo, arm64, and every tool the test suite calls: clang for the sanitizer build,
#           etcd, iproute2, nginx, the packaging tools, systemd-nspawn, debootstrap, nix, QEMU
#   bench   suite, and the tools tests/bench/ compares against (bmaptool, hyperfine)
#
# Services the packages bring (etcd, nginx) are not started; dpkg does not sync every file it
# unpacks. apt's output goes to a log file ($FBA_SETUP_LOG, default
# /var/tmp/first-boot-agent-setup-deps.log); on failure its last lines are shown.
set -euo pipefail

# The packages of each profile, and the profiles it includes. A new profile (say, the
# monitoring tests') is one more array and one more line in `includes`.
build=(
        gcc libc6-dev meson ninja-build pkg-config
        libsystemd-dev libcurl4-openssl-dev libjansson-dev libyaml-dev libblkid-dev libudev-dev
        libssl-dev libzstd-dev liblzma-dev zlib1g-dev
)
demo=(
        python3 openssl curl fdisk e2fsprogs zstd mount
)
suite=(
        # the sanitizer build and the fuzzers
        clang libclang-rt-14-dev
        # test servers and the tools the tests call
        procps time util-linux iproute2 xz-utils gzip tar cpio kmod dmsetup
        etcd-server etcd-client nginx
        faketime                                # identity-binding: a clock before the build time
        strace                                  # scenario-metrics: a done node opens no metrics file
        prometheus prometheus-node-exporter     # the metrics tests: promtool, node_exporter's textfile collector
        # systemd, packaging and boot-level tests
        systemd systemd-container dbus debootstrap build-essential dpkg-dev debhelper lintian rpm nix-bin git
        bash-completion
        # the VM tests (QEMU guests)
        qemu-system-x86 qemu-utils linux-image-amd64 busybox-static ipxe-qemu
)
# Packages named NAME:arm64 are of the foreign architecture; the profile adds it to dpkg.
arm64=(
        crossbuild-essential-arm64 pkgconf:arm64
        libsystemd-dev:arm64 libcurl4-openssl-dev:arm64 libjansson-dev:arm64 libyaml-dev:arm64 libblkid-dev:arm64
        libudev-dev:arm64 libssl-dev:arm64 libzstd-dev:arm64 liblzma-dev:arm64 zlib1g-dev:arm64
        qemu-user-static file libfaketime:arm64
        # the emulated board (tests/vm/board-arm64.sh): its firmware, environment and kernel modules
        qemu-system-arm u-boot-qemu u-boot-tools make xz-utils
)
bench=(
        bmap-tools hyperfine
)
declare -A includes=(
        [build]="build"
        [demo]="build demo"
        [arm64]="build arm64"
        [suite]="build demo arm64 suite"
        [bench]="build demo arm64 suite bench"
)

usage() {
        sed -n "/^#   tests\/setup-deps.sh/,/^# Services/p" "$0" | sed -e "s/^# \{0,1\}//" -e "/^Services/d"
}

profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(suite)
packages=()
for p in "${profiles[@]}"; do
        case $p in -h | --help) usage; exit 0 ;; esac
        if [ -z "${includes[$p]:-}" ]; then
                echo "tests/setup-deps.sh: unknown profile '$p': expected one of ${!includes[*]}." >&2
                exit 2
        fi
        for list in ${includes[$p]}; do
                declare -n ref=$list
                packages+=("${ref[@]}")
                unset -n ref
        done
done

if [ "$(id -u)" -ne 0 ]; then
        echo "tests/setup-deps.sh: run as root (it installs packages with apt-get)." >&2
        exit 1
fi

# A foreign architecture a package names (NAME:ARCH) is added to dpkg first: until then dpkg
# knows no package of it, and apt's lists hold none.
add_arch=()
for p in "${packages[@]}"; do
        case $p in
        *:*) a=${p#*:}
             dpkg --print-foreign-architectures | grep -qx "$a" || case " ${add_arch[*]} " in
                *" $a "*) ;;
                *) add_arch+=("$a") ;;
             esac ;;
        esac
done

missing=()
for p in "${packages[@]}"; do
        case " ${missing[*]} " in *" $p "*) continue ;; esac
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
        echo "Profile ${profiles[*]}: all its packages are installed."
        exit 0
fi

log=${FBA_SETUP_LOG:-/var/tmp/first-boot-agent-setup-deps.log}
echo "Profile ${profiles[*]}: installing ${#missing[@]} package(s) and what they need (apt's output: $log):"
echo "  ${missing[*]}" | fold -s -w 96 | sed '2,$s/^/  /'
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
failed() {
        echo "tests/setup-deps.sh: $1 failed; the last lines of $log:" >&2
        tail -n 25 "$log" >&2
        exit 1
}
: >"$log"
for a in "${add_arch[@]}"; do
        echo "  dpkg --add-architecture $a"
        dpkg --add-architecture "$a" || failed "dpkg --add-architecture $a"
done
# No lists, lists older than a day, or an architecture just added: read them again first.
if [ ${#add_arch[@]} -gt 0 ] ||
        [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
        apt-get update -q >>"$log" 2>&1 || failed "apt-get update"
fi
# Services that come with the packages (etcd, nginx) are not started: the tests start their own.
# Unless the machine has a policy already, one that says so is in place while apt runs.
if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\n# tests/setup-deps.sh: no service starts while it installs.\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
# The kernel package is for the VM tests' guests, which get an initramfs of the tests' making.
# Where the running kernel was not booted from this root (a chroot, a container), Debian's
# initramfs for it is not built (minutes of work nobody uses); on a machine booted from this
# root it is, as the boot loader may pick the new kernel.
[ -e "/boot/vmlinuz-$(uname -r)" ] || export INITRD=No
# dpkg without an fsync per file (--force-unsafe-io): several times faster on a busy disk; a
# power cut during the install may leave a package to install again.
install() {
        apt-get install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 \
                -o Dpkg::Options::=--force-unsafe-io "${missing[@]}" </dev/null >>"$log" 2>&1
}
if ! install; then
        # Lists that name packages the mirror no longer has: read them again, once.
        apt-get update -q >>"$log" 2>&1 || failed "apt-get update"
        install || failed "apt-get install"
fi
echo "  done in $(($(date +%s) - start)) s ($(grep -c '^Setting up ' "$log") package(s) set up)."
