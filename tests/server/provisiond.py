#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reference provisioning server: answers "who is this machine?" for nodes booted from a
generic gold image. Groups select machines by mac, uuid, serial or disk_serial (as Matchbox
does); each group has the configuration its nodes get. Real state, a request log, faults on
demand. Python 3 standard library (and the openssl command, to sign answers).
See tests/server/README.md.

    provisiond.py --listen HOST:PORT [--listen-any] [--tls-dir DIR] [--groups FILE]
                  [--state-file FILE] [--sign-key PEM] --control HOST:PORT [--ready-file FILE] [-v]
"""

import argparse
import hashlib
import ipaddress
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from answers import AnsweringHandler, HttpError
from tls_server import TLSThreadingHTTPServer

SELECTOR_KEYS = ("mac", "uuid", "serial", "disk_serial")
NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,63}$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$")
MAX_BODY = 1 << 20


class UsageError(Exception):
    pass


def norm(key, value):
    """Identifiers compare in one form: MACs lower case with ':', UUIDs lower case."""
    if key == "mac":
        if not MAC_RE.match(value):
            raise ValueError("'%s' is not a MAC address" % value)
        return value.lower().replace("-", ":")
    if key == "uuid":
        return value.lower()
    return value


def check_group(g):
    """A group as the control API or --groups gives it; raises ValueError."""
    if not isinstance(g, dict):
        raise ValueError("a group is an object {\"name\", \"selector\", \"config\"}")
    name = g.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise ValueError("'name' must be 1 to 63 letters, digits, '.', '_' or '-'")
    sel = g.get("selector")
    if not isinstance(sel, dict) or not sel:
        raise ValueError("group '%s': 'selector' must be a non-empty object of %s" % (name, ", ".join(SELECTOR_KEYS)))
    out = {}
    for k, v in sel.items():
        if k not in SELECTOR_KEYS:
            raise ValueError("group '%s': unknown selector '%s' (one of %s)" % (name, k, ", ".join(SELECTOR_KEYS)))
        if not isinstance(v, str) or not v:
            raise ValueError("group '%s': selector '%s' must be a non-empty string" % (name, k))
        out[k] = norm(k, v)
    group = {"name": name, "selector": out}
    if "raw" in g:
        if not isinstance(g["raw"], str):
            raise ValueError("group '%s': 'raw' must be a string (served as it is)" % name)
        group["raw"] = g["raw"].encode()
    elif isinstance(g.get("config"), dict):
        group["config"] = g["config"]
    else:
        raise ValueError("group '%s': 'config' must be an object (or give 'raw' text)" % name)
    match = g.get("match")
    if match is not None and match is not False and (not isinstance(match, dict) or not match):
        raise ValueError("group '%s': 'match' must be an object of %s, or false" % (name, ", ".join(SELECTOR_KEYS)))
    group["match"] = match
    not_after = g.get("not_after")
    if not_after is not None:
        if not isinstance(not_after, str):
            raise ValueError("group '%s': 'not_after' must be an RFC 3339 time such as 2026-01-31T00:00:00Z" % name)
        group["not_after"] = not_after
    return group


def spec_of(g):
    """The group as check_group() reads it again: what --state-file keeps (not the served bytes,
    so that a restart with another --sign-key binds the answers as that key asks)."""
    spec = {"name": g["name"], "selector": g["selector"]}
    if "raw" in g:
        spec["raw"] = g["raw"].decode()
    else:
        spec["config"] = g["config"]
    if g.get("match") is not None:
        spec["match"] = g["match"]
    if "not_after" in g:
        spec["not_after"] = g["not_after"]
    return spec


def body_of(g):
    """What the group serves. A configuration gets the binding the agent checks: "match" (the
    group's, or when answers are signed, its selector) and "not_after", when the group has one."""
    if "raw" in g:
        return g["raw"]
    config = dict(g["config"])
    match = g.get("match")
    if match is None and STATE.sign_key is not None:
        match = dict(g["selector"])
    if match:
        config["match"] = match
    if "not_after" in g:
        config["not_after"] = g["not_after"]
    return (json.dumps(config, indent=2) + "\n").encode()


class State:
    def __init__(self):
        self.lock = threading.RLock()
        self.t0 = time.monotonic()
        self.groups = {}                # name -> group
        self.requests = []
        self.rules = []                 # faults: {"path", "status", "body", "size", "count"}
        self.sign_key = None
        self.state_file = None          # the groups, kept on disk across restarts

    def save(self):
        """Writes the groups to the state file (0600, atomically); the caller holds the lock."""
        if not self.state_file:
            return
        data = [spec_of(g) for g in self.groups.values()]
        d = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".provisiond-")
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(data, f, indent=1)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.state_file)
        except OSError:
            os.unlink(tmp)
            raise

    def now(self):
        return round(time.monotonic() - self.t0, 6)

    def match(self, ids):
        """The groups whose every selector is among the machine's identifiers."""
        with self.lock:
            return [g for g in self.groups.values()
                    if all(v in ids.get(k, ()) for k, v in g["selector"].items())]

    def take_rule(self, path):
        with self.lock:
            for r in self.rules:
                p = r.get("path")
                if r["count"] == 0:
                    continue
                if p is not None and not (path.startswith(p[:-1]) if p.endswith("*") else path == p):
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                if r["count"] == 0:
                    self.rules.remove(r)
                return r
        return None


