#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test cluster server: the chainfire/flaredb admin API, the IAM admin API and a report
sink, on loopback listeners, with a plain-HTTP control API to inspect state and to inject
health changes, closed listeners, failures and delays. Python 3 standard library only.
See tests/server/README.md."""

import argparse
import datetime
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICES = ("chainfire", "flaredb", "iam", "report")
CLUSTER_SERVICES = ("chainfire", "flaredb")
NODE_RE = re.compile(r"^[A-Za-z0-9._-]{1,63}$")
MAX_BODY = 16 * 1024 * 1024
TOKEN_LIFETIME_S = 3600


class UsageError(Exception):
    pass


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
VERBOSE = False


SAY_LOCK = threading.Lock()


def say(msg):
    with SAY_LOCK:
        sys.stderr.write("clusterd: " + msg + "\n")
        sys.stderr.flush()


class HttpError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


class Handler(BaseHTTPRequestHandler):
    """Shared plumbing: body reading, JSON answers, one log line per request."""

    protocol_version = "HTTP/1.1"   # so Expect: 100-continue works; we still close after each answer
    server_version = "clusterd/1"

    def log_message(self, fmt, *args):
        if VERBOSE:
            lst = getattr(self.server, "listener", None)
            say("%s %s" % (lst.name() if lst else "control", fmt % args))

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline(1024).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(1024).strip():
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline(8)
                if len(data) > MAX_BODY:
                    raise HttpError(413, "request body too large")
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise HttpError(400, "bad Content-Length '%s'" % length)
        if n < 0 or n > MAX_BODY:
            raise HttpError(413, "request body too large")
        return self.rfile.read(n)

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

    def send_raw(self, status, body, content_type="application/json"):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True
        self.answered_status = status

    def send_json(self, status, obj):
        self.send_raw(status, json.dumps(obj, sort_keys=True) + "\n")

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


class ServiceHandler(Handler):
    """One listener of one service (server.listener tells which)."""

    def dispatch(self):
        lst = self.server.listener
        self.answered_status = 0
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        method = self.command
        entry = {"service": lst.service, "node": lst.node, "method": method, "path": path,
                 "status": 0, "t": STATE.now(), "bearer": "Authorization" in self.headers,
                 "client_cert": bool(getattr(self.connection, "getpeercert", lambda: None)())}
        try:
            delay = STATE.take_rule("delay", lst.service, lst.node, method, path)
            if delay is not None and delay.ms > 0:
                time.sleep(delay.ms / 1000.0)
            raw = self.read_body()
            fail = STATE.take_rule("fail", lst.service, lst.node, method, path)
            if fail is not None:
                self.answer_injected(fail, raw)
            else:
                self.route(lst, method, path, raw)
        except HttpError as e:
            self.send_json(e.status, {"error": e.message})
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass
        except Exception as e:  # a bug here must still answer, and be visible
            say("internal error on %s %s: %r" % (method, path, e))
            try:
                self.send_json(500, {"error": "internal server error: %r" % e})
            except OSError:
                pass
        finally:
            entry["status"] = self.answered_status
            entry["t_end"] = STATE.now()
            STATE.log_request(entry)

    def echoed(self, raw):
        """What a careless server would quote back: the password of the request, else its
        bearer token."""
        try:
            body = json.loads(raw.decode() or "{}")
        except (ValueError, UnicodeDecodeError):
            body = {}
        if isinstance(body, dict) and isinstance(body.get("password"), str):
            return body["password"]
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer "):] if auth.startswith("Bearer ") else ""

    def answer_injected(self, rule, raw=b""):
        if rule.echo is not None:
            text = rule.echo.replace("%s", self.echoed(raw))
            if rule.echo_json:
                self.send_json(rule.status, {"error": text})
            else:
                self.send_raw(rule.status, text, "text/plain")
            return
        if rule.status == 0:            # drop the connection without an answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        body = rule.body
        if body is None:
            body = {"error": "injected failure (HTTP %d)" % rule.status}
        if isinstance(body, str):
            self.send_raw(rule.status, body, "text/plain")
        else:
            self.send_json(rule.status, body)

    def route(self, lst, method, path, raw):
        if path == "/health":
            if method not in ("GET", "HEAD"):
                raise HttpError(405, "use GET on /health")
            if lst.is_healthy():
                self.send_json(200, {"status": "ok", "node": lst.node})
            else:
                self.send_json(503, {"status": "unhealthy", "node": lst.node})
            return
        if lst.service in CLUSTER_SERVICES:
            self.route_cluster(lst, method, path, raw)
        elif lst.service == "iam":
            self.route_iam(lst, method, path, raw)
        else:
            self.route_report(lst, method, path, raw)

    # --- chainfire / flaredb ---------------------------------------------------------
    def route_cluster(self, lst, method, path, raw):
        members = STATE.members[lst.service]
        if path == "/admin/cluster/members":
            if method != "GET":
                raise HttpError(405, "use GET on %s" % path)
            with STATE.lock:
                self.send_json(200, {"members": [dict(m) for m in members]})
            return
        if path == "/admin/member/add":
            if method != "POST":
                raise HttpError(405, "use POST on %s" % path)
            body = self.json_body(raw)
            mid = need_str(body, "id")
            raddr = need_str(body, "raft_addr", " of the form HOST:PORT")
            try:
                _, port = parse_host_port(raddr)
                if port == 0:
                    raise ValueError("port 0")
            except ValueError as e:
                raise HttpError(400, "'raft_addr' \"%s\" is not HOST:PORT (%s)" % (raddr, e))
            with STATE.lock:
                # A member that was removed keeps its entry (status "removed") and may come back.
                members[:] = [m for m in members if not (m.get("status") == "removed" and
                                                         (m["id"] == mid or m["raft_addr"] == raddr))]
                for m in members:
                    if m["id"] == mid:
                        raise HttpError(409, "member '%s' already exists (raft_addr %s)" % (mid, m["raft_addr"]))
                    if m["raft_addr"] == raddr:
                        raise HttpError(409, "raft_addr %s already belongs to member '%s'" % (raddr, m["id"]))
                m = {"id": mid, "raft_addr": raddr, "status": "active"}
                members.append(m)
                self.send_json(201, {"member": dict(m), "members": [dict(x) for x in members]})
            return
        if path.startswith("/admin/member/"):
            if method != "DELETE":
                raise HttpError(405, "use DELETE on /admin/member/{id}")
            mid = urllib.parse.unquote(path[len("/admin/member/"):])
            with STATE.lock:
                for m in members:
                    if m["id"] == mid:
                        members.remove(m)
                        self.send_json(200, {"removed": mid})
                        return
            raise HttpError(404, "no member '%s'" % mid)
        raise HttpError(404, "no such endpoint %s %s" % (method, path))

    # --- IAM -------------------------------------------------------------------------
    def check_bootstrap(self):
        want = STATE.bootstrap_token
        if want is None:
            return
        auth = self.headers.get("Authorization")
        if not auth:
            raise HttpError(401, "missing 'Authorization: Bearer' token")
        scheme, _, tok = auth.partition(" ")
        tok = tok.strip()
        if scheme.lower() != "bearer" or not tok:
            raise HttpError(401, "Authorization header is not a Bearer token")
        if secrets.compare_digest(tok, want):
            return
        with STATE.lock:
            t = STATE.tokens.get(tok)
            if t is not None and t["expires"] > time.time():
                return
        raise HttpError(401, "invalid bearer token")

    def route_iam(self, lst, method, path, raw):
        if path == "/admin/users":
            if method != "POST":
                raise HttpError(405, "use POST on %s" % path)
            self.check_bootstrap()
            body = self.json_body(raw)
            name = need_str(body, "name")
            password = need_str(body, "password")
            roles = body.get("roles", [])
            if not isinstance(roles, list) or not all(isinstance(r, str) and r for r in roles):
                raise HttpError(400, "'roles' must be a list of non-empty strings")
            with STATE.lock:
                if name in STATE.users:
                    raise HttpError(409, "user '%s' already exists" % name)
                STATE.users[name] = {"password": password, "roles": list(roles)}
            self.send_json(201, {"name": name, "roles": list(roles)})
            return
        if path.startswith("/admin/users/"):
            if method != "GET":
                raise HttpError(405, "use GET on /admin/users/{user}")
            self.check_bootstrap()
            name = urllib.parse.unquote(path[len("/admin/users/"):])
            with STATE.lock:
                u = STATE.users.get(name)
                if u is None:
                    raise HttpError(404, "no user '%s'" % name)
                self.send_json(200, {"name": name, "roles": list(u["roles"])})
            return
        if path == "/admin/tokens":
            if method != "POST":
                raise HttpError(405, "use POST on %s" % path)
            body = self.json_body(raw)
            name = need_str(body, "name")
            password = need_str(body, "password")
            with STATE.lock:
                u = STATE.users.get(name)
                if u is None or not secrets.compare_digest(u["password"].encode(), password.encode()):
                    raise HttpError(401, "invalid user name or password")
                tok = secrets.token_urlsafe(32)
                expires = time.time() + TOKEN_LIFETIME_S
                STATE.tokens[tok] = {"name": name, "expires": expires}
            self.send_json(201, {"token": tok, "expires_at": iso8601(expires)})
            return
        raise HttpError(404, "no such endpoint %s %s" % (method, path))

    # --- report ----------------------------------------------------------------------
    def route_report(self, lst, method, path, raw):
        if method != "POST":
            raise HttpError(405, "the report server takes POST with a JSON body")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise HttpError(400, "request body is not valid JSON: %s" % e)
        with STATE.lock:
            STATE.reports.append({"node": lst.node, "path": path, "t": STATE.now(), "body": body})
        self.send_json(200, {"status": "received"})


class ServiceServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, listener, addr, ssl_ctx):
        self.listener = listener
        self.ssl_ctx = ssl_ctx
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, ServiceHandler)

    def finish_request(self, request, client_address):
        # Runs in the per-connection thread: the TLS handshake happens here, not in accept().
        if self.ssl_ctx is None:
            request.settimeout(30)
            return super().finish_request(request, client_address)
        request.settimeout(30)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.listener.tls_failures += 1
            if VERBOSE:
                say("%s:%s: TLS handshake with %s failed: %s" % (
                    self.listener.service, self.listener.node, client_address[0], e))
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


class Listener:
    def __init__(self, service, node, host, port):
        self.service = service
        self.node = node
        self.host = host
        self.port = port
        self.server = None
        self.thread = None
        self.healthy = True
        self.health_flip_at = None      # monotonic time at which `healthy` becomes effective
        self.tls_failures = 0
        self.plain = False              # plain HTTP even with --tls-dir
        self.ssl_ctx = None             # --node-cert: this node's own certificate
        self.member_of = None           # --healthy-when-member: (service, id) that must be listed
        self.lock = threading.Lock()

    def name(self):
        return "%s:%s" % (self.service, self.node)

    def is_healthy(self):
        with STATE.lock:
            if self.member_of is not None:
                svc, mid = self.member_of
                if not any(m["id"] == mid for m in STATE.members[svc]):
                    return False
            if self.health_flip_at is not None and time.monotonic() < self.health_flip_at:
                return not self.healthy
            return self.healthy

    def set_health(self, healthy, after_s=None):
        with STATE.lock:
            self.healthy = healthy
            self.health_flip_at = time.monotonic() + after_s if after_s else None

    def is_up(self):
        return self.server is not None

    def open(self, ssl_ctx):
        with self.lock:
            if self.server is not None:
                return
            srv = ServiceServer(self, (self.host, self.port), None if self.plain else self.ssl_ctx or ssl_ctx)
            self.port = srv.server_address[1]
            t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                                 name="listener-" + self.name(), daemon=True)
            t.start()
            self.server, self.thread = srv, t

    def close(self):
        with self.lock:
            srv, t = self.server, self.thread
            if srv is None:
                return
            self.server = self.thread = None
            srv.shutdown()
            srv.server_close()
            t.join(5)

    def describe(self):
        d = {"service": self.service, "node": self.node, "host": self.host, "port": self.port,
             "up": self.is_up(), "healthy": self.is_healthy(), "tls_failures": self.tls_failures,
             "tls": SSL_CTX is not None and not self.plain}
        if self.health_flip_at is not None:
            d["health_changes_in_s"] = max(0.0, round(self.health_flip_at - time.monotonic(), 3))
        return d


class ControlHandler(Handler):
    def dispatch(self):
        self.answered_status = 0
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        key = (self.command, url.path)
        routes = {
            ("GET", "/control/state"): self.c_state,
            ("GET", "/control/requests"): self.c_requests,
            ("POST", "/control/health"): self.c_health,
            ("POST", "/control/listener"): self.c_listener,
            ("POST", "/control/fail"): self.c_fail,
            ("POST", "/control/delay"): self.c_delay,
            ("POST", "/control/clear-rules"): self.c_clear_rules,
            ("POST", "/control/reset-log"): self.c_reset_log,
            ("POST", "/control/members"): self.c_members,
        }
        try:
            fn = routes.get(key)
            if fn is None:
                raise HttpError(404, "no such control endpoint %s %s" % key)
            raw = self.read_body()
            body = self.json_body(raw) if self.command == "POST" and raw.strip() else {}
            status, obj = fn(body, query)
            self.send_json(status, obj)
        except HttpError as e:
            self.send_json(e.status, {"error": e.message})
        except Exception as e:
            say("control: internal error on %s: %r" % (self.path, e))
            self.send_json(500, {"error": "internal error: %r" % e})

    def listener_of(self, body, node_required=True):
        service = need_str(body, "service")
        if service not in SERVICES:
            raise HttpError(400, "unknown service '%s' (one of %s)" % (service, ", ".join(SERVICES)))
        node = body.get("node")
        if node is None and not node_required:
            return service, None
        if not isinstance(node, str) or not node:
            raise HttpError(400, "'node' must be a non-empty string")
        lst = STATE.listeners.get((service, node))
        if lst is None:
            raise HttpError(404, "no listener %s:%s" % (service, node))
        return service, lst

    def c_state(self, body, query):
        with STATE.lock:
            return 200, {
                "members": {s: [dict(m) for m in STATE.members[s]] for s in CLUSTER_SERVICES},
                "iam_users": [{"name": n, "roles": list(u["roles"])} for n, u in sorted(STATE.users.items())],
                "iam_tokens_issued": len(STATE.tokens),
                "reports": list(STATE.reports),
                "requests": list(STATE.requests),
                "listeners": [l.describe() for l in STATE.listeners.values()],
                "rules": [r.describe() for r in STATE.rules],
                "now": STATE.now(),
            }

    def c_requests(self, body, query):
        with STATE.lock:
            out = list(STATE.requests)
        for k in ("service", "node", "method", "path"):
            if k in query:
                out = [e for e in out if e[k] == query[k][0]]
        return 200, {"requests": out}

    def c_health(self, body, query):
        _, lst = self.listener_of(body)
        healthy = body.get("healthy")
        if not isinstance(healthy, bool):
            raise HttpError(400, "'healthy' must be true or false")
        after = body.get("after_s")
        if after is not None and (isinstance(after, bool) or not isinstance(after, (int, float)) or after < 0):
            raise HttpError(400, "'after_s' must be a number of seconds >= 0")
        lst.set_health(healthy, after)
        return 200, lst.describe()

    def c_listener(self, body, query):
        _, lst = self.listener_of(body)
        up = body.get("up")
        if not isinstance(up, bool):
            raise HttpError(400, "'up' must be true or false")
        if up:
            try:
                lst.open(SSL_CTX)
            except OSError as e:
                raise HttpError(500, "cannot listen on %s:%d: %s" % (lst.host, lst.port, e))
        else:
            lst.close()
        return 200, lst.describe()

    def rule_common(self, body):
        self.listener_of(body, node_required=False)
        if body.get("node") is not None:
            self.listener_of(body)
        for k in ("path", "method"):
            if body.get(k) is not None and (not isinstance(body[k], str) or not body[k]):
                raise HttpError(400, "'%s' must be a non-empty string" % k)
        count = body.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count == 0:
            raise HttpError(400, "'count' must be a non-zero integer (negative: until cleared)")

    def c_fail(self, body, query):
        self.rule_common(body)
        status = body.get("status")
        if isinstance(status, bool) or not isinstance(status, int) or not (status == 0 or 100 <= status <= 599):
            raise HttpError(400, "'status' must be an HTTP status 100..599 (0: close without answer)")
        if "body" in body and not isinstance(body["body"], (str, dict, list)):
            raise HttpError(400, "'body' must be a string or JSON value")
        r = Rule("fail", body)
        with STATE.lock:
            STATE.rules.append(r)
        return 200, r.describe()

    def c_delay(self, body, query):
        self.rule_common(body)
        ms = body.get("ms")
        if isinstance(ms, bool) or not isinstance(ms, (int, float)) or ms < 0:
            raise HttpError(400, "'ms' must be a number of milliseconds >= 0")
        r = Rule("delay", body)
        with STATE.lock:
            STATE.rules.append(r)
        return 200, r.describe()

    def c_clear_rules(self, body, query):
        with STATE.lock:
            n = len(STATE.rules)
            STATE.rules.clear()
        return 200, {"cleared": n}

    def c_reset_log(self, body, query):
        with STATE.lock:
            n = len(STATE.requests)
            STATE.requests.clear()
            if body.get("reports"):
                STATE.reports.clear()
        return 200, {"cleared": n}

    def c_members(self, body, query):
        service = need_str(body, "service")
        if service not in CLUSTER_SERVICES:
            raise HttpError(400, "'service' must be chainfire or flaredb")
        ms = body.get("members")
        if not isinstance(ms, list):
            raise HttpError(400, "'members' must be a list of {\"id\",\"raft_addr\"}")
        new = []
        for m in ms:
            if not isinstance(m, dict):
                raise HttpError(400, "each member must be an object")
            entry = {"id": need_str(m, "id"), "raft_addr": need_str(m, "raft_addr"),
                     "status": m.get("status", "active")}
            if isinstance(m.get("name"), str):
                entry["name"] = m["name"]
            new.append(entry)
        with STATE.lock:
            STATE.members[service][:] = new
        return 200, {"members": new}


class ControlServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, ControlHandler)

    def handle_error(self, request, client_address):
        if VERBOSE:
            super().handle_error(request, client_address)


SSL_CTX = None


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
    global VERBOSE, SSL_CTX
    args = parse_args(argv)
    VERBOSE = args.verbose
    try:
        control_addr, down = setup(args)
    except UsageError as e:
        say(str(e))
        return 2
    if args.tls_dir:
        try:
            SSL_CTX = make_ssl_ctx(args.tls_dir, args.client_ca)
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
                lst.open(SSL_CTX)
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
            " (TLS%s)" % (", client certificates required" if args.client_ca else "") if SSL_CTX else ""))
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
