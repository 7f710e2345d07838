#!/bin/bash
# SPDX-License-Identifier: MIT
# The flasher against the usual ways of writing an image, in one run on this machine:
#
#   a 2 GiB GPT image (one ext4 partition, ~30 % random data, the rest zeroes), zstd-compressed,
#   served over loopback HTTP by tests/server/imaged.py, written to a loop device by
#     agent      first-boot-agent flash
#     curl|dd    curl URL | zstd -d | dd of=DEV bs=4M oflag=direct conv=fsync
#     bmaptool   bmaptool copy --bmap IMAGE.bmap URL DEV
#   and the two halves of the floor:
#     zstd -d    zstd -d IMAGE.zst to /dev/null (decompression alone)
#     dd zero    dd if=/dev/zero of=DEV bs=4M oflag=direct, as many bytes as the image's data
#
# Every write is verified byte for byte. Each contender gets a fresh backing file (fallocated,
# so no run inherits another's allocation) behind a loop device with direct I/O (writes reach
# the backing file at once instead of piling up in the page cache, so fsync costs what it
# should). BENCH_REPEAT rounds (default 3) run the five in turn; the table shows the median and
# the best of each, the goals use the medians. Root only.
#
#   tests/bench/bench-flash.sh [BUILD_DIR]          (default: build)
#   BENCH_DIR=/var/tmp/fba-bench BENCH_REPEAT=5 BENCH_SIZE_MIB=2048 BENCH_KEEP=1
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
agent=${FBA_BIN:-$build/agent/first-boot-agent}
dir=${BENCH_DIR:-/var/tmp/fba-bench}
repeat=${BENCH_REPEAT:-3}
size_mib=${BENCH_SIZE_MIB:-2048}
ip=127.20.9.1
port=8080
url=http://$ip:$port/bench.img.zst

