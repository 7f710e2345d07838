#!/bin/bash
# SPDX-License-Identifier: MIT
# Nothing unverified becomes bootable: a wrong SHA-256, a bad signature, a corrupt or cut
# stream and an image larger than the disk all fail with exit 6 and leave the disk without a
# partition table (sfdisk and blkid find none), or, when damage near the start stops the decoder
# before the first write, as it was; a missing signature or image fails before the
# disk is touched; good Ed25519 and RSA signatures pass. Block 127.20.2.0/24.
. "$(dirname "$0")/lib.sh"
flash_init 2 "hash and signature failures leave no partition table"

make_disk_image "$tmp/disk.img" 48
publish "$tmp/disk.img"
imaged_start
dev=$(new_loop 64)
backing=$tmp/target0.img
f=disk.img.zst

# Each failure case starts from a disk holding a valid, complete older image.
restore_old() {
        dd if="$tmp/disk.img" of="$dev" bs=1M conv=fsync status=none
        has_partition_table "$dev" || bail "the old image has no partition table"
}


# A wrong SHA-256: the error names the expected and the actual hash.
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system $f "$backing")"
good=$(sha256 "$tmp/srv/$f")
bad=$(printf '%s' "$good" | tr '0-9a-f' '1-9a-f0')
sed -i "s/$good/$bad/" "$tmp/cfg.json"
fba flash --no-progress
expect_wiped $? "wrong SHA-256" "$dev"
like "$tmp/out" "expected $bad, got $good" "wrong SHA-256: the error shows both hashes"
like "$tmp/out" 'Wiped the partition tables' "wrong SHA-256: the wipe is logged"
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['flash']['images']['system']['verdict'])" \
        "$tmp/state/state.json" >"$tmp/v" 2>&1
like "$tmp/v" 'hash-mismatch' "wrong SHA-256: recorded in the state file"

# Signatures: Ed25519 and RSA keys; what is signed is the SHA-256 of the file as served.
openssl genpkey -algorithm ed25519 -out "$tmp/ed.key" 2>/dev/null
openssl pkey -in "$tmp/ed.key" -pubout -out "$tmp/ed.pub" 2>/dev/null
openssl genpkey -algorithm ed25519 -out "$tmp/other.key" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$tmp/rsa.key" 2>/dev/null
openssl pkey -in "$tmp/rsa.key" -pubout -out "$tmp/rsa.pub" 2>/dev/null
openssl dgst -sha256 -binary "$tmp/srv/$f" >"$tmp/digest"
openssl pkeyutl -sign -rawin -inkey "$tmp/ed.key" -in "$tmp/digest" -out "$tmp/srv/$f.ed.sig"
openssl pkeyutl -sign -rawin -inkey "$tmp/other.key" -in "$tmp/digest" -out "$tmp/srv/$f.other.sig"
openssl dgst -sha256 -sign "$tmp/rsa.key" -out "$tmp/srv/$f.rsa.sig" "$tmp/srv/$f"
base64 "$tmp/srv/$f.ed.sig" >"$tmp/srv/$f.ed.sig.b64"

sig_config() { # sig_config SIG_FILE KEY
        flash_config "$tmp/cfg.json" \
                "$(image_entry system $f "$backing" "\"signature_url\": \"http://$ip_server:8080/$1\"")" \
                "\"public_key\": \"$2\""
}

restore_old
sig_config "$f.other.sig" "$tmp/ed.pub"
fba flash --no-progress
expect_wiped $? "signature by another key" "$dev"
like "$tmp/out" 'signature of .system. does not verify' "bad signature: said so"
python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['flash']['images']['system']['verdict'])" \
        "$tmp/state/state.json" >"$tmp/v" 2>&1
like "$tmp/v" 'bad-signature' "bad signature: recorded in the state file"

restore_old
sig_config "$f.ed.sig" "$tmp/rsa.pub"
fba flash --no-progress
expect_wiped $? "Ed25519 signature checked with an RSA key" "$dev"

for s in ed.sig:ed.pub ed.sig.b64:ed.pub rsa.sig:rsa.pub; do
        restore_old
        dd if=/dev/zero of="$dev" bs=1M count=1 seek=20 conv=fsync status=none
        sig_config "$f.${s%%:*}" "$tmp/${s#*:}"
        fba flash --no-progress
        is "$?" 0 "good signature ($s): exit 0"
        same_as_image "$dev" "$tmp/disk.img"
        ok $? "good signature ($s): byte for byte"
done
like "$tmp/out" 'RSA signature is valid' "the RSA signature was checked"

