#!/bin/bash
# SPDX-License-Identifier: MIT
# Self-test of the VM harness (TAP): a guest with mtdram, an NVMe disk with a serial, the
# network to a host HTTP server, the exit code on the console, and the timeout.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! vm_need_packages "${VM_HOST_PACKAGES[@]}"; then
        echo "1..0 # SKIP VM packages missing and not installable"
        exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/vm-harness.XXXXXX")
httpd_pid=
cleanup() {
        [ -n "$httpd_pid" ] && kill "$httpd_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

n=0
failed=0
ok() {  # ok COND-EXIT-STATUS DESCRIPTION
        n=$((n + 1))
        if [ "$1" -eq 0 ]; then
                echo "ok $n - $2"
        else
                echo "not ok $n - $2"
                failed=$((failed + 1))
        fi
}

echo "1..9"

# A file for the guest to fetch from the host.
mkdir -p "$work/www"
head -c 300000 /dev/urandom >"$work/www/blob"
blob_sha=$(sha256sum <"$work/www/blob" | cut -d' ' -f1)
port=$(vm_free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$work/www" "$port" >"$work/httpd.log" 2>&1 &
httpd_pid=$!
for _ in $(seq 50); do
        python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/blob')" \
                2>/dev/null && break
        sleep 0.1
done

cat >"$work/guest.sh" <<'EOF'
#!/bin/sh
# Prints "check: NAME ok|fail ..." lines; exits with the number of failures.
fails=0
check() {
        if [ "$2" = 0 ]; then echo "check: $1 ok"; else echo "check: $1 fail $3"; fails=$((fails + 1)); fi
}
modprobe mtdram total_size="$MTD_KB" erase_size="$MTD_ERASE_KB"
[ -c /dev/mtd0 ]; check mtd-device $? "(no /dev/mtd0)"
name=$(cat /sys/class/mtd/mtd0/name 2>/dev/null)
[ "$name" = "mtdram test device" ]; check mtd-name $? "('$name')"
size=$(cat /sys/class/mtd/mtd0/size 2>/dev/null)
[ "$size" = $((MTD_KB * 1024)) ]; check mtd-size $? "($size)"
[ -b /dev/nvme0n1 ]; check nvme-device $? "(no /dev/nvme0n1)"
serial=$(sed 's/ *$//' /sys/block/nvme0n1/device/serial 2>/dev/null)
[ "$serial" = "$NVME_SERIAL" ]; check nvme-serial $? "('$serial')"
wget -q -O /tmp/blob "http://10.0.2.2:$HTTP_PORT/blob"
got=$(sha256sum /tmp/blob 2>/dev/null | cut -d' ' -f1)
[ "$got" = "$BLOB_SHA" ]; check http-fetch $? "(sha $got)"
exit "$fails"
EOF
chmod +x "$work/guest.sh"

"$here/make-initramfs.sh" "$work/initrd.gz" --init "$work/guest.sh" --modules mtdram --load nvme \
        >&2
ok $? "make-initramfs builds a busybox initramfs with mtdram and nvme"

truncate -s 64M "$work/nvme.img"
serial="FBA-VM-$$"
t0=$(date +%s)
"$here/run-guest.sh" --initrd "$work/initrd.gz" --nvme "$work/nvme.img:$serial" \
        --append "vm.env.MTD_KB=4096 vm.env.MTD_ERASE_KB=64 vm.env.NVME_SERIAL=$serial" \
        --append "vm.env.HTTP_PORT=$port vm.env.BLOB_SHA=$blob_sha" \
        --timeout 300 --log "$work/console.log"
rc=$?
echo "# guest boot took $(($(date +%s) - t0))s, exit code $rc"
for c in mtd-device mtd-name mtd-size nvme-device nvme-serial http-fetch; do
        line=$(grep -a "^check: $c " "$work/console.log" | tr -d '\r')
        [ "${line#check: $c }" = ok ]
        ok $? "guest: $c ${line#check: $c }"
done
ok $((rc != 0)) "the guest script's exit code (0) is returned"

# The timeout: a guest that never ends is killed.
printf '#!/bin/sh\nsleep 1000\n' >"$work/hang.sh"
chmod +x "$work/hang.sh"
"$here/make-initramfs.sh" "$work/hang.gz" --init "$work/hang.sh" --no-net >&2
t0=$(date +%s)
"$here/run-guest.sh" --initrd "$work/hang.gz" --timeout 20 2>&1 | sed 's/^/# /'
rc=${PIPESTATUS[0]}
took=$(($(date +%s) - t0))
[ "$rc" -eq 124 ] && [ "$took" -lt 40 ]
ok $? "a hanging guest is killed at its timeout (exit $rc after ${took}s)"

if [ "$failed" -ne 0 ]; then
        echo "# console log of the main guest:"
        sed 's/^/# /' "$work/console.log"
fi
exit 0
