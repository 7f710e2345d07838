#!/bin/bash
# SPDX-License-Identifier: MIT
# The flasher against its floor and against the usual ways of writing an image, in one run on
# this machine:
#
#   a 2 GiB GPT image (one ext4 partition, ~30 % random data, the rest zeroes; or with
#   BENCH_IMAGE=usr, ~42 % of this machine's /usr: binaries, libraries' helpers, docs and man
#   pages, which compress as a real root file system does), zstd-compressed as one frame
#   (zstd -T0 -3) and as many (pzstd -3, frames decoded in parallel),
#   served over loopback HTTP by tests/server/imaged.py, written to a loop device by
#     agent          first-boot-agent flash, the single-frame file (its per-stage times from its
#                    debug record)
#     agent-mf       the same, the multi-frame file
#     agent@1, agent-mf@1  the same two, pinned to one core (taskset): what the cores buy
#     curl|zstd|dd   curl URL | zstd -d | dd of=DEV bs=4M oflag=direct conv=fsync
#     bmaptool       bmaptool copy --bmap IMAGE.bmap URL DEV
#   and each stage the agent cannot avoid, alone:
#     receive        curl URL -o /dev/null
#     hash           openssl dgst -sha256 IMAGE.zst (the file as served, as the agent hashes it)
#     decode         zstd -d IMAGE.zst to /dev/null
#     hash-mf, decode-mf   the same for the multi-frame file (decode-mf: pzstd -d on every core)
#     write          tests/bench/write-stage.py: the image's data written at its offsets with
#                    O_DIRECT in 2 MiB requests, its zero runs zeroed by the device, fsync
#
# The floor is the larger of (the CPU time of those four stages / the cores) and the wall time
# of the slowest stage alone: no pipeline of them can be faster. CPU times: user for hash and
# decode (their reads of a cached file are not the agent's work), user + system for receive,
# system for write (the interpreter of write-stage.py is not the agent's work). The CPU the
# agent used against that sum is printed too: unlike wall times it hardly depends on what else
# the machine runs. The image server's CPU during the agent's runs is shown beside: on the same
# two cores, it is work the floor does not count.
#
# Every write is verified byte for byte. Each run gets a fresh backing file (fallocated, so no
# run inherits another's allocation) behind a loop device with direct I/O (writes reach the
# backing file at once, as on a disk, so fsync costs what it should). BENCH_REPEAT rounds
# (default 5) run every contender in turn; medians are shown. Root only.
#
#   tests/bench/bench-flash.sh [BUILD_DIR]          (default: build)
#   BENCH_DIR=/var/tmp/fba-bench BENCH_REPEAT=5 BENCH_SIZE_MIB=2048 BENCH_KEEP=1
#   BENCH_IMAGE=random (default) or usr (BENCH_DIR then defaults to /var/tmp/fba-bench-usr)
#   BENCH_TARGET=disk (backing files in BENCH_DIR) or ram (in /dev/shm: the disk taken out)
#   BENCH_IP=127.20.9.1 (the image server's address, port 8080)
set -euo pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
agent=${FBA_BIN:-$build/agent/first-boot-agent}
image_kind=${BENCH_IMAGE:-random}
case $image_kind in
random) dir=${BENCH_DIR:-/var/tmp/fba-bench} ;;
usr) dir=${BENCH_DIR:-/var/tmp/fba-bench-usr} ;;
*) echo "bench-flash: BENCH_IMAGE must be random or usr, not '$image_kind'" >&2; exit 1 ;;
esac
repeat=${BENCH_REPEAT:-5}
size_mib=${BENCH_SIZE_MIB:-2048}
target_kind=${BENCH_TARGET:-disk}
ip=${BENCH_IP:-127.20.9.1}
port=8080
url=http://$ip:$port/bench.img.zst
url_mf=http://$ip:$port/bench.img.pzst
cores=$(nproc)