# A signature that cannot be fetched stops the flash before the disk is touched.
restore_old
sig_config "$f.missing.sig" "$tmp/ed.pub"
sed -i 's/"images"/"retries": 1, "images"/' "$tmp/cfg.json"
fba flash --no-progress
is "$?" 6 "missing signature: exit 6"
same_as_image "$dev" "$tmp/disk.img"
ok $? "missing signature: the disk is untouched"
like "$tmp/out" 'Failed to download the signature' "missing signature: said so"

# A missing image (404): no retries, the disk untouched.
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system $f "$backing")"
sed -i "s|/$f\"|/nothing.zst\"|" "$tmp/cfg.json"
fba flash --no-progress
is "$?" 6 "image 404: exit 6"
same_as_image "$dev" "$tmp/disk.img"
ok $? "image 404: the disk is untouched"
like "$tmp/out" 'HTTP 404' "image 404: the status is in the error"

# A corrupt zstd stream (with a matching hash: only the decompressor can tell).
head -c 2000000 "$tmp/srv/$f" >"$tmp/srv/corrupt.zst"
head -c 100000 /dev/urandom >>"$tmp/srv/corrupt.zst"
tail -c +2100001 "$tmp/srv/$f" >>"$tmp/srv/corrupt.zst"
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system corrupt.zst "$backing")"
fba flash --no-progress
expect_wiped $? "corrupt zstd data" "$dev" "$tmp/disk.img"
like "$tmp/out" 'corrupt zstd data|zstd stream' "corrupt zstd: said so"
like "$tmp/out" 'matches its SHA-256 .*published file itself is corrupt' "corrupt zstd: the hash matched, so the published file is corrupt"
verdict() {
        python3 -c "import json,sys; e=json.load(open(sys.argv[1]))['flash']['images']['system']; print(e['verdict'], e['bytes_downloaded'], e.get('error', ''))" \
                "$tmp/state/state.json"
}
verdict >"$tmp/v" 2>&1
like "$tmp/v" '^failed ' "corrupt zstd, hash matched: verdict failed"

# The same damage, with the hash of the good file configured (a file damaged on its way, or
# the wrong one): the decoder stops writing at the damage, the rest of the file is still
# received and hashed, and the verdict says the file does not match its SHA-256, with the
# decoder's complaint beside it.
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system corrupt.zst "$backing")"
sed -i "s/$(sha256 "$tmp/srv/corrupt.zst")/$(sha256 "$tmp/srv/$f")/" "$tmp/cfg.json"
fba flash --no-progress
expect_wiped $? "damaged file, good hash" "$dev" "$tmp/disk.img"
like "$tmp/out" 'does not match its SHA-256 \(expected '"$(sha256 "$tmp/srv/$f")"', got '"$(sha256 "$tmp/srv/corrupt.zst")" \
        "damaged file: the hash mismatch is reported, with both hashes"
like "$tmp/out" 'does not match its SHA-256.*corrupt zstd data near byte' "damaged file: and the decoder's complaint beside it"
verdict >"$tmp/v" 2>&1
like "$tmp/v" "^hash-mismatch $(stat -c %s "$tmp/srv/corrupt.zst") " \
        "damaged file: verdict hash-mismatch, after hashing the whole file"
like "$tmp/v" 'does not match its SHA-256' "damaged file: the recorded error says which check failed"

# A stream cut short (also with a matching hash).
head -c 3000000 "$tmp/srv/disk.img.xz" >"$tmp/srv/cut.xz"
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system cut.xz "$backing")"
fba flash --no-progress
expect_wiped $? "xz stream cut short" "$dev" "$tmp/disk.img"
like "$tmp/out" 'ends early' "cut xz: said so"

# An image larger than the disk whose GPT says so: refused before anything is written.
make_disk_image "$tmp/big.img" 80
xz -T1 -0 -c "$tmp/big.img" >"$tmp/srv/big.img.xz"
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system big.img.xz "$backing")"
fba flash --no-progress
is "$?" 6 "GPT image larger than the disk: exit 6"
same_as_image "$dev" "$tmp/disk.img"
ok $? "GPT image larger than the disk: the disk is untouched"
like "$tmp/out" 'backup GPT ends at byte 83886080, past the device' "GPT image too large: said so"

# Without a partition table to tell (size unknown in advance with xz): found while writing.
mkfs.ext4 -q -F -d "$src/agent" "$tmp/fs.img" 80M >/dev/null
xz -T1 -0 -c "$tmp/fs.img" >"$tmp/srv/fs.img.xz"
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system fs.img.xz "$backing")"
fba flash --no-progress
expect_wiped $? "image larger than the disk" "$dev"
like "$tmp/out" 'larger than the device' "too large: said so"

# The configured size disagrees with the stream.
restore_old
flash_config "$tmp/cfg.json" "$(image_entry system disk.img.gz "$backing" '"size": 49283072')"
fba flash --no-progress
expect_wiped $? "size differs from the configured one" "$dev"

tap_done
