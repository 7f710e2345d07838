# SPDX-License-Identifier: MIT
"""clusterd's control API (plain HTTP): inspect the state, inject health changes, closed
listeners, failures and delays."""

import socket
import urllib.parse
from http.server import ThreadingHTTPServer

import clusterd_etcd as etcd
import clusterd_fleet as fleet
from clusterd_core import CLUSTER_SERVICES, OPTS, SERVICES, STATE, Handler, HttpError, Rule, need_str, say


class ControlHandler(Handler):
    def dispatch(self):
        self.answered = 0
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
            ("POST", "/control/etcd-members"): lambda body, query: (200, etcd.set_members(body)),
            ("POST", "/control/etcd-started"): lambda body, query: (200, etcd.started(body)),
            ("POST", "/control/leader"): self.c_leader,
            ("POST", "/control/throttle"): self.c_throttle,
            ("GET", "/control/fleet"): self.c_fleet,
        }
        try:
            fn = routes.get(key)
            if fn is None:
                raise HttpError(404, "no such control endpoint %s %s" % key)
            raw = self.read_body()
            body = self.json_body(raw) if self.command == "POST" and raw.strip() else {}
            status, obj = fn(body, query)
            if isinstance(obj, str):
                self.send_raw(status, obj, "text/plain; charset=utf-8")
            else:
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
                "etcd_members": etcd.members_out(),
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
                lst.open(OPTS.ssl_ctx)
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


    def c_leader(self, body, query):
        return 200, fleet.set_leader(body, self.listener_of)

    def c_throttle(self, body, query):
        return 200, fleet.set_throttle(body, self.listener_of)

    def c_fleet(self, body, query):
        s = fleet.summary()
        if query.get("format", [""])[0] == "text":
            return 200, fleet.summary_text(s)
        return 200, s

class ControlServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, addr):
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, ControlHandler)

    def handle_error(self, request, client_address):
        if OPTS.verbose:
            super().handle_error(request, client_address)
