# SPDX-License-Identifier: MIT
"""clusterd's shared parts: the state every listener shares, failure rules, the HTTP plumbing."""

import datetime
import ipaddress
import json
import re
import sys
import threading
import time

from answers import AnsweringHandler, HttpError  # noqa: F401 (the other parts take HttpError from here)

# The services clusterd serves; --cluster-service adds an admin-API cluster of a site's own
# (add_cluster_service()).
SERVICES = ["chainfire", "flaredb", "iam", "report", "etcd"]
CLUSTER_SERVICES = ["chainfire", "flaredb"]
NODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,63}$")
MAX_BODY = 16 * 1024 * 1024
TOKEN_LIFETIME_S = 3600


class UsageError(Exception):
    pass


def add_cluster_service(name):
    """One more cluster with the seed's admin API (/admin/member/...), members and health."""
    if not re.match(r"^[a-z][a-z0-9-]{0,31}$", name) or name in SERVICES:
        raise UsageError("--cluster-service '%s': expected a new service name [a-z][a-z0-9-]*" % name)
    SERVICES.append(name)
    CLUSTER_SERVICES.append(name)
    STATE.members[name] = []


def parse_host_port(text):
    """'host:port' or '[v6]:port' -> (host, port). Raises ValueError."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1:end + 2] != ":":
            raise ValueError("expected [ADDRESS]:PORT")
        host, port = text[1:end], text[end + 2:]
    else:
        host, sep, port = text.rpartition(":")
        if not sep or not host or ":" in host:
            raise ValueError("expected HOST:PORT")
    if not port.isdigit() or int(port) > 65535:
        raise ValueError("port '%s' is not a number in 0..65535" % port)
    return host, int(port)


def is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def iso8601(ts):
    return datetime.datetime.fromtimestamp(ts, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Rule:
    """A failure or delay injection: applies to the next `count` matching requests
    (count < 0: every matching request until cleared)."""

    def __init__(self, kind, spec):
        self.kind = kind
        self.service = spec["service"]
        self.node = spec.get("node")
        self.path = spec.get("path")
        self.method = spec.get("method")
        self.count = spec.get("count", 1)
        self.status = spec.get("status")
        self.body = spec.get("body")
        self.echo = spec.get("echo")            # "...%s...": the request's password (or bearer token)
        self.echo_json = spec.get("echo_json", True)
        self.ms = spec.get("ms", 0)

    def matches(self, service, node, method, path):
        if self.count == 0 or self.service != service:
            return False
        if self.node is not None and self.node != node:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is not None:
            if self.path.endswith("*"):
                if not path.startswith(self.path[:-1]):
                    return False
            elif self.path != path:
                return False
        return True

    def describe(self):
        d = {"kind": self.kind, "service": self.service, "node": self.node, "path": self.path,
             "method": self.method, "count": self.count}
        if self.kind == "fail":
            d["status"] = self.status
        else:
            d["ms"] = self.ms
        return d


class State:
    """Everything the listeners share, behind one lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.t0 = time.monotonic()
        self.members = {s: [] for s in CLUSTER_SERVICES}
        self.etcd_members = []          # etcd's v3 gateway (clusterd_etcd.py)
        self.users = {}                 # name -> {"password", "roles"}
        self.tokens = {}                # token -> {"name", "expires"}
        self.bootstrap_token = None
        self.reports = []
        self.requests = []
        self.rules = []
        self.listeners = {}             # (service, node) -> Listener

    def now(self):
        return round(time.monotonic() - self.t0, 6)

    def take_rule(self, kind, service, node, method, path):
        with self.lock:
            for r in self.rules:
                if r.kind == kind and r.matches(service, node, method, path):
                    if r.count > 0:
                        r.count -= 1
                    if r.count == 0:
                        self.rules.remove(r)
                    return r
        return None

    def log_request(self, entry):
        with self.lock:
            self.requests.append(entry)


STATE = State()


class Options:
    """What main() set from the command line."""
    verbose = False
    ssl_ctx = None          # the listeners' TLS context, None: plain HTTP


OPTS = Options()


SAY_LOCK = threading.Lock()


def say(msg):
    with SAY_LOCK:
        sys.stderr.write("clusterd: " + msg + "\n")
        sys.stderr.flush()


class Handler(AnsweringHandler):
    """Shared plumbing: body reading, JSON answers, one log line per request."""

    server_version = "clusterd/1"
    max_body = MAX_BODY

    def log_message(self, fmt, *args):
        if OPTS.verbose:
            lst = getattr(self.server, "listener", None)
            say("%s %s" % (lst.name() if lst else "control", fmt % args))

    def json_body(self, raw):
        if not raw.strip():
            raise HttpError(400, "request body is empty, expected a JSON object")
        try:
            v = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise HttpError(400, "request body is not valid JSON: %s" % e)
        if not isinstance(v, dict):
            raise HttpError(400, "request body must be a JSON object, got %s" % type(v).__name__)
        return v

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def do_DELETE(self):
        self.dispatch()

    def do_PUT(self):
        self.dispatch()

    def do_HEAD(self):
        self.dispatch()

    def do_PATCH(self):
        self.dispatch()


def need_str(obj, key, what=None, optional=False):
    v = obj.get(key)
    if v is None and optional:
        return None
    if not isinstance(v, str) or not v:
        raise HttpError(400, "'%s' must be a non-empty string%s" % (key, what or ""))
    return v