die() { echo "bench-flash: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "run as root (loop devices)"
[ -x "$agent" ] || die "no agent at $agent (build first, or give the build directory)"
for p in zstd pzstd curl bmaptool losetup sfdisk mkfs.ext4 fallocate python3 openssl taskset /usr/bin/time; do
        command -v "$p" >/dev/null || die "$p missing (apt-get install zstd curl bmap-tools util-linux fdisk e2fsprogs openssl time)"
done
case $target_kind in
disk) target_dir=$dir ;;
ram) target_dir=/dev/shm/fba-bench.$$ ;;
*) die "BENCH_TARGET must be disk or ram, not '$target_kind'" ;;
esac

mkdir -p "$dir" "$target_dir"
cd "$dir"
loop=""
server=""
cleanup() {
        [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
        [ -n "$server" ] && kill "$server" 2>/dev/null
        [ -z "${BENCH_KEEP:-}" ] && rm -f "$target_dir/target.img"
        [ "$target_kind" = ram ] && rm -rf "$target_dir"
        true
}
trap cleanup EXIT

# ---- the image -------------------------------------------------------------------------------
if [ ! -s bench.img.zst ] || [ ! -s bench.img ] || [ "$(cat bench.size 2>/dev/null)" != "$size_mib" ]; then
        echo "Building a ${size_mib} MiB image ($image_kind data)…" >&2
        rm -rf files bench.img bench.img.zst bench.img.bmap part.img
        mkdir -p files
        if [ "$image_kind" = usr ]; then
                # A root file system's kind of content: hard links to this machine's files (no copy;
                # BENCH_DIR must be on the file system of /usr).
                for d in /usr/bin /usr/sbin /usr/libexec /usr/share/doc /usr/share/man; do
                        mkdir -p "files$(dirname "$d")"
                        cp -al "$d" "files$d" || die "cannot hard-link $d into $dir (not on one file system?)"
                done
        else
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
        fi
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
        rm -f bench.img.pzst
fi
# The same image as independent frames (pzstd: one per 8 MiB of the image, each after a
# skippable frame holding its size), at the same level.
[ -s bench.img.pzst ] || pzstd -q -p "$cores" -3 bench.img -o bench.img.pzst
image_size=$(stat -c %s bench.img)
data_bytes=$(($(du -B1 bench.img | cut -f1)))            # allocated = non-zero data
zst_size=$(stat -c %s bench.img.zst)
pzst_size=$(stat -c %s bench.img.pzst)
sha=$(sha256sum bench.img.zst | cut -d' ' -f1)
sha_mf=$(sha256sum bench.img.pzst | cut -d' ' -f1)
mkdir -p srv
ln -f bench.img.zst srv/bench.img.zst
ln -f bench.img.pzst srv/bench.img.pzst

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
                        "target": {"type": "loop", "backing_file": "$target_dir/target.img"}}],
            "on_success": "none", "progress_interval_s": 60}
}
EOF
sed -e "s|$url|$url_mf|" -e "s|$sha|$sha_mf|" bench.json >bench-mf.json
chmod 600 bench.json bench-mf.json

# fresh_target: a new fallocated backing file and loop device (direct I/O) in $loop.
fresh_target() {
        [ -n "$loop" ] && losetup -d "$loop"
        loop=""
        rm -f "$target_dir/target.img"
        fallocate -l "$image_size" "$target_dir/target.img"
        sync
        loop=$(losetup -f --show --direct-io=on "$target_dir/target.img")
        cat bench.img.zst >/dev/null             # the served file is in the page cache for all
}

verify() {
        cmp -n "$image_size" "$loop" bench.img >/dev/null 2>&1 && echo yes || echo NO
}

# server_cpu: CPU seconds the image server has used so far (user + system).
server_cpu() {
        awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$server/stat"
}

