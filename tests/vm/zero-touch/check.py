#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks for the zero-touch test: reads the cluster test server's control API, the guest's
console log and its journal. Each subcommand prints one line of explanation and exits 0 when
the check holds, 1 when not."""

import json
import re
import sys
import urllib.request

STEPS = ["identity", "config", "chainfire-health", "chainfire-join", "flaredb-health", "flaredb-join", "iam-health", "iam-setup",
         "health-report"]


def control(base, path):
    with urllib.request.urlopen(base + path, timeout=10) as r:
        return json.load(r)


def report_event(body):
    if isinstance(body, dict):
        for k in ("event", "type", "kind"):
            if isinstance(body.get(k), str):
                return body[k]
    return None


def reports(base):
    out = []
    for r in control(base, "/control/state").get("reports", []):
        body = r.get("body")
        out.append((report_event(body), body))
    return out


def find_steps(obj):
    """The steps object of a state or report: {"name": {"status": …}} or a list of them."""
    if isinstance(obj, dict):
        s = obj.get("steps")
        if isinstance(s, dict):
            return {k: (v.get("status") if isinstance(v, dict) else v) for k, v in s.items()}
        if isinstance(s, list):
            return {e.get("name") or e.get("step"): e.get("status") for e in s if isinstance(e, dict)}
        for v in obj.values():
            r = find_steps(v)
            if r:
                return r
    return None


def cmd_ports(ready_file):
    ready = json.load(open(ready_file))
    for l in ready["listeners"]:
        print("%s %s %d" % (l["service"], l["node"], l["port"]))
    print("control %s" % ready["control"])
    return 0


def cmd_members(base, service, node, raft_addr=None):
    members = control(base, "/control/state")["members"].get(service, [])
    mine = [m for m in members if m.get("id") == node]
    print("%s members: %s; '%s' appears %d time(s)" % (
        service, ", ".join("%s@%s" % (m.get("id"), m.get("raft_addr")) for m in members), node, len(mine)))
    return 0 if len(mine) == 1 and raft_addr in (None, mine[0].get("raft_addr")) else 1


def cmd_events(base, *wanted):
    got = [e for e, _ in reports(base)]
    counts = {w: got.count(w) for w in wanted}
    print("reports received: %s" % (", ".join("%s×%d" % (w, c) for w, c in counts.items())))
    return 0 if all(counts.values()) else 1


def cmd_count_reports(base):
    print(len(reports(base)))
    return 0


def cmd_firstboot_report(base, node=None):
    done = [b for e, b in reports(base) if e == "firstboot-done" and node in (None, b.get("node_id"))]
    if not done:
        print("no firstboot-done report%s (events: %s)" % (" from " + node if node else "",
                                                         [(e, b.get("node_id")) for e, b in reports(base)]))
        return 1
    steps = find_steps(done[-1]) or {}
    bad = {}
    for s in STEPS:
        st = steps.get(s)
        ok = st == "done" or (s == "health-report" and st in ("running", "done"))
        if not ok:
            bad[s] = st
    print("firstboot-done report steps: %s" % json.dumps(steps, sort_keys=True))
    if bad:
        print("steps not done: %s" % bad)
        return 1
    return 0


def cmd_requests(base, scope):
    reqs = control(base, "/control/requests")["requests"]
    if scope != "all":
        reqs = [r for r in reqs if r.get("node") == scope]
    print("%d request(s)%s" % (len(reqs), (": " + ", ".join(
        "%s %s %s %s" % (r["service"], r["node"], r["method"], r["path"]) for r in reqs[:10])) if reqs else ""))
    return 0 if not reqs else 1


def cmd_iam_user(base, name):
    users = control(base, "/control/state").get("iam_users", [])
    names = [u.get("name") for u in users]
    print("IAM users: %s" % names)
    return 0 if name in names else 1


def console_line(log, prefix):
    text = open(log, "rb").read().decode("utf-8", "replace")
    lines = [l.strip("\r") for l in text.split("\n") if prefix in l]
    if not lines:
        return None
    l = lines[-1]
    return l[l.index(prefix) + len(prefix):].strip()


def cmd_status_json(log):
    raw = console_line(log, "zt-probe: status-json")
    if not raw:
        print("no status --json output on the console")
        return 1
    try:
        st = json.loads(raw)
    except ValueError as e:
        print("status --json is not JSON (%s): %.200s" % (e, raw))
        return 1
    steps = find_steps(st) or {}
    result = (st.get("run") or {}).get("result")
    bad = {s: steps.get(s) for s in STEPS if steps.get(s) != "done"}
    print("status --json in the guest: run %s, steps %s" % (result, json.dumps(steps, sort_keys=True)))
    return 0 if not bad and result == "done" else 1


def cmd_flash_inventory(base, mac, serial, uuid, disk_serial):
    """The flash-started report carries the machine's inventory."""
    started = [b for e, b in reports(base) if e == "flash-started"]
    inv = (started[-1].get("inventory") if started else None) or {}
    system = inv.get("system") or {}
    got = {"macs": [n.get("mac") for n in inv.get("nics", [])], "serial": system.get("serial"),
           "uuid": system.get("uuid"), "disk_serials": [d.get("serial") for d in inv.get("disks", [])],
           "cpus": inv.get("cpus"), "memory_bytes": inv.get("memory_bytes")}
    print("flash-started inventory: %s" % json.dumps(got, sort_keys=True))
    return 0 if (mac in got["macs"] and got["serial"] == serial and got["uuid"] == uuid and
                 disk_serial in got["disk_serials"] and got["cpus"] and got["memory_bytes"]) else 1