STATE = State()
VERBOSE = False


def say(msg):
    sys.stderr.write("provisiond: " + msg + "\n")
    sys.stderr.flush()


def sign(data):
    """The detached signature the agent checks: over the SHA-256 of data (see signature.h)."""
    key = STATE.sign_key
    kind = subprocess.run(["openssl", "pkey", "-in", key, "-noout", "-text"], capture_output=True, check=True).stdout
    if kind.startswith(b"ED25519"):
        # Ed25519 signs the 32 digest bytes; pkeyutl reads them from a file (one-shot).
        with tempfile.NamedTemporaryFile() as f:
            f.write(hashlib.sha256(data).digest())
            f.flush()
            return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", f.name],
                                  capture_output=True, check=True).stdout
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=data, capture_output=True,
                          check=True).stdout


class Handler(AnsweringHandler):
    server_version = "provisiond/1"
    max_body = MAX_BODY

    def log_message(self, fmt, *args):
        if VERBOSE:
            say(fmt % args)

    def do_GET(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()


class NodeHandler(Handler):
    """The lookup API (see the README's "Provisioning API")."""

    def dispatch(self):
        self.answered = 0
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        entry = {"method": self.command, "path": url.path, "query": query, "status": 0, "group": None,
                 "t": STATE.now()}
        try:
            rule = STATE.take_rule(url.path)
            if rule is not None:
                self.answer_fault(rule)
            elif self.command not in ("GET", "HEAD"):
                raise HttpError(405, "use GET")
            else:
                self.route(url.path, query, entry)
        except HttpError as e:
            self.send_json(e.status, dict(e.extra, error=e.message))
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass
        except Exception as e:
            say("internal error on %s: %r" % (self.path, e))
            try:
                self.send_json(500, {"error": "internal server error: %r" % e})
            except OSError:
                pass
        finally:
            entry["status"] = self.answered
            with STATE.lock:
                STATE.requests.append(entry)

    def answer_fault(self, rule):
        if rule["status"] == 0:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if rule.get("size"):
            self.send_raw(rule["status"], b"{" + b" " * (rule["size"] - 2) + b"}")
        elif isinstance(rule.get("body"), str):
            self.send_raw(rule["status"], rule["body"], "text/plain")
        else:
            self.send_json(rule["status"], rule.get("body") or {"error": "injected failure (HTTP %d)" % rule["status"]})

    def route(self, path, query, entry):
        signature = path.endswith(".sig")
        if signature:
            path = path[:-4]
        if path == "/v1/node":
            ids = {}
            for k in SELECTOR_KEYS:
                try:
                    ids[k] = [norm(k, v) for v in query.get(k, [])]
                except ValueError as e:
                    raise HttpError(400, str(e))
            unknown = sorted(set(query) - set(SELECTOR_KEYS))
            if unknown:
                raise HttpError(400, "unknown query parameter '%s' (known: %s)" % (unknown[0], ", ".join(SELECTOR_KEYS)))
            if not any(ids.values()):
                raise HttpError(400, "give at least one of %s" % ", ".join(SELECTOR_KEYS))
        else:
            m = re.match(r"^/nodes/(?:(mac|uuid|serial)/)?([^/]+)\.json$", path)
            if not m:
                raise HttpError(404, "no such endpoint %s" % path)
            key = m.group(1) or "mac"
            try:
                ids = {key: [norm(key, urllib.parse.unquote(m.group(2)))]}
            except ValueError as e:
                raise HttpError(404, str(e))
        groups = STATE.match(ids)
        if not groups:
            raise HttpError(404, "no group matches this machine; add one with a selector on one of its identifiers",
                            {"identifiers": ids})
        if len(groups) > 1:
            names = sorted(g["name"] for g in groups)
            raise HttpError(409, "the machine matches %d groups: %s; make the selectors tell them apart" % (
                len(groups), ", ".join(names)), {"groups": names})
        g = groups[0]
        entry["group"] = g["name"]
        if not signature:
            self.send_raw(200, body_of(g))
        elif STATE.sign_key is None:
            raise HttpError(404, "this server signs nothing (no --sign-key)")
        else:
            self.send_raw(200, sign(body_of(g)), "application/octet-stream")


class ControlHandler(Handler):
    def dispatch(self):
        url = urllib.parse.urlsplit(self.path)
        routes = {
            ("GET", "/control/state"): self.c_state,
            ("POST", "/control/groups"): self.c_groups,
            ("POST", "/control/delete"): self.c_delete,
            ("POST", "/control/fail"): self.c_fail,
            ("POST", "/control/clear-rules"): self.c_clear,
            ("POST", "/control/reset-log"): self.c_reset_log,
        }
        try:
            fn = routes.get((self.command, url.path))
            if fn is None:
                raise HttpError(404, "no such control endpoint %s %s" % (self.command, url.path))
            raw = self.read_body()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError as e:
                raise HttpError(400, "body is not JSON: %s" % e)
            self.send_json(200, fn(body))
        except HttpError as e:
            self.send_json(e.status, {"error": e.message})

    def c_state(self, body):
        with STATE.lock:
            return {"groups": [{"name": g["name"], "selector": g["selector"], "size": len(body_of(g))}
                               for g in STATE.groups.values()],
                    "requests": list(STATE.requests), "rules": [dict(r) for r in STATE.rules],
                    "now": STATE.now()}

    def c_groups(self, body):
        items = body.get("groups", [body]) if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise HttpError(400, "give a group, or {\"groups\": [...]}")
        try:
            groups = [check_group(g) for g in items]
        except ValueError as e:
            raise HttpError(400, str(e))
        with STATE.lock:
            for g in groups:
                STATE.groups[g["name"]] = g
            STATE.save()
        return {"groups": sorted(STATE.groups)}

    def c_delete(self, body):
        with STATE.lock:
            if STATE.groups.pop(body.get("name"), None) is None:
                raise HttpError(404, "no group '%s'" % body.get("name"))
            STATE.save()
        return {"groups": sorted(STATE.groups)}

    def c_fail(self, body):
        status = body.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not (status == 0 or 100 <= status <= 599):
            raise HttpError(400, "'status' must be an HTTP status (0: close without an answer)")
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise HttpError(400, "'count' must be a non-zero integer (negative: until cleared)")
        size = body.get("size", 0)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0 or size == 1:
            raise HttpError(400, "'size' must be a number of bytes >= 2")
        rule = {"path": body.get("path"), "status": status, "body": body.get("body"), "size": size, "count": count}
        with STATE.lock:
            STATE.rules.append(rule)
        return dict(rule)

    def c_clear(self, body):
        with STATE.lock:
            STATE.rules.clear()
        return {"rules": []}

    def c_reset_log(self, body):
        with STATE.lock:
            n = len(STATE.requests)
            STATE.requests.clear()
        return {"cleared": n}


class Server(TLSThreadingHTTPServer):
    def tls_failed(self, client_address, error):
        if VERBOSE:
            say("TLS handshake with %s failed: %s" % (client_address[0], error))

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


def host_port(text, option, loopback=True):
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise UsageError("%s '%s': expected HOST:PORT" % (option, text))
    if loopback and host != "localhost":
        try:
            if not ipaddress.ip_address(host).is_loopback:
                raise ValueError
        except ValueError:
            raise UsageError("%s '%s': '%s' is not a loopback address" % (option, text, host))
    return host, int(port)


def read_groups(path):
    """The groups of a --groups or --state-file file; a ValueError names the file."""
    try:
        with open(path) as f:
            items = json.load(f)
    except ValueError as e:
        raise ValueError("%s: not JSON (%s): expected a list of groups; fix or remove the file" % (path, e))
    if not isinstance(items, list):
        raise ValueError("%s: expected a JSON list of groups, found %s" % (path, type(items).__name__))
    try:
        return [check_group(g) for g in items]
    except ValueError as e:
        raise ValueError("%s: %s" % (path, e))


def main(argv):
    global VERBOSE
    p = argparse.ArgumentParser(prog="provisiond.py", description=__doc__.split("\n")[0])
    p.add_argument("--listen", required=True, metavar="HOST:PORT")
    p.add_argument("--listen-any", action="store_true",
                   help="--listen may name any address, not only loopback (the control API stays on loopback)")
    p.add_argument("--tls-dir", metavar="DIR", help="HTTPS with DIR/server.crt and DIR/server.key")
    p.add_argument("--groups", metavar="FILE", help="JSON: a list of groups to start with")
    p.add_argument("--state-file", metavar="FILE",
                   help="keep the groups in FILE: read at start when it exists, rewritten on every change")
    p.add_argument("--sign-key", metavar="PEM", help="sign answers (Ed25519 or RSA private key)")
    p.add_argument("--control", required=True, metavar="HOST:PORT")
    p.add_argument("--ready-file", metavar="FILE")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    VERBOSE = args.verbose
    try:
        listen = host_port(args.listen, "--listen", loopback=not args.listen_any)
        control = host_port(args.control, "--control")
        for path in (args.groups, args.state_file):
            if path and (path == args.groups or os.path.exists(path)):
                STATE.groups.update((g["name"], g) for g in read_groups(path))
        STATE.state_file = args.state_file
        with STATE.lock:
            STATE.save()
    except (UsageError, OSError, ValueError) as e:
        say(str(e))
        return 2
    STATE.sign_key = args.sign_key
    ctx = None
    if args.tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(os.path.join(args.tls_dir, "server.crt"), os.path.join(args.tls_dir, "server.key"))
        except (OSError, ssl.SSLError) as e:
            say("cannot load %s/server.crt and server.key: %s" % (args.tls_dir, e))
            return 1
    try:
        node = Server(listen, NodeHandler, ctx)
        ctl = Server(control, ControlHandler)
    except OSError as e:
        say("cannot listen: %s" % e)
        return 1
    for s in (node, ctl):
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if args.ready_file:
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"pid": os.getpid(), "listen": "%s:%d" % node.server_address[:2],
                       "control": "%s:%d" % ctl.server_address[:2], "tls": ctx is not None}, f)
        os.rename(tmp, args.ready_file)
    say("ready: lookups on %s:%d (%s), control on %s:%d, %d group(s)" % (
        node.server_address[0], node.server_address[1], "HTTPS" if ctx else "HTTP",
        ctl.server_address[0], ctl.server_address[1], len(STATE.groups)))
    try:
        while not stop.wait(0.2):
            pass
    finally:
        node.shutdown()
        ctl.shutdown()
        if args.ready_file:
            try:
                os.unlink(args.ready_file)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