# run_once NAME VERIFY COMMAND…: one run on a fresh target; appends wall, user and system
# seconds, peak RSS, the verification and the server's CPU to the lists of NAME.
declare -A all_t all_u all_s all_v all_srv rss
run_once() {
        local name=$1 check=$2 t u s m v c0
        shift 2
        fresh_target
        c0=$(server_cpu)
        /usr/bin/time -f "%e %U %S %M" -o time.out "$@" >run.log 2>&1 || die "$name failed: $(tail -n 5 run.log)"
        all_srv[$name]="${all_srv[$name]:-} $(python3 -c "print('%.2f' % ($(server_cpu) - $c0))")"
        read -r t u s m <time.out
        v=-
        [ "$check" = verify ] && v=$(verify)
        all_t[$name]="${all_t[$name]:-} $t"
        all_u[$name]="${all_u[$name]:-} $u"
        all_s[$name]="${all_s[$name]:-} $s"
        all_v[$name]="${all_v[$name]:-} $v"
        [ -z "${rss[$name]:-}" ] || [ "$m" -gt "${rss[$name]}" ] && rss[$name]=$m
        echo "  $name: ${t} s (user $u, sys $s), peak RSS $((m / 1024)) MiB, verified: $v" >&2
        true
}

echo "Image: $((image_size >> 20)) MiB, data $((data_bytes >> 20)) MiB ($((data_bytes * 100 / image_size)) %)," \
     "zstd $((zst_size >> 20)) MiB, pzstd $((pzst_size >> 20)) MiB; target: loop device (direct I/O) on $(df --output=fstype "$target_dir" | tail -n1)" \
     "in $target_dir; $cores cores; $repeat rounds, every contender in turn." >&2
# Each run has a new loop device: the commands look it up when they start.
dev='$(losetup -j "'"$target_dir"'/target.img" -O NAME -n | head -n1)'
names=(agent agent-mf agent@1 agent-mf@1 "curl|zstd|dd" bmaptool receive hash decode write hash-mf decode-mf)
: >stages.log
: >stages-mf.log
agent_flash=(env FIRST_BOOT_AGENT_LOG_LEVEL=debug FIRST_BOOT_AGENT_LOG_TARGET=json "$agent" --state-dir "$dir/state")
# Round-robin, so that a burst of other load on the machine hits every contender alike.
for ((round = 1; round <= repeat; round++)); do
        echo "round $round (load average $(cut -d' ' -f1-3 /proc/loadavg)):" >&2
        run_once agent verify "${agent_flash[@]}" --config bench.json flash --no-progress --no-power-action
        grep -h '"message":"Pipeline stages' run.log >>stages.log || die "the agent logged no stage times"
        run_once agent-mf verify "${agent_flash[@]}" --config bench-mf.json flash --no-progress --no-power-action
        grep -h '"message":"Pipeline stages' run.log >>stages-mf.log || die "the agent logged no stage times"
        run_once agent@1 verify taskset -c 0 "${agent_flash[@]}" --config bench.json flash --no-progress \
                --no-power-action
        run_once agent-mf@1 verify taskset -c 0 "${agent_flash[@]}" --config bench-mf.json flash --no-progress \
                --no-power-action
        run_once "curl|zstd|dd" verify sh -c "curl -sSf '$url' | zstd -dc | dd of=\"$dev\" bs=4M iflag=fullblock oflag=direct conv=fsync status=none"
        run_once bmaptool verify sh -c "bmaptool -q copy --bmap bench.img.bmap '$url' \"$dev\""
        run_once receive none curl -sSf -o /dev/null "$url"
        run_once hash none openssl dgst -sha256 bench.img.zst
        run_once decode none sh -c 'zstd -q -dc bench.img.zst >/dev/null'
        run_once hash-mf none openssl dgst -sha256 bench.img.pzst
        run_once decode-mf none sh -c "pzstd -q -p $cores -dc bench.img.pzst >/dev/null"
        run_once write none sh -c "python3 '$src/tests/bench/write-stage.py' \"$dev\" bench.img"
done

# ---- the report ------------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
declare -A t_med u_med s_med t_min verified srv_med
for n in "${names[@]}"; do
        # shellcheck disable=SC2086
        srv_med[$n]=$(median ${all_srv[$n]})
        # shellcheck disable=SC2086
        t_med[$n]=$(median ${all_t[$n]})
        # shellcheck disable=SC2086
        u_med[$n]=$(median ${all_u[$n]})
        # shellcheck disable=SC2086
        s_med[$n]=$(median ${all_s[$n]})
        t_min[$n]=$(printf '%s\n' ${all_t[$n]} | sort -g | head -n1)
        verified[$n]=$(printf '%s\n' ${all_v[$n]} | sort -u | tr '\n' ' ' | sed 's/ $//')