def cmd_identity_unknown(base, mac, serial):
    """An identity-unknown report with the machine's identifiers."""
    bodies = [b for e, b in reports(base) if e == "identity-unknown"]
    ids = [b.get("identifiers") or {} for b in bodies]
    print("identity-unknown reports: %s" % json.dumps(ids, sort_keys=True))
    return 0 if any(mac in i.get("macs", []) and i.get("serial") == serial for i in ids) else 1


def cmd_prov_lookups(prov_base, mac, status, minimum):
    """How many lookups by that MAC the provisioning server answered with that status."""
    reqs = control(prov_base, "/control/state")["requests"]
    mine = [r for r in reqs if mac in r.get("query", {}).get("mac", [])]
    n = sum(1 for r in mine if r.get("status") == int(status))
    print("lookups with mac %s: %d, answered %s: %d (groups: %s)" % (
        mac, len(mine), status, n, sorted({str(r.get("group")) for r in mine})))
    return 0 if n >= int(minimum) else 1


def cmd_waiting(log):
    """The console of a machine nobody knows: the agent still starting, never restarted, status
    showing the identity step running with the unknown machine's identifiers."""
    unit = console_line(log, "zt-probe: unit") or ""
    raw = console_line(log, "zt-probe: status-json") or "{}"
    try:
        st = json.loads(raw)
    except ValueError:
        st = {}
    ident = (st.get("steps") or {}).get("identity") or {}
    print("unit: %s; identity: %s, %s attempt(s), %s" % (unit, ident.get("status"), ident.get("attempts"),
                                                       ident.get("last_error")))
    return 0 if ("ActiveState=activating" in unit and "NRestarts=0" in unit and
                 ident.get("status") == "running" and (ident.get("attempts") or 0) >= 3 and
                 "unknown to the provisioning server" in (ident.get("last_error") or "")) else 1


def cmd_console_value(log, prefix):
    v = console_line(log, prefix)
    print(v if v is not None else "")
    return 0 if v is not None else 1


def message_ids(source_root):
    mids = {}
    for m in re.finditer(r'#define (MID_\w+) "([0-9a-f]{32})"',
                         open(source_root + "/agent/record/message-id.h").read()):
        mids[m.group(2)] = m.group(1)
    return mids


def cmd_journal(json_lines, source_root, *required):
    mids = message_ids(source_root)
    seen = {}
    total = 0
    for line in open(json_lines, errors="replace"):
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("SYSLOG_IDENTIFIER") != "first-boot-agent" and \
           e.get("_SYSTEMD_UNIT") != "first-boot-agent.service":
            continue
        total += 1
        mid = e.get("MESSAGE_ID")
        if mid:
            name = mids.get(mid, mid)
            seen[name] = seen.get(name, 0) + 1
    missing = [r for r in required if r not in seen]
    print("agent journal records: %d, with MESSAGE_ID: %s" % (
        total, ", ".join("%s×%d" % kv for kv in sorted(seen.items()))))
    if missing:
        print("missing: %s" % missing)
    return 0 if total and not missing else 1


def cmd_console_records(log, source_root, *required):
    """The agent's JSON records on a console (no journald in the installer)."""
    mids = message_ids(source_root)
    seen = {}
    for line in open(log, "rb").read().decode("utf-8", "replace").split("\n"):
        i = line.find("{")
        if i < 0:
            continue
        try:
            e = json.loads(line[i:].strip("\r"))
        except ValueError:
            continue
        mid = e.get("message_id") or e.get("MESSAGE_ID") if isinstance(e, dict) else None
        if mid:
            name = mids.get(mid, mid)
            seen[name] = seen.get(name, 0) + 1
    missing = [r for r in required if r not in seen]
    print("agent records on the console: %s" % ", ".join("%s×%d" % kv for kv in sorted(seen.items())))
    if missing:
        print("missing: %s" % missing)
    return 0 if seen and not missing else 1


def main(argv):
    cmds = {
        "ports": cmd_ports, "members": cmd_members, "events": cmd_events,
        "count-reports": cmd_count_reports, "firstboot-report": cmd_firstboot_report,
        "requests": cmd_requests, "iam-user": cmd_iam_user, "status-json": cmd_status_json,
        "console-value": cmd_console_value, "journal": cmd_journal,
        "console-records": cmd_console_records, "flash-inventory": cmd_flash_inventory,
        "identity-unknown": cmd_identity_unknown, "prov-lookups": cmd_prov_lookups, "waiting": cmd_waiting,
    }
    if len(argv) < 2 or argv[1] not in cmds:
        print("usage: check.py {%s} ARGS..." % "|".join(cmds), file=sys.stderr)
        return 2
    try:
        return cmds[argv[1]](*argv[2:])
    except (OSError, ValueError, KeyError) as e:
        print("check failed: %s" % e)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
