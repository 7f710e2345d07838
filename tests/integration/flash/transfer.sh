#!/bin/bash
# SPDX-License-Identifier: MIT
# How a download behaves on the way: an https URL follows only https redirects (an https→http
# redirect is refused, naming it, with the disk untouched; http→https is followed); a stalled
# transfer is dropped after about stall_timeout_s and resumed with a Range request, not after
# twice that; the progress records show the current rate, 0 MB/s during a stall. Block
# 127.20.6.0/24: .1 the image server (http), .3 a second one over https.
. "$(dirname "$0")/lib.sh"
flash_init 6 "redirect rules, the stall timeout and the current rate of a download"

make_disk_image "$tmp/disk.img" 64
publish "$tmp/disk.img"
imaged_start
dev=$(new_loop 64)
backing=$tmp/target0.img
f=disk.img.zst

# The https server: the same files, the test CA.
ip_tls=$block.3
sh "$gencerts" "$tmp/certs" "$ip_tls" >/dev/null 2>&1 || bail "gen-certs failed"
rm -f "$tmp/imaged-tls.ready"
python3 "$imaged" --root "$tmp/srv" --listen "$ip_tls:8443" --control "$ip_tls:9000" --tls-dir "$tmp/certs" \
        --ready-file "$tmp/imaged-tls.ready" 2>"$tmp/imaged-tls.log" &
pids+=($!)
for ((i = 0; i < 200; i++)); do
        [ -e "$tmp/imaged-tls.ready" ] && break
        sleep 0.05
done
[ -e "$tmp/imaged-tls.ready" ] || bail "https image server did not start: $(cat "$tmp/imaged-tls.log")"
tls_ctl() { curl -sf -X POST -d "$2" "http://$ip_tls:9000$1" >/dev/null || bail "imaged control $1 failed"; }
stat_of() { # stat_of HOST KEY
        curl -sf "http://$1:9000/control/stats" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}
requests_for() { # requests_for HOST PATH: GETs of PATH the server at HOST answered
        curl -sf "http://$1:9000/control/stats" |
                python3 -c "import json,sys; print(sum(1 for r in json.load(sys.stdin)['requests'] if r['path'] == sys.argv[1]))" "$2"
}
restore_old() {
        dd if="$tmp/disk.img" of="$dev" bs=1M conv=fsync status=none
}
tls_entry() { # tls_entry URL: an image entry for URL, the hash of disk.img.zst
        printf '{"name": "system", "url": "%s", "sha256": "%s", "target": {"type": "loop", "backing_file": "%s"}}' \
                "$1" "$(sha256 "$tmp/srv/$f")" "$backing"
}

# --- https → http: refused, and not a byte fetched over http --------------------------------
restore_old
imaged_ctl /control/reset '{}'
tls_ctl /control/reset '{}'
tls_ctl /control/redirect "{\"path\": \"/moved.zst\", \"location\": \"http://$ip_server:8080/$f\"}"
flash_config "$tmp/cfg.json" "$(tls_entry "https://$ip_tls:8443/moved.zst")" \
        "\"ca_cert_path\": \"$tmp/certs/ca.crt\", \"retries\": 2"
fba flash --no-progress
is "$?" 6 "https→http redirect: exit 6"
like "$tmp/out" "redirected to 'http://$ip_server:8080/$f'" "https→http redirect: the error names the refused URL"
like "$tmp/out" 'follows only https redirects' "https→http redirect: and says why"
is "$(requests_for "$ip_server" "/$f")" 0 "https→http redirect: the http server got no request"
is "$(requests_for "$ip_tls" /moved.zst)" 1 "https→http redirect: refused at once, not retried"
same_as_image "$dev" "$tmp/disk.img"
ok $? "https→http redirect: the disk is untouched"

# --- http → https: followed ------------------------------------------------------------------
dd if=/dev/zero of="$dev" bs=1M count=2 conv=fsync status=none
imaged_ctl /control/redirect "{\"path\": \"/secure.zst\", \"location\": \"https://$ip_tls:8443/$f\"}"
flash_config "$tmp/cfg.json" "$(tls_entry "http://$ip_server:8080/secure.zst")" \
        "\"ca_cert_path\": \"$tmp/certs/ca.crt\""
fba flash --no-progress
is "$?" 0 "http→https redirect: followed, flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "http→https redirect: byte for byte"
is "$(requests_for "$ip_tls" "/$f")" 1 "http→https redirect: the file came from the https server"

# --- a stall: dropped after about stall_timeout_s and resumed ----------------------------------
# The server sends 1 MB, then nothing for 5.5 s, then the rest. With stall_timeout_s 3 the agent
# gives up after 3 to 4 s and resumes with a Range request, so the server sees its client leave
# during the stall. (Acting after twice the timeout, as curl's low-speed check did, the agent
# would have waited until the data came again: no drop, no Range request.)
imaged_ctl /control/reset '{}'
imaged_ctl /control/stall "{\"path\": \"/$f\", \"after\": 1000000, \"seconds\": 5.5, \"count\": 1}"
flash_config "$tmp/cfg.json" "$(image_entry system $f "$backing")" '"stall_timeout_s": 3'
dd if=/dev/zero of="$dev" bs=1M count=2 conv=fsync status=none
fba flash --no-progress
is "$?" 0 "a stall: flash exits 0"
same_as_image "$dev" "$tmp/disk.img"
ok $? "a stall: byte for byte"
is "$(stat_of "$ip_server" stalls_abandoned)" 1 "a stall: the agent left the stalled transfer before the data came again"
is "$(stat_of "$ip_server" range_requests)" 1 "a stall: one Range request resumed it"
like "$tmp/out" 'no data arrived for 3 s' "a stall: the retry says why"
like "$tmp/out" 'broke at byte 1000000' "a stall: resumed where it stopped"

# --- the rate in the progress records is the current one --------------------------------------
# The raw image, 40 MB at full speed, then 5 s of nothing (no stall timeout at 30 s): the
# records written while nothing moves say 0 MB/s. An average since the start would still show
# several MB/s there.
imaged_ctl /control/reset '{}'
imaged_ctl /control/stall '{"path": "/disk.img", "after": 40000000, "seconds": 5, "count": 1}'
flash_config "$tmp/cfg.json" "$(image_entry system disk.img "$backing")"
dd if=/dev/zero of="$dev" bs=1M count=2 conv=fsync status=none
fba flash --no-progress
is "$?" 0 "progress during a stall: flash exits 0"
python3 - "$tmp/out" >"$tmp/rates" <<'EOF'
import json, sys
recs = []
for line in open(sys.argv[1]):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("message_id") == "42bcdb2fe57b4f2a96be8446ad6f90a7":
        recs.append((int(r["BYTES"]), int(r["MBPS"])))
# Records at least 3 s into a plateau (the same BYTES as the three before): the stall.
stalled = [recs[i] for i in range(3, len(recs)) if len({b for b, _ in recs[i - 3:i + 1]}) == 1]
print("records", len(recs), "in-stall", stalled)
print("zero-rate" if stalled and all(m == 0 for _, m in stalled) else "nonzero-rate")
EOF
like "$tmp/rates" 'in-stall \[\(' "progress during a stall: records were written during the stall"
like "$tmp/rates" 'zero-rate' "progress during a stall: they show 0 MB/s (the current rate)"

tap_done