done

printf '\n%-14s %8s %8s %7s %7s %9s %9s\n' "" "median s" "best s" "user s" "sys s" "peak RSS" "verified"
for n in agent agent-mf agent@1 agent-mf@1 "curl|zstd|dd" bmaptool; do
        printf '%-14s %8s %8s %7s %7s %5s MiB %9s\n' "$n" "${t_med[$n]}" "${t_min[$n]}" "${u_med[$n]}" "${s_med[$n]}" \
                "$((rss[$n] / 1024))" "${verified[$n]}"
done

: >medians.txt
for n in "${names[@]}"; do
        echo "$n ${t_med[$n]} ${u_med[$n]} ${s_med[$n]} $((rss[$n] / 1024)) ${srv_med[$n]} ${verified[$n]// /,}" >>medians.txt
done
python3 - "$cores" medians.txt stages.log stages-mf.log "$zst_size" "$pzst_size" <<'EOF'
import json, re, statistics, sys

cores = int(sys.argv[1])
m = {}
for line in open(sys.argv[2]):
    f = line.split()
    m[f[0]] = {"t": float(f[1]), "u": float(f[2]), "s": float(f[3]), "rss": int(f[4]), "srv": float(f[5]),
               "v": f[6] if len(f) > 6 else "-"}
zst_size, pzst_size = int(sys.argv[5]), int(sys.argv[6])

def parse(path):
    runs = []
    for line in open(path):
        msg = json.loads(line)["message"]
        run = {}
        for stage, fields in re.findall(r"(receive|hash|decode|write) (cpu=\d+ busy=\d+ in=\d+ out=\d+)", msg):
            run[stage] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", fields)}
        run["scan"] = int(re.search(r"zero-scan busy=(\d+)", msg).group(1))
        z = re.search(r"zero-runs busy=(\d+) bytes=(\d+); frames=(\d+) threads=(\d+) workers-cpu=(\d+)", msg)
        run["zruns"], run["zbytes"], run["frames"], run["cores"], run["wcpu"] = map(int, z.groups())
        w = re.search(r"write: data=(\d+) zero=(\d+) \((\d+) batches\) sync=(\d+) \((\d+)\) wipe=(\d+); wall=(\d+)", msg)
        run["w"] = dict(zip(("data", "zero", "batches", "sync", "syncs", "wipe", "wall"), map(int, w.groups())))
        runs.append(run)
    return runs

med = statistics.median

def floor_of(hash_name, decode_name):
    alone = {"receive": (m["receive"]["u"] + m["receive"]["s"], m["receive"]["t"]),
             "hash": (m[hash_name]["u"], m[hash_name]["t"]),
             "decode": (m[decode_name]["u"], m[decode_name]["t"]),
             "write": (m["write"]["s"], m["write"]["t"])}
    cpu = sum(c for c, _ in alone.values())
    slowest = max(alone.items(), key=lambda kv: kv[1][1])
    return alone, cpu, slowest, max(cpu / cores, slowest[1][1])

