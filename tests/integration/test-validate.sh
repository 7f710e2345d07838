#!/bin/bash
# SPDX-License-Identifier: MIT
# "first-boot-agent validate" through the real binary: the bad corpus (each file's problems,
# line by line, against NAME.expected), the good corpus, --json, exit codes, the permission
# refusal, a missing file, and the three ways the path is chosen. TAP output.

set -u

src=${FBA_SOURCE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${FBA_BIN:-$src/build/agent/first-boot-agent}
corpus="$src/tests/data/configs"

. "$src/tests/tap.sh"

[ -x "$bin" ] || { echo "Bail out! no binary at $bin"; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# No kernel command line of this machine may leak into the tests.
printf 'BOOT_IMAGE=/vmlinuz quiet\n' > "$tmp/cmdline-none"
export FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline-none"

# validate run inside $tmp, so that problem lines carry the bare file name as in NAME.expected.
run() {         # run ARGS…: sets rc, out, err
        (cd "$tmp" && "$bin" "$@" >"$tmp/.out" 2>"$tmp/.err")
        rc=$?
        out=$(cat "$tmp/.out")
        err=$(cat "$tmp/.err")
}

# --- the bad corpus: exact problem lines, exit 3, nothing on stdout ---------------------------
for f in "$corpus"/bad/*.json; do
        name=$(basename "$f" .json)
        install -m 0600 "$f" "$tmp/$name.json"
        run validate "$name.json"
        is "$rc" 3 "bad/$name: exit 3"
        is "$err" "$(cat "$corpus/bad/$name.expected")" "bad/$name: problems as expected"
        is "$out" "" "bad/$name: nothing on stdout"

        run validate --json "$name.json"
        is "$rc" 3 "bad/$name --json: exit 3"
        echo "$out" | python3 -m json.tool >/dev/null 2>&1
        ok $? "bad/$name --json: valid JSON"
        count=$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["valid"], len(d["problems"]))' 2>/dev/null)
        is "$count" "False $(grep -c '' "$corpus/bad/$name.expected")" "bad/$name --json: invalid, one entry per problem"
done

# --- the good corpus: one summary line on stdout, exit 0 -----------------------------------------
for f in "$corpus"/good/*.json; do
        name=$(basename "$f" .json)
        install -m 0600 "$f" "$tmp/$name.json"
        run validate "$name.json"
        is "$rc" 0 "good/$name: exit 0"
        is "$err" "" "good/$name: nothing on stderr"
        is "$(echo "$out" | head -n 1 | grep -c "^$name.json: valid: node ")" 1 "good/$name: the summary first"
        is "$(echo "$out" | grep -c "^$name.json: TLS ")" 1 "good/$name: a TLS line"
        is "$(echo "$out" | grep -c "^$name.json: plan (node_role ")" 1 "good/$name: the plan"

        run validate "$name.json" --json
        is "$rc" 0 "good/$name --json: exit 0"
        is "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["file"], d["valid"], d["problems"])')" \
           "$name.json True []" "good/$name --json: valid, no problems"
done

run validate join.json
is "$(echo "$out" | head -n 1)" 'join.json: valid: node cp04 (control-plane) joins cluster "east"; services: chainfire, flaredb, iam; leaders: chainfire https://cp01.east.example.net:2379, flaredb https://cp01.east.example.net:2479' \
   "join summary: node, role, join, services, derived leader URLs"
is "$(echo "$out" | sed -n 3p)" 'join.json: plan (node_role control-plane): config → chainfire-health → chainfire-join → flaredb-health → flaredb-join → iam-health → iam-setup → health-report' \
   "join plan: each service's health right before its join"
run validate all-in-one.json
is "$(echo "$out" | head -n 1)" 'all-in-one.json: valid: node solo01 (all-in-one) bootstraps cluster "bench" with 1 initial peer; services: chainfire, flaredb, iam' \
   "all-in-one summary"
contains "$out" 'all-in-one.json: not applying: identity (no provisioning section: the configuration names this node); health-report (health_check.enabled is false)' \
        "all-in-one: what does not apply and why"
run validate worker-http.json
is "$(echo "$out" | head -n 1)" 'worker-http.json: valid: node wk07 (worker) joins cluster "east"; services: none' \
   "a worker runs no cluster service"
contains "$out" 'worker-http.json: plan (node_role worker): config → health-report' "worker plan"
contains "$out" 'chainfire-join (node_role worker: a worker runs no cluster service and joins no raft group)' \
   "worker: chainfire does not apply because of the role"
contains "$out" 'flaredb-join (services.flaredb.enabled is false)' "worker: flaredb because the file says so"

# --- the seed's own configs: TLS from the https:// leader, the CA and the node's certificate from
# the seed's secrets directory (tls.secrets_dir points it at a temporary one), role and cluster
# name left out.
mkdir -p "$tmp/secrets"
"$src/tests/server/gen-certs.sh" "$tmp/gen" >/dev/null 2>&1 || bail "gen-certs.sh failed"
cp "$tmp/gen/ca.crt" "$tmp/secrets/ca.crt"
install -m 0600 "$tmp/gen/client.key" "$tmp/secrets/node04.key"
cp "$tmp/gen/client.crt" "$tmp/secrets/node04.crt"
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["tls"]={"secrets_dir": sys.argv[2]}; json.dump(c, open(sys.argv[3],"w"))' \
        "$corpus/good/seed-example-join.json" "$tmp/secrets" "$tmp/seed-join.json"
chmod 600 "$tmp/seed-join.json"
run validate seed-join.json
is "$rc" 0 "the seed's join example with its secrets: valid"
is "$(echo "$out" | sed -n 2p)" "seed-join.json: TLS on (implied by an https:// leader URL); CA $tmp/secrets/ca.crt (found in tls.secrets_dir); client certificate $tmp/secrets/node04.crt with key $tmp/secrets/node04.key (found in tls.secrets_dir)" \
   "which CA and client identity, and why"
contains "$(echo "$out" | head -n 1)" "node node04 (control-plane, the default) joins its cluster" "no node_role: control-plane, said so"
run validate --json seed-join.json
is "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); t=d["tls"]; print(t["enabled"], t["enabled_source"], t["ca_source"], t["client_source"], d["node_role"]["source"], [p["step"] for p in d["plan"] if p["applies"]][1])')" \
   "True implied by an https:// leader URL found in tls.secrets_dir found in tls.secrets_dir the default chainfire-health" \
   "--json: TLS, its sources and the plan"
rm -f "$tmp/secrets/node04.key"
run validate seed-join.json
contains "$out" "no client certificate (none set, no node04.crt and .key in $tmp/secrets)" "half a client identity is none"

# --- --json details --------------------------------------------------------------------------------
run validate --json syntax-error.json
is "$(echo "$out" | python3 -c 'import json,sys; p=json.load(sys.stdin)["problems"][0]; print(p["path"], p["line"], p["column"], p["expected"])')" \
   "None 4 13 valid JSON" "--json: syntax error with line and column, no path"
run validate --json unknown-keys.json
is "$(echo "$out" | python3 -c 'import json,sys; p=json.load(sys.stdin)["problems"][0]; print(p["path"], p["hint"], p["line"])')" \
   '.bootstap did you mean "bootstrap"? None' "--json: path and hint"

# --- permissions -----------------------------------------------------------------------------------
install -m 0644 "$corpus/good/join.json" "$tmp/open.json"
run validate open.json
is "$rc" 3 "0644: exit 3"
is "$err" "open.json: expected a file that only its owner can read or write (mode 0600), found mode 0644; run: chmod 600 open.json" \
   "0644: the mode found and the chmod to run"
chmod 0640 "$tmp/open.json"
run validate "$tmp/open.json"
contains "$err" "found mode 0640; run: chmod 600 $tmp/open.json" "0640: refused with the full path"
chmod 0600 "$tmp/open.json"
run validate "$tmp/open.json"
is "$rc" 0 "after chmod 600: valid"

# --- missing file ------------------------------------------------------------------------------
run validate nowhere.json
is "$rc" 3 "missing file: exit 3"
is "$err" "nowhere.json: expected an existing configuration file, found no file at nowhere.json; the path comes from --config, else first_boot_agent.config= on the kernel command line, else /etc/nixos/secrets/cluster-config.json" \
   "missing file: the path and how it is chosen"
run validate --json nowhere.json
is "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["valid"], d["problems"][0]["found"])')" \
   "False no file at nowhere.json" "missing file --json"

# --- how the path is chosen ------------------------------------------------------------------------
run --config join.json validate
is "$rc" 0 "global --config"
contains "$out" "join.json: valid:" "global --config names the file"
run -c bad-enums.json validate
is "$rc" 3 "global -c with a bad file"
run --config bad-enums.json validate join.json
is "$rc" 0 "FILE wins over --config"

printf 'BOOT_IMAGE=/vmlinuz root=/dev/nvme0n1p2 first_boot_agent.config=%s ro quiet\n' "$tmp/bootstrap.json" \
        > "$tmp/cmdline"
FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline" run validate
is "$rc" 0 "kernel command line: first_boot_agent.config="
contains "$out" "$tmp/bootstrap.json: valid: node cp01" "kernel command line names the file"
FIRST_BOOT_AGENT_PROC_CMDLINE="$tmp/cmdline" run --config worker-http.json validate
contains "$out" "worker-http.json: valid: node wk07" "--config wins over the kernel command line"

if [ ! -e /etc/nixos/secrets/cluster-config.json ]; then
        run validate
        is "$rc" 3 "default path: exit 3 when absent"
        contains "$err" "/etc/nixos/secrets/cluster-config.json: expected an existing configuration file, found no file at /etc/nixos/secrets/cluster-config.json" \
                 "default path named"
else
        echo "ok $((n += 1)) - # SKIP this machine has a default configuration"
        echo "ok $((n += 1)) - # SKIP this machine has a default configuration"
fi

# --- drop-in fragments beside the file ---------------------------------------------------------------
mkdir -p "$tmp/dropin/node.d"
install -m 0600 "$corpus/good/join.json" "$tmp/dropin/node.json"
( umask 077
  echo '{"services": {"iam": {"enabled": false}}}' >"$tmp/dropin/node.d/50-nixos.json"
  echo '{"services": {"flaredb": {"enabled": false}}}' >"$tmp/dropin/node.d/60-admin.json"
  echo 'not a fragment' >"$tmp/dropin/node.d/README" )
run validate dropin/node.json
is "$rc" 0 "drop-ins: valid"
contains "$out" "services: chainfire; leaders: chainfire" "drop-ins: both fragments applied (iam and flaredb off)"
contains "$out" "; drop-ins: dropin/node.d/50-nixos.json, dropin/node.d/60-admin.json" "drop-ins: listed in the order they apply"
( umask 077; echo '{"services": {"flaredb": {"enabled": true}}}' >"$tmp/dropin/node.d/70-later.json" )
run validate dropin/node.json
contains "$out" "services: chainfire, flaredb;" "drop-ins: a later fragment (by name) wins"
( umask 077; echo '{"services": {"iam": {"api_port": "8080"}}, "bootstap": true}' >"$tmp/dropin/node.d/80-bad.json" )
run validate dropin/node.json
is "$rc" 3 "drop-ins: a bad value in a fragment: exit 3"
is "$err" 'dropin/node.d/80-bad.json: .bootstap: expected a known key, found the unknown key "bootstap"; did you mean "bootstrap"?
dropin/node.d/80-bad.json: .services.iam.api_port: expected an integer between 1 and 65535, found the string "8080"; write 8080 without quotes' \
        "drop-ins: each problem names the fragment, not the main file"
run validate --json dropin/node.json
is "$(echo "$out" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["file"], sorted({p["file"] for p in d["problems"]}))')" \
        "dropin/node.json ['dropin/node.d/80-bad.json']" "drop-ins --json: each problem carries its file"
rm "$tmp/dropin/node.d/80-bad.json"
( umask 022; echo '{"rack": "r1"}' >"$tmp/dropin/node.d/90-open.json" )
run validate dropin/node.json
is "$rc" 3 "drop-ins: a fragment others can read: exit 3"
contains "$err" "dropin/node.d/90-open.json: expected a file that only its owner can read or write (mode 0600), found mode 0644; run: chmod 600 dropin/node.d/90-open.json" \
        "drop-ins: the fragment's mode, and the chmod to run"
: >"$tmp/dropin/node.d/90-open.json"
chmod 600 "$tmp/dropin/node.d/90-open.json"
run validate dropin/node.json
is "$rc" 0 "drop-ins: an empty fragment is ignored (it masks one of its name lower down)"

# --- control characters: refused, named, shown escaped; never a raw one on the terminal ---------
# (what each is refused for: tests/data/configs/bad/control-characters.expected, above)
# raw_controls FILE: the number of C0 (but newline), DEL and C1 (as UTF-8) characters in FILE.
raw_controls() {
        python3 -c 'import re,sys; t=open(sys.argv[1],"rb").read().decode("utf-8","replace"); print(len(re.findall("[\x00-\x09\x0b-\x1f\x7f\x80-\x9f]", t)))' "$1"
}
python3 -c 'import json,sys; c=json.load(open(sys.argv[1])); c["tls"]["secrets_dir"]="/etc/nixos/secrets\x1b]0;owned\x07"; json.dump(c, open(sys.argv[2],"w"))' \
        "$corpus/good/join.json" "$tmp/osc.json"
chmod 600 "$tmp/osc.json"
run validate osc.json
is "$rc" 3 "an OSC escape in tls.secrets_dir: refused (exit 3)"
is "$err" 'osc.json: .tls.secrets_dir: expected an absolute path, found the string "/etc/nixos/secrets\u001b]0;owned\u0007"; control characters (C0, DEL, C1; shown escaped) are not allowed here: remove them' \
        "the field is named and the value shown escaped"
is "$(raw_controls "$tmp/.err")$(raw_controls "$tmp/.out")" "00" "no raw control character in the output"
run validate --json osc.json
is "$rc" 3 "--json: exit 3"
is "$(raw_controls "$tmp/.out")$(raw_controls "$tmp/.err")" "00" "--json: no raw control character"
is "$(echo "$out" | python3 -c 'import json,sys; p=json.load(sys.stdin)["problems"][0]; print(p["path"], "\x1b" in p["found"])')" \
        ".tls.secrets_dir False" "--json: the path, the value escaped in found"
# File names are not checked, only shown: one with an escape and a C1 CSI in it.
bad_name=$(printf 'n\033[2Jame\302\233.json')
install -m 0600 "$corpus/good/join.json" "$tmp/$bad_name"
run validate "$bad_name"
is "$rc" 0 "a file whose name holds control characters: valid"
contains "$out" 'n\x1b[2Jame\xc2\x9b.json: valid: node cp04' "its name is shown escaped"
is "$(raw_controls "$tmp/.out")" 0 "no raw control character in the summary"
chmod 644 "$tmp/$bad_name"
run validate --json "$bad_name"
is "$(raw_controls "$tmp/.out")" 0 "--json, a refused file: no raw control character"
is "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["file"] == sys.argv[1])' "$bad_name")" True \
        "--json: the name escaped as JSON, read back as it was"

# --- drop-in directories others may write to ---------------------------------------------------------
# A real unprivileged user (nobody) owns a 0777 drop-in directory and masks a fragment in it.
mkdir -p "$tmp/shared/node.d"
install -m 0600 "$corpus/good/join.json" "$tmp/shared/node.json"
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
        chmod 755 "$tmp"
        chown nobody "$tmp/shared/node.d"
        chmod 0777 "$tmp/shared/node.d"
        setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups sh -c ": >'$tmp/shared/node.d/50-nixos.json'"
        ok $? "nobody writes a mask into the 0777 drop-in directory"
        run validate shared/node.json
        is "$rc" 3 "a drop-in directory others may write to: refused (exit 3)"
        is "$err" "shared/node.d: expected a drop-in directory owned by root (or by the user running this) that group and others cannot write to, found owner uid $(id -u nobody), mode 0777; whoever may write to it could add a fragment or mask one; run: chown root: shared/node.d && chmod go-w shared/node.d" \
                "the directory, its owner and mode, and what to run"
        chown root "$tmp/shared/node.d"
        chmod 0755 "$tmp/shared/node.d"
        run validate shared/node.json
        is "$rc" 3 "the directory fixed, nobody's mask still refused"
        contains "$err" "shared/node.d/50-nixos.json: expected a drop-in owned by root or by the user running this, found owner uid $(id -u nobody); run: chown root: shared/node.d/50-nixos.json" \
                "the mask's owner named"
        chmod 700 "$tmp"
else
        for i in 1 2 3 4 5; do echo "ok $((n += 1)) - # SKIP a directory and a mask of another user need root and setpriv"; done
fi
rm -f "$tmp/shared/node.d/50-nixos.json"
ln -s /dev/null "$tmp/shared/node.d/50-nixos.json"
( umask 077; echo '{"services": {"iam": {"enabled": false}}}' >"$tmp/shared/node.d/40-no-iam.json" )
run validate shared/node.json
is "$rc" 0 "a symlink to /dev/null: a mask"
ln -s "$tmp/dropin/node.d/60-admin.json" "$tmp/shared/node.d/60-admin.json"
run validate shared/node.json
is "$rc" 3 "a symlink to a fragment elsewhere: refused"
contains "$err" "shared/node.d/60-admin.json: expected a regular file (drop-ins are not followed through symlinks; a symlink to /dev/null masks), found a symlink to $tmp/dropin/node.d/60-admin.json" \
        "the link and its target named"

# --- usage -------------------------------------------------------------------------------------------
run validate a.json b.json
is "$rc" 2 "two files: usage error"
contains "$err" "at most one FILE" "two files: said so"
run validate --bogus
is "$rc" 2 "unknown option: usage error"
run validate --help
is "$rc" 0 "--help: exit 0"
contains "$out" "Usage: first-boot-agent validate [FILE] [--json]" "--help: usage line"

# --- nothing beyond what a problem needs ----------------------------------------------------------
run validate url-credentials.json
case "$err" in *hunter2*) ok 1 "credentials in a URL are not repeated" ;; *) ok 0 "credentials in a URL are not repeated" ;; esac
run validate --json url-credentials.json
case "$out" in *hunter2*) ok 1 "nor in --json" ;; *) ok 0 "nor in --json" ;; esac

tap_done
