# SPDX-License-Identifier: MIT
# Shared functions of the VM scripts; sourced, never run.

VM_CACHE_DIR=${VM_CACHE_DIR:-/var/cache/first-boot-agent-tests}

vm_log() {
        printf '%s: %s\n' "${0##*/}" "$*" >&2
}

vm_die() {
        vm_log "$*"
        exit 1
}

# vm_need_packages PKG... — installs the Debian packages that are missing (root only).
# Returns 1 when something is missing and cannot be installed.
vm_need_packages() {
        local missing=() p
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
                        missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" -ne 0 ]; then
                vm_log "missing packages: ${missing[*]} (run as root, or apt-get install them)"
                return 1
        fi
        vm_log "installing: ${missing[*]}"
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                "${missing[@]}" >&2; then
                DEBIAN_FRONTEND=noninteractive apt-get update >&2 || return 1
                DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
                        "${missing[@]}" >&2 || return 1
        fi
}

# The packages every VM script needs on the host.
VM_HOST_PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static ipxe-qemu kmod cpio python3)

# vm_kernel_version — the version of the kernel the linux-image-amd64 package points to (not the
# host's running kernel); $VM_KERNEL_VERSION overrides.
vm_kernel_version() {
        if [ -n "${VM_KERNEL_VERSION:-}" ]; then
                echo "$VM_KERNEL_VERSION"
                return 0
        fi
        local dep v
        dep=$(dpkg-query -W -f='${Depends}' linux-image-amd64 2>/dev/null) || true
        v=$(printf '%s\n' "$dep" | tr ',|' '\n\n' | sed -n 's/^ *linux-image-\([^ ]*\).*/\1/p' | head -n1)
        if [ -z "$v" ] || [ ! -d "/lib/modules/$v" ]; then
                # Fall back to the newest Debian kernel with modules.
                v=$(ls -1 /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|^/boot/vmlinuz-||' | sort -V | tail -n1)
        fi
        [ -n "$v" ] && [ -d "/lib/modules/$v" ] || return 1
        echo "$v"
}

vm_kernel_path() {
        local v
        v=$(vm_kernel_version) || return 1
        [ -r "/boot/vmlinuz-$v" ] || return 1
        echo "/boot/vmlinuz-$v"
}

# vm_hash_files FILE... — one SHA-256 over the names and contents of the given files.
vm_hash_files() {
        local f
        for f in "$@"; do
                printf '%s\n' "$f"
                sha256sum <"$f"
        done | sha256sum | cut -d' ' -f1
}

# vm_foreign_exec ARCH — makes this machine run ARCH's programs (a chroot into an arm64 tree:
# debootstrap's second stage, dpkg -i) through qemu-user-static's binfmt_misc entry, registered
# with the F flag (the interpreter is opened once, so it works inside any chroot). Registers it
# when it is not (mounting binfmt_misc first if needed); returns 1, saying why, when it cannot.
vm_foreign_exec() {
        local arch=$1 q conf
        case $arch in
        "$(dpkg --print-architecture)") return 0 ;;
        arm64) q=qemu-aarch64 ;;
        *) vm_log "no qemu-user name known for architecture '$arch'"; return 1 ;;
        esac
        conf=/usr/lib/binfmt.d/$q.conf
        [ -r "$conf" ] || { vm_log "no $conf: install qemu-user-static (tests/setup-deps.sh arm64)"; return 1; }
        if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
                mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc 2>/dev/null || {
                        vm_log "binfmt_misc is not mounted and cannot be (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc as root)"
                        return 1
                }
        fi
        if [ ! -e "/proc/sys/fs/binfmt_misc/$q" ]; then
                grep -v '^#' "$conf" >/proc/sys/fs/binfmt_misc/register 2>/dev/null || {
                        vm_log "cannot register $conf with binfmt_misc (update-binfmts --enable $q, or systemd-binfmt)"
                        return 1
                }
                vm_log "registered $q with binfmt_misc ($conf)"
        fi
        grep -qx enabled "/proc/sys/fs/binfmt_misc/$q" || {
                vm_log "binfmt_misc entry $q is disabled (echo 1 >/proc/sys/fs/binfmt_misc/$q)"
                return 1
        }
}

# vm_free_port — a free TCP port on 127.0.0.1 (the guest reaches it at 10.0.2.2).
vm_free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# vm_wait_file FILE SECONDS
vm_wait_file() {
        local i=0
        while [ ! -s "$1" ]; do
                i=$((i + 1))
                [ "$i" -gt $(($2 * 10)) ] && return 1
                sleep 0.1
        done
}
