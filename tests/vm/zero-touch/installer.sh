#!/bin/sh
# SPDX-License-Identifier: MIT
# Boot 1, in the installer initramfs (run by the harness's /init after DHCP).
# The SPI-NOR is an mtdram device. The agent runs as "first-boot-agent run" and decides the
# flash mode from the kernel command line (first_boot_agent.mode=flash), flashes, reports and
# powers off by itself. It runs in a PID namespace of its own: there the kernel turns its
# power-off request (reboot(2)) into the end of the namespace (seen as SIGINT, SIGHUP for a
# reboot) instead of cutting the power at once, so this script can still read the volatile
# mtdram content for the test, then completes the power-off.
# Environment (from vm.env.* on the kernel command line): ZT_MTD_KB, ZT_MTD_ERASE_KB,
# ZT_FW_SIZE.
up() { cut -d' ' -f1 /proc/uptime; }

modprobe mtdram total_size="$ZT_MTD_KB" erase_size="$ZT_MTD_ERASE_KB" || exit 90
echo "zt: spi-nor $(cat /sys/class/mtd/mtd0/name), $(cat /sys/class/mtd/mtd0/size) bytes," \
     "erase block $(cat /sys/class/mtd/mtd0/erasesize)"
echo "zt: agent-start at $(up)s"
unshare -p -f -m --mount-proc sh -c '/usr/sbin/first-boot-agent run; exit $?'
rc=$?
case "$rc" in
130) action=poweroff ;;
129) action=reboot ;;
*) action=exit ;;
esac
echo "zt: agent-end action=$action rc=$rc at $(up)s"
echo "zt: spi-sha256=$(head -c "$ZT_FW_SIZE" /dev/mtd0 | sha256sum | cut -d' ' -f1)"
# 0: the agent asked for the power-off; otherwise its exit code (100 for a plain exit 0).
case "$action" in
poweroff) exit 0 ;;
reboot) exit 101 ;;
esac
[ "$rc" -eq 0 ] && exit 100
exit "$rc"