die() { echo "bench-flash: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (loop devices)"
[ -x "$agent" ] || die "no agent at $agent (build first, or give the build directory)"
for p in zstd curl bmaptool losetup sfdisk mkfs.ext4 fallocate python3 /usr/bin/time; do
        command -v "$p" >/dev/null || die "$p missing (apt-get install zstd curl bmap-tools util-linux fdisk e2fsprogs time)"
done

mkdir -p "$dir"
cd "$dir"
loop=""
server=""
cleanup() {
        [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
        [ -n "$server" ] && kill "$server" 2>/dev/null
        [ -z "${BENCH_KEEP:-}" ] && rm -f target.img
        true
}
trap cleanup EXIT

# ---- the image -------------------------------------------------------------------------------
if [ ! -s bench.img.zst ] || [ ! -s bench.img ] || [ "$(cat bench.size 2>/dev/null)" != "$size_mib" ]; then
        echo "Building a ${size_mib} MiB image (~30 % random data)…" >&2
        rm -rf files bench.img bench.img.zst bench.img.bmap part.img
        mkdir -p files
        # Random files of 1 to 32 MiB until 30 % of the disk is data.
        want=$((size_mib * 3 / 10))
        have=0
        i=0
        while [ "$have" -lt "$want" ]; do
                n=$((1 + (i * 7919) % 32))
                [ $((have + n)) -gt "$want" ] && n=$((want - have))
                head -c "${n}M" /dev/urandom >"files/f$i"
                have=$((have + n))
                i=$((i + 1))
        done
        part_mib=$((size_mib - 2))
        mkfs.ext4 -q -F -L root -d files part.img "${part_mib}M" >/dev/null
        truncate -s "${size_mib}M" bench.img
        printf 'label: gpt\nstart=2048, size=%sM, name=root\n' "$part_mib" | sfdisk -q bench.img
        dd if=part.img of=bench.img bs=4M seek=256K oflag=seek_bytes conv=notrunc,sparse status=none
        rm -rf files part.img
        fallocate --dig-holes bench.img         # holes wherever there are zeroes: a fair bmap
        bmaptool create -o bench.img.bmap bench.img
        zstd -q -T0 -3 bench.img -o bench.img.zst
        echo "$size_mib" >bench.size
fi
image_size=$(stat -c %s bench.img)
data_bytes=$(($(du -B1 bench.img | cut -f1)))            # allocated = non-zero data
zst_size=$(stat -c %s bench.img.zst)
sha=$(sha256sum bench.img.zst | cut -d' ' -f1)
mkdir -p srv
ln -f bench.img.zst srv/bench.img.zst

# ---- the server ------------------------------------------------------------------------------
rm -f imaged.ready
python3 "$src/tests/server/imaged.py" --root srv --listen "$ip:$port" --ready-file imaged.ready 2>imaged.log &
server=$!
for i in $(seq 100); do [ -e imaged.ready ] && break; sleep 0.05; done
[ -e imaged.ready ] || die "the image server did not start: $(cat imaged.log)"

cat >bench.json <<EOF
{
  "node_id": "bench", "node_role": "worker", "bootstrap": true, "cluster_name": "bench",
  "raft_addr": "127.0.0.1:2380", "initial_peers": ["127.0.0.1:2380"], "tls": {"enabled": false},
  "flash": {"images": [{"name": "bench", "url": "$url", "sha256": "$sha",
                        "target": {"type": "loop", "backing_file": "$dir/target.img"}}],
            "on_success": "none", "progress_interval_s": 60}
}
EOF
chmod 600 bench.json

# fresh_target: a new fallocated backing file and loop device (direct I/O) in $loop.
fresh_target() {
        [ -n "$loop" ] && losetup -d "$loop"
        loop=""
        rm -f target.img
        fallocate -l "$image_size" target.img
        sync
        loop=$(losetup -f --show --direct-io=on target.img)
        cat bench.img.zst >/dev/null             # the served file is in the page cache for all
}

verify() {
        cmp -n "$image_size" "$loop" bench.img >/dev/null 2>&1 && echo yes || echo NO
}

# run_once NAME VERIFY COMMAND…: one run on a fresh target; appends seconds, peak RSS and the
# verification to the lists of NAME.
declare -A all_t all_v rss
run_once() {
        local name=$1 check=$2 t m v
        shift 2
        fresh_target
        /usr/bin/time -f "%e %M" -o time.out "$@" >run.log 2>&1 || die "$name failed: $(tail -n 5 run.log)"
        read -r t m <time.out
        v=-
        [ "$check" = verify ] && v=$(verify)
        all_t[$name]="${all_t[$name]:-} $t"
        all_v[$name]="${all_v[$name]:-} $v"
        [ -z "${rss[$name]:-}" ] || [ "$m" -gt "${rss[$name]}" ] && rss[$name]=$m
        echo "  $name: ${t} s, peak RSS $((m / 1024)) MiB, verified: $v" >&2
}

echo "Image: $((image_size >> 20)) MiB, data $((data_bytes >> 20)) MiB ($((data_bytes * 100 / image_size)) %), zstd $((zst_size >> 20)) MiB; $repeat rounds, the contenders in turn, median shown." >&2
dd_count=$(((data_bytes + 4194303) / 4194304))
# Each run has a new loop device: the commands look it up when they start.
dev='$(losetup -j "'"$dir"'/target.img" -O NAME -n | head -n1)'
names=(agent "curl|dd" bmaptool "zstd -d" "dd zero")
# Round-robin, so that a burst of other load on the machine hits every contender alike.
for ((round = 1; round <= repeat; round++)); do
        echo "round $round:" >&2
        run_once agent verify "$agent" --config bench.json --state-dir "$dir/state" flash --no-progress --no-power-action
        run_once "curl|dd" verify sh -c "curl -sSf '$url' | zstd -dc | dd of=\"$dev\" bs=4M iflag=fullblock oflag=direct conv=fsync status=none"
        run_once bmaptool verify sh -c "bmaptool -q copy --bmap bench.img.bmap '$url' \"$dev\""
        run_once "zstd -d" none sh -c 'zstd -q -dc bench.img.zst >/dev/null'
        run_once "dd zero" none sh -c "dd if=/dev/zero of=\"$dev\" bs=4M count=$dd_count oflag=direct status=none"
done
declare -A times tmin verified
for n in "${names[@]}"; do
        times[$n]=$(printf '%s\n' ${all_t[$n]} | sort -n | sed -n "$(((repeat + 1) / 2))p")
        tmin[$n]=$(printf '%s\n' ${all_t[$n]} | sort -n | head -n1)
        verified[$n]=$(printf '%s\n' ${all_v[$n]} | sort -u | tr '\n' ' ' | sed 's/ $//')
done

a=${times[agent]}
floor=$(printf '%s\n%s\n' "${times[zstd -d]}" "${times[dd zero]}" | sort -n | tail -n1)
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }

printf '\n%-10s %8s %8s %10s %9s\n' "" "median s" "best s" "peak RSS" "verified"
for n in "${names[@]}"; do
        printf '%-10s %8s %8s %6s MiB %9s\n' "$n" "${times[$n]}" "${tmin[$n]}" "$((rss[$n] / 1024))" "${verified[$n]}"
done
r_bmap=$(ratio "${times[bmaptool]}" "$a")
r_dd=$(ratio "${times[curl|dd]}" "$a")
r_floor=$(ratio "$a" "$floor")
rss_mib=$((rss[agent] / 1024))
pass() { python3 -c "import sys; sys.exit(0 if $1 else 1)" && echo met || echo "NOT met"; }
printf '\n%-38s %8s   %s\n' "goal" "measured" ""
printf '%-38s %7sx   %s\n' "bmaptool / agent >= 2" "$r_bmap" "$(pass "$r_bmap >= 2")"
printf '%-38s %7sx   %s\n' "curl|dd / agent >= 3" "$r_dd" "$(pass "$r_dd >= 3")"
printf '%-38s %7sx   %s\n' "agent / floor <= 1.15 (floor ${floor} s)" "$r_floor" "$(pass "$r_floor <= 1.15")"
printf '%-38s %5s MiB  %s\n' "agent peak RSS <= 32 MiB" "$rss_mib" "$(pass "$rss_mib <= 32")"
