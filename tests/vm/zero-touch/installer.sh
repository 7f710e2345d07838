#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot 1, in the installer initramfs (run by the harness's /init after DHCP).
# The SPI-NOR is an mtdram device (zero-touch.sh), or the board's CFI NOR flash with the
# partitions ZT_MTDPARTS names (board-arm64.sh: Debian's arm64 kernel lacks these drivers, so
# the installer carries them as modules). The agent runs as "first-boot-agent run" and decides the
# flash mode from the kernel command line (first_boot_agent.mode=flash), flashes, reports and
# powers off by itself. It runs in a PID namespace of its own: there the kernel turns its
# power-off request (reboot(2)) into the end of the namespace (seen as SIGINT, SIGHUP for a
# reboot) instead of cutting the power at once, so this script can still read the volatile
# mtdram content for the test, then completes the power-off.
# Environment (from vm.env.* on the kernel command line): ZT_MTD_KB, ZT_MTD_ERASE_KB and
# ZT_FW_SIZE, or ZT_MTDPARTS.
up() { cut -d' ' -f1 /proc/uptime; }

if [ -n "${ZT_MTDPARTS:-}" ]; then
        modprobe cmdlinepart mtdparts="$ZT_MTDPARTS" && modprobe physmap || exit 90
else
        modprobe mtdram total_size="$ZT_MTD_KB" erase_size="$ZT_MTD_ERASE_KB" || exit 90
fi
for d in /sys/class/mtd/mtd*; do
        [ -e "$d/name" ] && [ "${d%ro}" = "$d" ] || continue
        echo "zt: spi-nor ${d##*/} $(cat "$d/name"), $(cat "$d/size") bytes, erase block $(cat "$d/erasesize")"
done
echo "zt: agent-start at $(up)s"
# The agent's peak RSS (VmHWM, a high-water mark: the last reading before it ends holds it,
# unless the peak came in its last 0.2 s), for tests/bench/README.md.
(
        while sleep 0.2; do
                for p in $(pidof first-boot-agent); do
                        v=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null)
                        [ -n "$v" ] && [ "$v" -gt "$(cat /run/agent-hwm 2>/dev/null || echo 0)" ] && echo "$v" >/run/agent-hwm
                done
        done
) &
hwm_pid=$!
unshare -p -f -m --mount-proc sh -c '/usr/sbin/first-boot-agent run; exit $?'
rc=$?
kill "$hwm_pid" 2>/dev/null
echo "zt: agent-peak-rss-kb=$(cat /run/agent-hwm 2>/dev/null)"
case "$rc" in
130) action=poweroff ;;
129) action=reboot ;;
*) action=exit ;;
esac
echo "zt: agent-end action=$action rc=$rc at $(up)s"
[ -z "${ZT_FW_SIZE:-}" ] || echo "zt: spi-sha256=$(head -c "$ZT_FW_SIZE" /dev/mtd0 | sha256sum | cut -d' ' -f1)"
# 0: the agent asked for the power-off; otherwise its exit code (100 for a plain exit 0).
case "$action" in
poweroff) exit 0 ;;
reboot) exit 101 ;;
esac
[ "$rc" -eq 0 ] && exit 100
exit "$rc"
