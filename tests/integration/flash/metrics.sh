#!/bin/bash
# SPDX-License-Identifier: MIT
# The flash's node_exporter textfile, read by promtool and Debian's prometheus-node-exporter:
# after a good flash (bytes written, duration, verdict written) and a failed one (verdict
# hash-mismatch), with an image name that needs escaping, written before the power action.
# Block 127.74.2.0/24.
. "$(dirname "$0")/lib.sh"
. "$src/tests/integration/metrics-lib.sh"
flash_init 0 "flash metrics through promtool and node_exporter"
metrics_tools_check
block=127.74.2 ip_server=127.74.2.1 ip_report=127.74.2.2

make_disk_image "$tmp/disk.img" 48
publish "$tmp/disk.img"
imaged_start
dev=$(new_loop 64)
backing=$tmp/target0.img
size=$(stat -c %s "$tmp/disk.img")
mdir=$tmp/textfile
mkdir -m 0755 "$mdir"
prom=$mdir/first_boot_agent.prom
node_exporter_start "$block.200:9100" "$mdir"
name='gold "A" \ 1'
lname='gold \"A\" \\ 1'     # the same in a label value

# A good flash through "run" (the installer's unit), the image's name with quotes and a backslash.
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.zst "$backing")" \
        "" "\"metrics\": {\"textfile_dir\": \"$mdir\"}"
python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
c["flash"]["images"][0]["name"] = sys.argv[2]
json.dump(c, open(sys.argv[1], "w"))
print(c["flash"]["images"][0]["name"])' "$tmp/cfg.json" "$name" >"$tmp/name"
is "$(cat "$tmp/name")" "$name" "the configuration names the image '$name'"
fba run --no-power-action
rc=$?
is "$rc" 0 "run (flash mode): exit 0"
[ "$rc" -eq 0 ] || tail -n 20 "$tmp/out" | sed 's/^/#   /'
same_as_image "$dev" "$tmp/disk.img"
ok $? "the device holds the image"
promtool_ok "$prom" "after a flash: promtool check metrics accepts the file"
scrape "$tmp/scrape.1"
is "$(value "$tmp/scrape.1" node_textfile_scrape_error)" 0 "after a flash: node_textfile_scrape_error 0"
is "$(value "$tmp/scrape.1" "first_boot_agent_flash_verdict{kind=\"image\",target=\"$lname\",verdict=\"written\"}")" 1 \
        "verdict written, for the image by its escaped name"
is "$(value "$tmp/scrape.1" "first_boot_agent_flash_verdict{kind=\"image\",target=\"$lname\",verdict=\"failed\"}")" 0 \
        "verdict failed is 0"
b=$(value "$tmp/scrape.1" "first_boot_agent_flash_bytes_written_total{kind=\"image\",target=\"$lname\"}")
ok "$(awk -v b="$b" -v n="$size" 'BEGIN { exit !(b != "" && b + 0 == n + 0) }'; echo $?)" \
        "bytes written: the image's size ($b, $size)"
d=$(value "$tmp/scrape.1" "first_boot_agent_flash_duration_seconds{kind=\"image\",target=\"$lname\"}")
ok "$(awk -v d="$d" 'BEGIN { exit !(d != "" && d + 0 > 0) }'; echo $?)" "a duration in seconds ($d)"
is "$(value "$tmp/scrape.1" 'first_boot_agent_run_info{cluster="flash-test",mode="flash",node_id="installer01",version="'"$("$FBA_BIN" --version | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"'"}')" 1 \
        "run_info: mode flash, the installer's node id"
is "$(value "$tmp/scrape.1" 'first_boot_agent_run_state{state="done"}')" 1 "run_state done"
is "$(grep -c '^first_boot_agent_step_' "$tmp/scrape.1")" 0 "no step series on the installer"
is "$(grep -c '^first_boot_agent_first_boot_completed' "$tmp/scrape.1")" 0 "no first-boot completion on the installer"

# A failed flash through the "flash" verb: a wrong SHA-256.
good=$(sha256 "$tmp/srv/disk.img.zst")
sed -i "s/$good/$(printf '%s' "$good" | tr '0-9a-f' '1-9a-f0')/" "$tmp/cfg.json"
fba flash --no-progress
is "$?" 6 "a wrong SHA-256: exit 6"
promtool_ok "$prom" "after a failed flash: promtool check metrics accepts the file"
scrape "$tmp/scrape.2"
is "$(value "$tmp/scrape.2" node_textfile_scrape_error)" 0 "after a failed flash: node_textfile_scrape_error 0"
is "$(value "$tmp/scrape.2" "first_boot_agent_flash_verdict{kind=\"image\",target=\"$lname\",verdict=\"hash-mismatch\"}")" 1 \
        "verdict hash-mismatch"
is "$(value "$tmp/scrape.2" "first_boot_agent_flash_verdict{kind=\"image\",target=\"$lname\",verdict=\"written\"}")" 0 \
        "verdict written is 0"
is "$(value "$tmp/scrape.2" 'first_boot_agent_run_state{state="failed"}')" 1 "run_state failed"
has_partition_table "$dev"
ok $((!$?)) "the disk was wiped as always"

tap_done
