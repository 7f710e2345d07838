#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keeps units/first-boot-agent.catalog in step with the code (TAP output).

Checks:
  1. the MESSAGE_IDs of agent/record/message-id.h and of the catalog are the same set, with
     no duplicate, each ID 32 lower-case hex digits;
  2. every catalog entry has Subject:, Defined-By: first-boot-agent,
     Documentation: man:first-boot-agent(8) and a body;
  3. every @FIELD@ an entry substitutes is a field that every call site emitting that
     MESSAGE_ID sets unconditionally (journalctl -x prints the bare field name when a record
     lacks it), found by reading the log_event*() calls in agent/;
  4. every MESSAGE_ID is emitted somewhere in agent/;
  5. journalctl itself parses the catalog: "journalctl --update-catalog" into a scratch root,
     then "--list-catalog" lists every ID with its subject;
  6. as the NixOS module installs it: only in /usr/local/lib/systemd/catalog/, as a symlink
     into /etc (nixpkgs' journalctl reads that directory and its own package, nothing else).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, read, done  # noqa: E402

# Fields present in every record the agent sends through journald.
ALWAYS = {"MESSAGE", "PRIORITY", "MESSAGE_ID", "SYSLOG_IDENTIFIER", "_PID", "_UID", "_GID",
          "_COMM", "_EXE", "_CMDLINE", "_HOSTNAME", "_BOOT_ID", "_MACHINE_ID",
          "_SYSTEMD_UNIT", "_TRANSPORT"}


def header_ids(text):
    ids = {}
    for m in re.finditer(r'^#define\s+(MID_[A-Z0-9_]+)\s+"([^"]*)"', text, re.M):
        ids[m.group(1)] = m.group(2)
    return ids


def catalog_entries(text):
    """[(id, headers dict, body, line)]"""
    entries = []
    cur = None
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.startswith("#") and cur is None:
            continue
        m = re.match(r"^-- ([0-9A-Za-z]+)(?: (\S+))?\s*$", line)
        if m:
            cur = {"id": m.group(1), "headers": {}, "body": [], "line": lineno, "in_body": False}
            entries.append(cur)
            continue
        if cur is None:
            continue
        if not cur["in_body"]:
            if line.strip() == "":
                cur["in_body"] = True
                continue
            if ":" in line:
                k, v = line.split(":", 1)
                cur["headers"][k.strip()] = v.strip()
            continue
        cur["body"].append(line)
    return entries


def split_args(text):
    """Splits a C argument list at top-level commas."""
    args, depth, cur, i, quote = [], 0, [], 0, None
    while i < len(text):
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\":
                cur.append(text[i + 1])
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        args.append("".join(cur).strip())
    return args


def balanced(text, start):
    """text[start] is '('; returns the inside of the parentheses."""
    depth, i, quote = 0, start, None
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 2
                continue
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
        i += 1
    return None


def call_sites(source_root):
    """{MID_NAME: [(file:line, set of unconditional fields) or (where, None) if unknown]}"""
    sites = {}
    for dirpath, _, files in os.walk(os.path.join(source_root, "agent")):
        for fn in sorted(files):
            if not fn.endswith(".c"):
                continue
            path = os.path.join(dirpath, fn)
            text = read(path)
            for m in re.finditer(r"\blog_event(?:v|_errno)?\s*\(", text):
                inner = balanced(text, m.end() - 1)
                if inner is None:
                    continue
                args = split_args(inner)
                mid_index = next((i for i, a in enumerate(args) if re.fullmatch(r"MID_[A-Z0-9_]+", a)), None)
                if mid_index is None:
                    continue
                mid = args[mid_index]
                where = "%s:%d" % (os.path.relpath(path, source_root), text.count("\n", 0, m.start()) + 1)
                fields_arg = args[mid_index + 1] if mid_index + 1 < len(args) else ""
                if fields_arg == "NO_FIELDS":
                    sites.setdefault(mid, []).append((where, set()))
                    continue
                fm = re.match(r"LOG_FIELDS\s*\(", fields_arg)
                if not fm:
                    sites.setdefault(mid, []).append((where, None))
                    continue
                pairs = split_args(balanced(fields_arg, fm.end() - 1) or "")
                fields = set()
                for k, v in zip(pairs[0::2], pairs[1::2]):
                    km = re.fullmatch(r'"([A-Z0-9_]+)"', k)
                    if not km:
                        continue
                    # A NULL value drops the field from the record.
                    if re.search(r"\bNULL\b", v):
                        continue
                    fields.add(km.group(1))
                sites.setdefault(mid, []).append((where, fields))
    return sites


def main():
    root = os.environ.get("FBA_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    ids = header_ids(read(os.path.join(root, "agent/record/message-id.h")))
    catalog_path = os.path.join(root, "units/first-boot-agent.catalog")
    entries = catalog_entries(read(catalog_path))

    ok(len(ids) > 0, "message-id.h defines MESSAGE_IDs (%d)" % len(ids))
    bad = [n for n, v in ids.items() if not re.fullmatch(r"[0-9a-f]{32}", v)]
    ok(not bad, "every MID_* is 32 lower-case hex digits", bad)
    dup_values = sorted({v for v in ids.values() if list(ids.values()).count(v) > 1})
    ok(not dup_values, "no two MID_* share an ID", dup_values)

    cat_ids = [e["id"] for e in entries]
    dup = sorted({i for i in cat_ids if cat_ids.count(i) > 1})
    ok(not dup, "no catalog entry is duplicated", dup)
    by_value = {v: n for n, v in ids.items()}
    missing = ["%s (%s)" % (n, v) for n, v in sorted(ids.items()) if v not in cat_ids]
    ok(not missing, "every MID_* has a catalog entry", missing)
    extra = ["line %d: %s" % (e["line"], e["id"]) for e in entries if e["id"] not in by_value]
    ok(not extra, "every catalog entry is a MID_* of message-id.h", extra)

    problems = []
    for e in entries:
        h = e["headers"]
        name = by_value.get(e["id"], e["id"])
        if not h.get("Subject"):
            problems.append("%s: no Subject:" % name)
        if h.get("Defined-By") != "first-boot-agent":
            problems.append("%s: Defined-By: is not first-boot-agent" % name)
        if h.get("Documentation") != "man:first-boot-agent(8)":
            problems.append("%s: Documentation: is not man:first-boot-agent(8)" % name)
        if not "".join(e["body"]).strip():
            problems.append("%s: empty body" % name)
    ok(not problems, "every entry has Subject, Defined-By, Documentation and a body", problems)

    sites = call_sites(root)
    problems, notes = [], []
    for e in entries:
        name = by_value.get(e["id"])
        if not name:
            continue
        text = e["headers"].get("Subject", "") + "\n" + "\n".join(e["body"])
        used = set(re.findall(r"@([A-Z0-9_]+)@", text))
        needed = used - ALWAYS
        if not needed:
            continue
        s = sites.get(name, [])
        known = [f for _, f in s if f is not None]
        if not s or len(known) < len(s):
            notes.append("%s: substitutes %s; not checked: %s" %
                         (name, ", ".join(sorted(needed)),
                          "no call site yet" if not s else "a call site passes its fields in a variable"))
            continue
        common = set.intersection(*known)
        lacking = needed - common
        if lacking:
            where = [w for w, f in s if not lacking <= f]
            problems.append("%s substitutes @%s@, not set by %s" %
                            (name, "@, @".join(sorted(lacking)), ", ".join(where)))
    ok(not problems, "every @FIELD@ is set by every call site of its MESSAGE_ID", problems)
    for n in notes:
        print("# note: " + n)

    unused = sorted(n for n in ids if n not in sites)
    ok(not unused, "every MID_* is emitted by the code", unused)

    journalctl = shutil.which("journalctl")
    if journalctl:
        with tempfile.TemporaryDirectory() as root:
            cdir = os.path.join(root, "usr/lib/systemd/catalog")
            os.makedirs(cdir)
            shutil.copy(catalog_path, cdir)
            os.makedirs(os.path.join(root, "var/lib/systemd/catalog"))
            up = subprocess.run([journalctl, "--root", root, "--update-catalog"],
                                capture_output=True, text=True)
            ok(up.returncode == 0 and not up.stderr.strip(), "journalctl --update-catalog accepts the catalog",
               (up.stderr or "").splitlines())
            ls = subprocess.run([journalctl, "--root", root, "--list-catalog"], capture_output=True, text=True)
            listed = {}
            for line in ls.stdout.splitlines():
                parts = line.split(" ", 1)
                if len(parts) == 2:
                    listed[parts[0]] = parts[1]
            lacking = ["%s (%s)" % (n, v) for n, v in sorted(ids.items()) if v not in listed]
            ok(ls.returncode == 0 and not lacking, "journalctl --list-catalog lists every MESSAGE_ID", lacking)
        with tempfile.TemporaryDirectory() as root:
            etc = os.path.join(root, "etc/first-boot-agent")
            local = os.path.join(root, "usr/local/lib/systemd/catalog")
            os.makedirs(etc)
            os.makedirs(local)
            os.makedirs(os.path.join(root, "var/lib/systemd/catalog"))
            shutil.copy(catalog_path, etc)
            os.symlink("../../../../../etc/first-boot-agent/first-boot-agent.catalog",
                       os.path.join(local, "first-boot-agent.catalog"))
            up = subprocess.run([journalctl, "--root", root, "--update-catalog"], capture_output=True, text=True)
            ls = subprocess.run([journalctl, "--root", root, "--list-catalog"], capture_output=True, text=True)
            listed = {line.split(" ", 1)[0] for line in ls.stdout.splitlines()}
            lacking = ["%s (%s)" % (n, v) for n, v in sorted(ids.items()) if v not in listed]
            ok(up.returncode == 0 and ls.returncode == 0 and not lacking,
               "the catalog linked only into /usr/local/lib/systemd/catalog (as on NixOS) reaches journalctl",
               lacking + (up.stderr or "").splitlines())
    else:
        print("# journalctl not found: the catalog was not parsed by journald's own code")

    return done()


if __name__ == "__main__":
    sys.exit(main())
