# SPDX-License-Identifier: MIT
"""clusterd's service listeners: the chainfire/flaredb admin API, the IAM admin API, the report
sink, etcd's v3 gateway (clusterd_etcd.py), each on its own address."""

import json
import secrets
import socket
import ssl
import threading
import time
import urllib.parse

import clusterd_etcd as etcd
import clusterd_fleet as fleet
from clusterd_core import (CLUSTER_SERVICES, OPTS, STATE, TOKEN_LIFETIME_S, Handler, HttpError, iso8601,
                           need_str, parse_host_port, say)
from tls_server import TLSThreadingHTTPServer


class ServiceHandler(Handler):
    """One listener of one service (server.listener tells which)."""

    def dispatch(self):
        lst = self.server.listener
        self.answered = 0
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        method = self.command
        entry = {"service": lst.service, "node": lst.node, "method": method, "path": path,
                 "status": 0, "t": STATE.now(), "bearer": "Authorization" in self.headers,
                 "client_cert": bool(getattr(self.connection, "getpeercert", lambda: None)()),
                 "client": self.client_address[0], "user_agent": self.headers.get("User-Agent", "")}
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
            self.send_json(e.status, dict(e.extra, error=e.message))
        except (ConnectionError, ssl.SSLError, socket.timeout):
            pass
        except Exception as e:  # a bug here must still answer, and be visible
            say("internal error on %s %s: %r" % (method, path, e))
            try:
                self.send_json(500, {"error": "internal server error: %r" % e})
            except OSError:
                pass
        finally:
            entry["status"] = self.answered
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
        elif lst.service == "etcd":
            etcd.route(self, lst, method, path, raw)
        else:
            self.route_report(lst, method, path, raw)

    # --- chainfire / flaredb ---------------------------------------------------------
    def route_cluster(self, lst, method, path, raw):
        members = STATE.members[lst.service]
        if fleet.check_throttle(self, lst):
            return
        if path == "/admin/cluster/members":
            if method != "GET":
                raise HttpError(405, "use GET on %s" % path)
            with STATE.lock:
                self.send_json(200, {"members": [dict(m, status=fleet.member_status(lst.service, m)) for m in members]})
            return
        if (path == "/admin/member/add" or path.startswith("/admin/member/")) and fleet.check_leader(self, lst, path):
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
                fleet.count_add(lst.service)
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


class ServiceServer(TLSThreadingHTTPServer):
    def __init__(self, listener, addr, ssl_ctx):
        self.listener = listener
        super().__init__(addr, ServiceHandler, ssl_ctx)

    def tls_failed(self, client_address, error):
        self.listener.tls_failures += 1
        if OPTS.verbose:
            say("%s:%s: TLS handshake with %s failed: %s" % (
                self.listener.service, self.listener.node, client_address[0], error))

    def handle_error(self, request, client_address):
        if OPTS.verbose:
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
             "tls": OPTS.ssl_ctx is not None and not self.plain}
        if self.health_flip_at is not None:
            d["health_changes_in_s"] = max(0.0, round(self.health_flip_at - time.monotonic(), 3))
        return d
