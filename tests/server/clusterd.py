#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test cluster server: the chainfire/flaredb admin API, the IAM admin API and a report
sink, on loopback listeners, with a plain-HTTP control API to inspect state and to inject
health changes, closed listeners, failures and delays. Python 3 standard library only.
See tests/server/README.md."""

import argparse
import json
import os
import signal
import ssl
import sys
import threading

sys.dont_write_bytecode = True          # no __pycache__ in the source tree
from clusterd_control import ControlServer  # noqa: E402
from clusterd_core import (CLUSTER_SERVICES, NODE_RE, OPTS, SERVICES, STATE, UsageError, add_cluster_service,
                           is_loopback, parse_host_port, say)
from clusterd_service import Listener  # noqa: E402


def make_ssl_ctx(tls_dir, client_ca, cert=None, key=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert or os.path.join(tls_dir, "server.crt"), key or os.path.join(tls_dir, "server.key"))
    if client_ca:
        ctx.load_verify_locations(cafile=client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def split_spec(text, n, what, option):
    parts = text.split(":", n - 1)
    if len(parts) != n or not all(parts):
        raise UsageError("%s '%s': expected %s" % (option, text, what))
    return parts


def check_service(svc, option, text, allowed=SERVICES):
    if svc not in allowed:
        raise UsageError("%s '%s': unknown service '%s' (one of %s)" % (option, text, svc, ", ".join(allowed)))


def parse_args(argv):
    p = argparse.ArgumentParser(prog="clusterd.py", description=__doc__.split("\n")[0])
    p.add_argument("--cluster-service", action="append", default=[], metavar="NAME")
    p.add_argument("--listen", action="append", default=[], metavar="SERVICE:NODE:HOST:PORT")
    p.add_argument("--member", action="append", default=[], metavar="SERVICE:ID:RAFT_ADDR")
    p.add_argument("--tls-dir", metavar="DIR")
    p.add_argument("--client-ca", metavar="FILE")
    p.add_argument("--iam-bootstrap-token", metavar="TOKEN")
    p.add_argument("--iam-user", action="append", default=[], metavar="NAME:PASSWORD")
    p.add_argument("--control", required=True, metavar="HOST:PORT")
    p.add_argument("--ready-file", metavar="FILE")
    p.add_argument("--pidfile", metavar="FILE")
    p.add_argument("--plain", action="append", default=[], metavar="SERVICE:NODE")
    p.add_argument("--down", action="append", default=[], metavar="SERVICE:NODE")
    p.add_argument("--unhealthy", action="append", default=[], metavar="SERVICE:NODE")
    p.add_argument("--healthy-after", action="append", default=[], metavar="SERVICE:NODE:SECONDS")
    p.add_argument("--healthy-when-member", action="append", default=[], metavar="SERVICE:NODE:CLUSTER_SERVICE")
    p.add_argument("--node-cert", action="append", default=[], metavar="NODE:CERT:KEY")
    p.add_argument("--any-address", action="store_true")
    p.add_argument("--verbose", "-v", action="store_true")
    return p.parse_args(argv)


def setup(args):
    """Validate everything and build the state; raises UsageError."""
    if args.client_ca and not args.tls_dir:
        raise UsageError("--client-ca needs --tls-dir")
    if not args.listen:
        raise UsageError("at least one --listen SERVICE:NODE:HOST:PORT is needed")
    for name in args.cluster_service:
        add_cluster_service(name)
    for spec in args.listen:
        svc, node, rest = split_spec(spec, 3, "SERVICE:NODE:HOST:PORT", "--listen")
        check_service(svc, "--listen", spec)
        if not NODE_RE.match(node):
            raise UsageError("--listen '%s': bad node name '%s'" % (spec, node))
        try:
            host, port = parse_host_port(rest)
        except ValueError as e:
            raise UsageError("--listen '%s': %s" % (spec, e))
        if not is_loopback(host) and not args.any_address:
            raise UsageError("--listen '%s': '%s' is not a loopback address (127.0.0.0/8, ::1); "
                             "--any-address allows it inside a network namespace of the test's own" % (spec, host))
        if (svc, node) in STATE.listeners:
            raise UsageError("--listen '%s': %s:%s is given twice" % (spec, svc, node))
        STATE.listeners[(svc, node)] = Listener(svc, node, host, port)
    for spec in args.member:
        svc, mid, raddr = split_spec(spec, 3, "SERVICE:ID:RAFT_ADDR", "--member")
        check_service(svc, "--member", spec, CLUSTER_SERVICES)
        try:
            parse_host_port(raddr)
        except ValueError as e:
            raise UsageError("--member '%s': raft address: %s" % (spec, e))
        for m in STATE.members[svc]:
            if m["id"] == mid or m["raft_addr"] == raddr:
                raise UsageError("--member '%s' duplicates member '%s'" % (spec, m["id"]))
        STATE.members[svc].append({"id": mid, "raft_addr": raddr, "status": "active"})
    for spec in args.iam_user:
        name, sep, password = spec.partition(":")
        if not sep or not name or not password:
            raise UsageError("--iam-user: expected NAME:PASSWORD")
        STATE.users[name] = {"password": password, "roles": ["admin"]}
    STATE.bootstrap_token = args.iam_bootstrap_token or None

    def find(spec, option, parts):
        svc, node = parts[0], parts[1]
        lst = STATE.listeners.get((svc, node))
        if lst is None:
            raise UsageError("%s '%s': no --listen for %s:%s" % (option, spec, svc, node))
        return lst

    down = set()
    for spec in args.down:
        down.add(find(spec, "--down", split_spec(spec, 2, "SERVICE:NODE", "--down")))
    for spec in args.plain:
        find(spec, "--plain", split_spec(spec, 2, "SERVICE:NODE", "--plain")).plain = True
    for spec in args.unhealthy:
        find(spec, "--unhealthy", split_spec(spec, 2, "SERVICE:NODE", "--unhealthy")).set_health(False)
    for spec in args.healthy_after:
        parts = split_spec(spec, 3, "SERVICE:NODE:SECONDS", "--healthy-after")
        try:
            secs = float(parts[2])
        except ValueError:
            raise UsageError("--healthy-after '%s': '%s' is not a number of seconds" % (spec, parts[2]))
        find(spec, "--healthy-after", parts).set_health(True, secs)
    for spec in args.healthy_when_member:
        parts = split_spec(spec, 3, "SERVICE:NODE:CLUSTER_SERVICE", "--healthy-when-member")
        check_service(parts[2], "--healthy-when-member", spec, CLUSTER_SERVICES)
        find(spec, "--healthy-when-member", parts).member_of = (parts[2], parts[1])
    for spec in args.node_cert:
        node, cert, key = split_spec(spec, 3, "NODE:CERT:KEY", "--node-cert")
        lsts = [l for l in STATE.listeners.values() if l.node == node]
        if not lsts:
            raise UsageError("--node-cert '%s': no --listen for node '%s'" % (spec, node))
        if not args.tls_dir:
            raise UsageError("--node-cert needs --tls-dir")
        try:
            ctx = make_ssl_ctx(args.tls_dir, args.client_ca, cert, key)
        except (OSError, ssl.SSLError) as e:
            raise UsageError("--node-cert '%s': cannot load the certificate: %s" % (spec, e))
        for l in lsts:
            l.ssl_ctx = ctx
    try:
        control = parse_host_port(args.control)
    except ValueError as e:
        raise UsageError("--control '%s': %s" % (args.control, e))
    if not is_loopback(control[0]):
        raise UsageError("--control '%s': '%s' is not a loopback address (127.0.0.0/8, ::1)" % (args.control, control[0]))
    return control, down


def write_atomic(path, text):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def main(argv):
    args = parse_args(argv)
    OPTS.verbose = args.verbose
    try:
        control_addr, down = setup(args)
    except UsageError as e:
        say(str(e))
        return 2
    if args.tls_dir:
        try:
            OPTS.ssl_ctx = make_ssl_ctx(args.tls_dir, args.client_ca)
        except (OSError, ssl.SSLError) as e:
            say("cannot load TLS material from '%s' (server.crt, server.key)%s: %s" % (
                args.tls_dir, " or client CA '%s'" % args.client_ca if args.client_ca else "", e))
            return 1

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    opened = []
    written = []
    control = None
    if args.ready_file:                 # a stale one must not announce this run
        try:
            os.unlink(args.ready_file)
        except FileNotFoundError:
            pass
        except OSError as e:
            say("cannot remove the old ready file: %s" % e)
            return 1
    try:
        for lst in STATE.listeners.values():
            if lst in down:
                continue
            try:
                lst.open(OPTS.ssl_ctx)
            except OSError as e:
                say("cannot listen on %s:%d for %s: %s" % (lst.host, lst.port, lst.name(), e))
                return 1
            opened.append(lst)
        try:
            control = ControlServer(control_addr)
        except OSError as e:
            say("cannot listen on %s:%d for the control API: %s" % (control_addr[0], control_addr[1], e))
            return 1
        threading.Thread(target=control.serve_forever, kwargs={"poll_interval": 0.05},
                         name="control", daemon=True).start()

        try:
            if args.pidfile:
                write_atomic(args.pidfile, "%d\n" % os.getpid())
                written.append(args.pidfile)
            if args.ready_file:
                ready = {"pid": os.getpid(), "control": "%s:%d" % control.server_address[:2],
                         "listeners": [l.describe() for l in STATE.listeners.values()]}
                write_atomic(args.ready_file, json.dumps(ready, sort_keys=True) + "\n")
                written.append(args.ready_file)
        except OSError as e:
            say("cannot write the pid or ready file: %s" % e)
            return 1
        say("ready: %d listener(s) up, %d down, control on %s:%d%s" % (
            len(opened), len(down), control.server_address[0], control.server_address[1],
            " (TLS%s)" % (", client certificates required" if args.client_ca else "") if OPTS.ssl_ctx else ""))
        while not stop.wait(0.2):
            pass
        return 0
    finally:
        for lst in STATE.listeners.values():
            lst.close()
        if control is not None:
            control.shutdown()
            control.server_close()
        for f in written:
            try:
                os.unlink(f)
            except OSError:
                pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
