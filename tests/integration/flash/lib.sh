# SPDX-License-Identifier: MIT
# Shared helpers of the flasher's integration tests (sourced, not run). Each test is one TAP
# script running the real agent ($FBA_BIN) against tests/server/imaged.py on loopback, writing
# to loop devices, in its own temporary directory and its own 127.20.N.0/24 block:
#
#   .1  the image server (:8080) and its control API (:9000)
#   .2  the report sink (clusterd.py, :8000) and its control API (:9001)
#
# Usage:
#   . "$(dirname "$0")/lib.sh"
#   flash_init 3 "what this test checks"       # block 127.20.3.0/24
#   make_disk_image "$tmp/disk.img" 64
#   publish "$tmp/disk.img"                     # raw, .zst, .xz, .gz in the served directory
#   imaged_start
#   dev=$(new_loop 80)
#   flash_config "$tmp/cfg.json" "$(image_entry system disk.img.zst "$tmp/srv/disk.img.zst" "$tmp/target1.img")"
#   fba flash; is $? 0 "…"
#   tap_done

set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
FBA_BIN=${FBA_BIN:-$src/build/agent/first-boot-agent}
imaged="$src/tests/server/imaged.py"
clusterd="$src/tests/server/clusterd.py"
gencerts="$src/tests/server/gen-certs.sh"

# --- TAP ------------------------------------------------------------------------------------
. "$src/tests/tap.sh"

# --- set-up -----------------------------------------------------------------------------------
loops=()
pids=()

flash_cleanup() {
        local p l
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
        [ -f "${tmp:-}/loops" ] && mapfile -t -O "${#loops[@]}" loops <"$tmp/loops"
        for l in "${loops[@]}"; do
                umount "$l"* 2>/dev/null
                partx -d "$l" 2>/dev/null
                losetup -d "$l" 2>/dev/null
        done
        [ -n "${tmp:-}" ] && rm -rf "$tmp"
}

# flash_init N DESCRIPTION: checks what the tests need, makes $tmp, picks 127.20.N.0/24 (or the
# /24 whose first three parts N gives, as in 127.76.1).
flash_init() {
        local p
        [ "$(id -u)" -eq 0 ] || skip_all "needs root (loop devices)"
        [ -e /dev/loop-control ] || skip_all "no loop device support (/dev/loop-control is missing: modprobe loop)"
        for p in python3 sfdisk mkfs.ext4 zstd xz gzip losetup partx blkid openssl curl; do
                command -v "$p" >/dev/null || skip_all "$p not installed"
        done
        losetup -f >/dev/null 2>&1 || skip_all "no loop device can be attached here (losetup -f finds none)"
        [ -x "$FBA_BIN" ] || bail "no agent binary at $FBA_BIN"
        case $1 in
        *.*) block=$1 ;;                # a whole prefix: 127.76.1
        *) block=127.20.$1 ;;
        esac
        ip_server=$block.1
        ip_report=$block.2
        tmp=$(mktemp -d /var/tmp/fba-flash-XXXXXX)
        mkdir -p "$tmp/srv" "$tmp/state"
        trap flash_cleanup EXIT
        trap 'exit 130' INT TERM
        diag "$2"
}

# make_disk_image OUT SIZE_MIB: a GPT disk with an ext4 "boot" (16 MiB) and an ext4 "root"
# (the rest, minus 2 MiB) holding files: a few MiB of random data, text, mostly zeroes.
make_disk_image() {
        local out=$1 size=$2 d=$tmp/imgsrc.$$ root_mib=$(($2 - 19))
        rm -rf "$d"
        mkdir -p "$d/boot" "$d/root/etc" "$d/root/var/lib"
        echo "kernel $RANDOM" >"$d/boot/vmlinuz"
        head -c 1M /dev/urandom >"$d/boot/initrd.img"
        seq 1 20000 >"$d/root/etc/numbers"
        head -c 2M /dev/urandom >"$d/root/var/lib/blob"
        echo "node image built $(date -u +%FT%TZ)" >"$d/root/etc/issue"
        rm -f "$out"
        truncate -s "${size}M" "$out"
        printf 'label: gpt\nstart=2048, size=16M, name=boot\nsize=%sM, name=root\n' "$root_mib" |
                sfdisk -q "$out" || bail "sfdisk failed"
        mkfs.ext4 -q -F -L boot -d "$d/boot" "$d/p1.img" 16M >/dev/null || bail "mkfs.ext4 failed"
        mkfs.ext4 -q -F -L root -d "$d/root" "$d/p2.img" "${root_mib}M" >/dev/null || bail "mkfs.ext4 failed"
        dd if="$d/p1.img" of="$out" bs=1M seek=1 conv=notrunc,sparse status=none
        dd if="$d/p2.img" of="$out" bs=1M seek=17 conv=notrunc,sparse status=none
        rm -rf "$d"
}

# publish IMAGE: IMAGE, IMAGE.zst, IMAGE.xz and IMAGE.gz in $tmp/srv.
publish() {
        local b
        b=$(basename "$1")
        cp --sparse=always "$1" "$tmp/srv/$b"
        zstd -q -f "$1" -o "$tmp/srv/$b.zst"
        xz -T1 -1 -c "$1" >"$tmp/srv/$b.xz"
        gzip -1 -c "$1" >"$tmp/srv/$b.gz"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }

# imaged_start [ARGS...]: the image server on $ip_server:8080 (control :9000).
imaged_start() {
        local i
        rm -f "$tmp/imaged.ready"
        python3 "$imaged" --root "$tmp/srv" --listen "$ip_server:8080" --control "$ip_server:9000" \
                --ready-file "$tmp/imaged.ready" "$@" 2>"$tmp/imaged.log" &
        pids+=($!)
        for ((i = 0; i < 200; i++)); do
                [ -e "$tmp/imaged.ready" ] && return 0
                sleep 0.05
        done
        bail "image server did not start: $(cat "$tmp/imaged.log")"
}

imaged_ctl() {  # imaged_ctl PATH JSON
        curl -sf -X POST -d "$2" "http://$ip_server:9000$1" >/dev/null || bail "imaged control $1 failed"
}

imaged_stat() { # imaged_stat KEY: a number from /control/stats
        curl -sf "http://$ip_server:9000/control/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# report_start: clusterd.py's report sink on $ip_report:8000 (control :9001).
report_start() {
        local i
        rm -f "$tmp/report.ready"
        python3 "$clusterd" --listen "report:collector:$ip_report:8000" --control "$ip_report:9001" \
                --ready-file "$tmp/report.ready" 2>"$tmp/report.log" &
        pids+=($!)
        for ((i = 0; i < 200; i++)); do
                [ -e "$tmp/report.ready" ] && return 0
                sleep 0.05
        done
        bail "report server did not start: $(cat "$tmp/report.log")"
}

report_events() { # the "event" members of the reports received, one per line
        curl -sf "http://$ip_report:9001/control/state" |
                python3 -c 'import json,sys
s=json.load(sys.stdin)
for r in s.get("reports", []):
    b=r.get("body", r)
    print(b.get("event"))'
}

# loop_register DEV: detached at exit (a file, so that it works from command substitutions)
loop_register() {
        echo "$1" >>"$tmp/loops"
}

# new_loop SIZE_MIB [NAME]: a loop device on $tmp/NAME.img (default target<N>), its first MiB
# random and an old GPT disk image in it, so that a wipe is visible. Prints the device.
new_loop() {
        local size=$1 name=${2:-target${#loops[@]}} f dev
        f=$tmp/$name.img
        rm -f "$f"
        truncate -s "${size}M" "$f"
        printf 'label: gpt\nsize=8M, name=old\n' | sfdisk -q "$f" >/dev/null 2>&1
        dd if=/dev/urandom of="$f" bs=1M seek=2 count=1 conv=notrunc status=none
        dev=$(losetup -f --show "$f") || bail "losetup failed"
        loop_register "$dev"
        echo "$dev"
}

# has_partition_table DEV: 0 when sfdisk or blkid finds one
has_partition_table() {
        sfdisk -d "$1" >/dev/null 2>&1 && return 0
        [ -n "$(blkid -p -o value -s PTTYPE "$1" 2>/dev/null)" ] && return 0
        return 1
}

# same_as_image DEV IMAGE: the device starts with the image, byte for byte
same_as_image() {
        cmp -s -n "$(stat -c %s "$2")" "$1" "$2"
}

# expect_wiped STATUS WHAT DEV [OLD_IMAGE]: a failed flash (exit 6) of DEV: no partition table
# afterwards, and MID_FLASH_FAILED logged. With OLD_IMAGE (what DEV held), for damage near the
# start of the stream: the decoder may fail before the writer thread takes its first buffer,
# and then the agent says nothing was written and the disk must be OLD_IMAGE, byte for byte.
expect_wiped() {
        is "$1" 6 "$2: exit 6"
        if [ -n "${4:-}" ] && grep -q "Nothing was written to $3; it is unchanged" "$tmp/out"; then
                same_as_image "$3" "$4"
                ok $? "$2: failed before the first write: the disk as it was"
        else
                has_partition_table "$3"
                ok $((!$?)) "$2: no partition table afterwards (sfdisk -d and blkid)"
        fi
        like "$tmp/out" '"message_id":"1687ff20216945a7b281ad3cb3d45d3a"' "$2: MID_FLASH_FAILED logged"
}

# image_entry NAME FILE_IN_SRV TARGET_BACKING_FILE [EXTRA_JSON_MEMBERS]
image_entry() {
        local extra=${4:+, $4}
        printf '{"name": "%s", "url": "http://%s:8080/%s", "sha256": "%s", "target": {"type": "loop", "backing_file": "%s"}%s}' \
                "$1" "$ip_server" "$2" "$(sha256 "$tmp/srv/$2")" "$3" "$extra"
}

# flash_config FILE IMAGES_JSON_LIST [EXTRA_FLASH_MEMBERS] [EXTRA_TOP_MEMBERS]
flash_config() {
        local extra=${3:+, $3} top=${4:+, $4}
        cat >"$1" <<EOF
{
  "node_id": "installer01", "node_role": "worker", "bootstrap": true, "cluster_name": "flash-test",
  "raft_addr": "127.0.0.1:2380", "initial_peers": ["127.0.0.1:2380"],
  "tls": {"enabled": false},
  "timeouts": {"backoff_initial_ms": 50, "backoff_max_ms": 400, "connect_s": 2},
  "flash": {"images": [$2], "on_success": "none", "progress_interval_s": 1$extra}$top
}
EOF
        chmod 600 "$1"
}

# fba ARGS...: the agent with the test config and state dir, JSON log lines into $tmp/out.
fba() {
        FIRST_BOOT_AGENT_LOG_TARGET=json "$FBA_BIN" --config "${cfg:-$tmp/cfg.json}" \
                --state-dir "$tmp/state" "$@" >"$tmp/out" 2>&1
}