def report(title, runs, agent, hash_name, decode_name):
    alone, cpu, slowest, floor = floor_of(hash_name, decode_name)
    print("\n%s: where the agent's time goes (median ms over %d runs; busy = not blocked on a queue)," % (title, len(runs)))
    print("and each stage alone (median s):\n")
    print("%-10s %7s %7s %11s %12s    %-9s %7s %7s" % ("stage", "CPU", "busy", "blocked-in", "blocked-out", "alone", "CPU s", "wall s"))
    for stage in ("receive", "hash", "decode", "write"):
        st = [r[stage] for r in runs]
        c, t = alone[stage]
        print("%-10s %7d %7d %11d %12d    %-9s %7.2f %7.2f" % (
            stage, med([s["cpu"] for s in st]), med([s["busy"] for s in st]), med([s["in"] for s in st]),
            med([s["out"] for s in st]), {"hash": hash_name, "decode": decode_name}.get(stage, stage), c, t))
    print("%-10s %7s %7d %11s %12s    (in decode: checking decoded data for zero grains)" % ("zero-scan", "", med([r["scan"] for r in runs]), "", ""))
    print("%-10s %7s %7d %11s %12s    (in decode: %.0f MiB of zeroes as runs, never expanded)" % (
        "zero-runs", "", med([r["zruns"] for r in runs]), "", "", med([r["zbytes"] for r in runs]) / 2**20))
    w = {k: med([r["w"][k] for r in runs]) for k in runs[0]["w"]}
    print("\nframes %d, decoded by %d thread(s) (the frame workers' CPU: %d ms); write stage: data writes %d ms,"
          " zero-range calls %d ms (%d batches), syncs %d ms (%d), wipe %d ms; the agent's own wall time %d ms" % (
              med([r["frames"] for r in runs]), med([r["cores"] for r in runs]), med([r["wcpu"] for r in runs]),
              w["data"], w["zero"], w["batches"], w["sync"], w["syncs"], w["wipe"], w["wall"]))
    a = m[agent]
    print("floor = max(CPU of the stages %.2f s / %d cores = %.2f s, slowest stage alone: %s %.2f s) = %.2f s"
          % (cpu, cores, cpu / cores, slowest[0], slowest[1][1], floor))
    print("CPU-s on zeroes in the decoder: %.3f (runs) + %.3f (scan)" % (
        med([r["zruns"] for r in runs]) / 1000, med([r["scan"] for r in runs]) / 1000))
    print("agent CPU %.2f s (user %.2f + sys %.2f) against the stages' %.2f s: %.2fx; the image server used %.2f s"
          " of CPU during an agent run" % (a["u"] + a["s"], a["u"], a["s"], cpu, (a["u"] + a["s"]) / cpu, a["srv"]))
    return floor

floor1 = report("Single frame (zstd -T0 -3)", parse(sys.argv[3]), "agent", "hash", "decode")
floor2 = report("Multi-frame (pzstd -3)", parse(sys.argv[4]), "agent-mf", "hash-mf", "decode-mf")
print("\nmulti-frame file: %d bytes, %.2f%% larger than the single frame (%d bytes)" % (
    pzst_size, (pzst_size / zst_size - 1) * 100, zst_size))

def line(goal, value, unit, met):
    print("%-46s %8s%-4s %s" % (goal, value, unit, "" if met is None else ("met" if met else "NOT met")))

a, amf, a1, s1 = m["agent"]["t"], m["agent-mf"]["t"], m["agent-mf@1"]["t"], m["agent@1"]["t"]
dd, bmap = m["curl|zstd|dd"]["t"], m["bmaptool"]["t"]
print("\n%-46s %8s" % ("goal", "measured"))
line("agent-mf / its floor <= 1.25", "%.2f" % (amf / floor2), "x", amf / floor2 <= 1.25)
line("agent / its floor <= 1.5", "%.2f" % (a / floor1), "x", a / floor1 <= 1.5)
line("bmaptool / agent >= 2.5", "%.2f" % (bmap / a), "x", bmap / a >= 2.5)
line("bmaptool / agent-mf", "%.2f" % (bmap / amf), "x", None)
line("curl|zstd|dd / agent >= 3", "%.2f" % (dd / a), "x", dd / a >= 3)
line("curl|zstd|dd / agent-mf", "%.2f" % (dd / amf), "x", None)
line("agent-mf pinned to 1 core / on %d" % cores, "%.2f" % (a1 / amf), "x", None)
line("agent pinned to 1 core / on %d" % cores, "%.2f" % (s1 / a), "x", None)
line("agent-mf / agent (multi- against single-frame)", "%.2f" % (amf / a), "x", None)
line("agent-mf peak RSS <= 48 MiB", str(m["agent-mf"]["rss"]), " MiB", m["agent-mf"]["rss"] <= 48)
line("agent peak RSS <= 32 MiB", str(m["agent"]["rss"]), " MiB", m["agent"]["rss"] <= 32)
v = sorted({x for n in ("agent", "agent-mf", "agent@1", "agent-mf@1", "curl|zstd|dd", "bmaptool") for x in m[n]["v"].split(",")})
line("every write verified byte for byte", " ".join(v), "", v == ["yes"])
EOF
