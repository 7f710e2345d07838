# SPDX-License-Identifier: MIT
"""TAP for the Python checks of tests/pkg: ok() per check, done() prints the plan."""

n_test = 0
n_fail = 0


def ok(cond, name, diag=None):
    global n_test, n_fail
    n_test += 1
    if not cond:
        n_fail += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", n_test, name))
    if diag and not cond:
        for line in diag:
            print("#   " + line)


def done():
    """Prints the plan; returns the exit status (1 if any check failed)."""
    print("1..%d" % n_test)
    return 1 if n_fail else 0


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()
