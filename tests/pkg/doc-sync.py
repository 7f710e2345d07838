#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keeps the man page and the bash completion in step with the code (TAP output): every verb
of main.c, every long option of main.c and of each verb, every exit code of exit-code.h,
every configuration key the parser knows and every step name must be documented (and, for
verbs, options and steps, completed)."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import ok, read, done  # noqa: E402

def long_options(text):
    """Long option names of every 'struct option ...[] = { ... }' table in text."""
    names = []
    for m in re.finditer(r"struct option\s+\w+\s*\[\]\s*=\s*\{(.*?)\n\s*\};", text, re.S):
        names += re.findall(r'\{\s*"([a-z0-9-]+)"\s*,', m.group(1))
    return names


def man_section(man, title):
    m = re.search(r"^\.SH " + re.escape(title) + r"\s*$(.*?)(?=^\.SH |\Z)", man, re.M | re.S)
    return m.group(1) if m else ""


def main():
    root = os.environ.get("FBA_SOURCE_ROOT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    man = read(os.path.join(root, "units/first-boot-agent.8"))
    comp = read(os.path.join(root, "units/first-boot-agent.bash-completion"))
    main_c = read(os.path.join(root, "agent/main.c"))
    man_plain = man.replace("\\-", "-")

    verbs = re.findall(r'^\s*\{\s*"([a-z-]+)",\s*verb_\w+,', main_c, re.M)
    ok(len(verbs) >= 6, "main.c has a verb table (%s)" % " ".join(verbs))
    verbs_doc = man_section(man, "VERBS").replace("\\-", "-")
    undocumented = [v for v in verbs if not re.search(r"^\.B\w* %s\b" % v, verbs_doc, re.M)]
    ok(not undocumented, "every verb has an entry in VERBS", undocumented)
    m = re.search(r'local verbs="([^"]*)"', comp)
    comp_verbs = m.group(1).split() if m else []
    ok(sorted(comp_verbs) == sorted(verbs), "the completion offers exactly the verbs",
       ["completion: %s" % " ".join(comp_verbs), "main.c: %s" % " ".join(verbs)])

    opts = {"(global)": long_options(main_c)}
    verbs_dir = os.path.join(root, "agent/verbs")
    for fn in sorted(os.listdir(verbs_dir)):
        if fn.startswith("verb-") and fn.endswith(".c"):
            opts[fn[5:-2]] = long_options(read(os.path.join(verbs_dir, fn)))
    missing_man, missing_comp = [], []
    for verb, names in sorted(opts.items()):
        for n in names:
            if "--" + n not in man_plain:
                missing_man.append("%s: --%s" % (verb, n))
            if "--" + n not in comp:
                missing_comp.append("%s: --%s" % (verb, n))
    ok(sum(len(v) for v in opts.values()) > 5, "found long options (%d)" % sum(len(v) for v in opts.values()))
    ok(not missing_man, "the man page names every long option", missing_man)
    ok(not missing_comp, "the completion offers every long option", missing_comp)

    m = re.search(r"Unknown --log-target '%s': expected ([a-z, ]+)\.", main_c)
    targets = re.split(r", | or ", m.group(1)) if m else []
    ok(len(targets) >= 3, "main.c names the log targets (%s)" % " ".join(targets))
    m = re.search(r"^\.BI \\-\\-log\\-target.*?(?=^\.TP)", man, re.M | re.S)
    entry = m.group(0) if m else ""
    m = re.search(r"--log-target\)\s*COMPREPLY=\(\$\(compgen -W '([^']*)'", comp)
    comp_targets = m.group(1).split() if m else []
    missing = [t for t in targets if not re.search(r"^\.B\w* %s\b" % t, entry, re.M)]
    ok(targets and not missing, "the man page describes every --log-target value", missing)
    ok(sorted(comp_targets) == sorted(targets), "the completion offers exactly the --log-target values",
       ["completion: %s" % " ".join(comp_targets), "main.c: %s" % " ".join(targets)])

    codes = re.findall(r"^\s*EXIT_\w+\s*=\s*(\d+)", read(os.path.join(root, "agent/basic/exit-code.h")), re.M)
    status = man_section(man, "EXIT STATUS")
    ok(len(codes) >= 9, "exit-code.h defines exit codes (%d)" % len(codes))
    ok(all(re.search(r"^\.B %s$" % c, status, re.M) for c in codes), "EXIT STATUS lists every exit code",
       [c for c in codes if not re.search(r"^\.B %s$" % c, status, re.M)])

    keys = set()
    for fn in ("config-load.c", "config-sections.c", "config-flash.c", "config-provisioning.c",
               "config-static-network.c"):
        text = read(os.path.join(root, "agent/config", fn))
        for m in re.finditer(r"static const char \*const \w*keys\w*\[\]\s*=\s*\{(.*?)\};", text, re.S):
            keys |= set(re.findall(r'"([a-z0-9_]+)"', m.group(1)))
    config_doc = man_section(man, "CONFIGURATION").replace("\\-", "-")
    ok(len(keys) > 20, "the configuration parser declares its keys (%d)" % len(keys))
    missing = sorted(k for k in keys if not re.search(r"\b%s\b" % re.escape(k), config_doc))
    ok(not missing, "CONFIGURATION names every configuration key", missing)

    # The steps of a configuration without a "services" map: the seed's.
    steps = re.findall(r'^\s*\.name\s*=\s*"([a-z-]+)"', read(os.path.join(root, "agent/steps/step-plan.c")), re.M)
    for service, join in (("chainfire", "join"), ("flaredb", "join"), ("iam", "setup")):
        steps += ["%s-health" % service, "%s-%s" % (service, join)]
    ok("reset --list" in comp and "member" in comp and "--list-services" in comp,
       "the completion asks the agent for the steps and services of this node's configuration")
    ok(all(s in man_plain for s in steps if s != "config"), "the man page names every step",
       [s for s in steps if s not in man_plain])

    return done()


if __name__ == "__main__":
    sys.exit(main())
