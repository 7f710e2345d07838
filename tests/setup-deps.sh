#!/bin/bash
# Installs everything the build, the demo and the test suite need on Debian 12 (as root).
# Safe to run again: apt-get skips what is already there.
set -euo pipefail

packages=(
        # build
        build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
        libsystemd-dev libcurl4-openssl-dev libjansson-dev libblkid-dev libudev-dev
        libssl-dev libzstd-dev liblzma-dev zlib1g-dev
        # test servers and tools
        python3 openssl curl procps time util-linux fdisk e2fsprogs zstd xz-utils gzip
        etcd-server etcd-client bmap-tools hyperfine faketime
        prometheus prometheus-node-exporter     # the metrics tests: promtool, node_exporter's textfile collector
        # systemd, packaging and boot-level tests
        systemd systemd-container dbus debootstrap dpkg-dev debhelper lintian rpm nix-bin
        qemu-system-x86 qemu-utils linux-image-amd64 busybox-static ipxe-qemu cpio kmod
        bash-completion dmsetup tar
)

if [ "$(id -u)" -ne 0 ]; then
        echo "tests/setup-deps.sh: run as root (it installs packages with apt-get)." >&2
        exit 1
fi

missing=()
for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
        echo "All ${#packages[@]} packages are installed."
        exit 0
fi

echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
