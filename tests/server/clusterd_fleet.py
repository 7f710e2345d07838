# SPDX-License-Identifier: MIT
"""What a busy cluster does to a fleet of joining nodes, and what the operator sees of the fleet:
a leader (the others answer writes with "not the leader"), throttling (429/503 with Retry-After
beyond a rate), and the fleet summary from the nodes' reports."""

import threading
import time

from clusterd_core import CLUSTER_SERVICES, OPTS, STATE, HttpError

LEADER_MODES = ("redirect", "421", "503")


class Leadership:
    """One service's leader: writes anywhere else are answered as a follower would."""

    def __init__(self):
        self.node = None                # None: every listener takes writes
        self.mode = "redirect"          # redirect (307 Location), 421 naming it, 503 without a hint
        self.after_adds = 0             # > 0: hand over to handover[0] after this many adds
        self.adds = 0                   # adds the present leader has taken
        self.handover = []              # the leaders to come: [(node, mode)]


class Bucket:
    """A token bucket: rate requests per second, burst at once; beyond that the answer is status
    with Retry-After."""

    def __init__(self, rate, burst, retry_after, status):
        self.rate = rate
        self.burst = burst
        self.retry_after = retry_after
        self.status = status
        self.tokens = float(burst)
        self.last = time.monotonic()
        self.lock = threading.Lock()
        self.refused = 0

    def take(self):
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
            self.last = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            self.refused += 1
            return False


class Leaders(dict):
    """A Leadership per cluster service, made when first asked for (--cluster-service adds some)."""

    def __missing__(self, service):
        self[service] = Leadership()
        return self[service]


LEADERS = Leaders()
BUCKETS = {}                            # (service, node) -> Bucket


def base_url(lst):
    scheme = "https" if OPTS.ssl_ctx is not None and not lst.plain else "http"
    host = "[%s]" % lst.host if ":" in lst.host else lst.host
    return "%s://%s:%d" % (scheme, host, lst.port)


def check_throttle(handler, lst):
    """Answers for the listener when its bucket is empty; True when it did."""
    b = BUCKETS.get((lst.service, lst.node))
    if b is None or b.take():
        return False
    handler.send_json(b.status, {"error": "too many requests: %g per second" % b.rate},
                              {"Retry-After": str(b.retry_after)})
    return True


def check_leader(handler, lst, path):
    """Answers a write at a listener that is not the leader; True when it did."""
    lead = LEADERS[lst.service]
    if lead.node is None or lead.node == lst.node:
        return False
    leader = STATE.listeners.get((lst.service, lead.node))
    if leader is None:
        raise HttpError(503, "no leader")
    url = base_url(leader)
    if lead.mode == "redirect":
        handler.send_json(307, {"error": "not the leader", "leader": url}, {"Location": url + path})
    elif lead.mode == "421":
        handler.send_json(421, {"error": "not the leader", "leader": url})
    else:
        handler.send_json(503, {"error": "not the leader"})
    return True


def count_add(service):
    """An add the leader took (under STATE.lock): a leadership change that waits for adds, as an
    election during a herd, happens now."""
    lead = LEADERS[service]
    lead.adds += 1
    if lead.after_adds > 0 and lead.handover and lead.adds >= lead.after_adds:
        lead.node, lead.mode = lead.handover.pop(0)
        lead.adds = 0


def member_status(service, member):
    return "leader" if LEADERS[service].node == member["id"] else member.get("status", "active")


# --- control --------------------------------------------------------------------------------
def set_leader(body, listener_of):
    service = body.get("service")
    if service not in CLUSTER_SERVICES:
        raise HttpError(400, "'service' must be chainfire or flaredb")
    node = body.get("node")
    if node is not None:
        listener_of({"service": service, "node": node})
    mode = body.get("mode", "redirect")
    if mode not in LEADER_MODES:
        raise HttpError(400, "'mode' must be one of %s" % ", ".join(LEADER_MODES))
    # "then": the leaders to come, each taking over once the one before took "after_adds" adds.
    after = body.get("after_adds", 0)
    if isinstance(after, bool) or not isinstance(after, int) or after < 0:
        raise HttpError(400, "'after_adds' must be a whole number >= 0")
    then = body.get("then", [])
    if not isinstance(then, list) or (then and after == 0):
        raise HttpError(400, "'then' must be a list of {node, mode}, with 'after_adds' > 0")
    handover = []
    for t in then:
        if not isinstance(t, dict) or t.get("mode", "redirect") not in LEADER_MODES:
            raise HttpError(400, "each of 'then' must be {\"node\": NAME, \"mode\": %s}" % "|".join(LEADER_MODES))
        listener_of({"service": service, "node": t.get("node")})
        handover.append((t["node"], t.get("mode", "redirect")))
    with STATE.lock:
        lead = LEADERS[service]
        lead.node, lead.mode = node, mode
        lead.after_adds, lead.adds, lead.handover = after, 0, handover
    return {"service": service, "leader": node, "mode": mode, "after_adds": after,
            "then": [{"node": n, "mode": m} for n, m in handover]}


def set_throttle(body, listener_of):
    service, lst = listener_of(body)
    rate = body.get("rate")
    if rate is None or rate == 0:
        BUCKETS.pop((service, lst.node), None)
        return {"service": service, "node": lst.node, "throttle": None}
    burst = body.get("burst", 1)
    retry_after = body.get("retry_after", 1)
    status = body.get("status", 429)
    for k, v in (("rate", rate), ("burst", burst), ("retry_after", retry_after)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
            raise HttpError(400, "'%s' must be a number > 0" % k)
    if status not in (429, 503):
        raise HttpError(400, "'status' must be 429 or 503")
    BUCKETS[(service, lst.node)] = Bucket(float(rate), int(burst), int(retry_after), status)
    return {"service": service, "node": lst.node, "rate": rate, "burst": burst, "retry_after": retry_after,
            "status": status}


def summary():
    """The fleet as a collector shows it: the last report of each node (firstboot-progress,
    -done, -failed carry the same members), how many are in each phase, and the members."""
    with STATE.lock:
        reports = list(STATE.reports)
        members = {s: [dict(m) for m in STATE.members[s]] for s in CLUSTER_SERVICES}
        refused = {"%s:%s" % k: b.refused for k, b in BUCKETS.items()}
    nodes = {}
    for r in reports:
        b = r["body"]
        if not isinstance(b, dict) or not str(b.get("event", "")).startswith("firstboot-"):
            continue
        nodes[b.get("node_id")] = {k: b.get(k) for k in ("event", "phase", "step", "step_index", "steps_total",
                                                         "attempt", "waiting_for", "elapsed_ms")}
        nodes[b.get("node_id")]["t"] = r["t"]
    phases = {}
    for n in nodes.values():
        phases[n["phase"]] = phases.get(n["phase"], 0) + 1
    dups = {}
    for s, ms in members.items():
        seen_id, seen_addr, d = set(), set(), []
        for m in ms:
            if m["id"] in seen_id or m["raft_addr"] in seen_addr:
                d.append(m["id"])
            seen_id.add(m["id"])
            seen_addr.add(m["raft_addr"])
        dups[s] = d
    return {"nodes": nodes, "phases": phases, "members": {s: len(ms) for s, ms in members.items()},
            "duplicates": dups, "throttled": refused}


def summary_text(s):
    lines = ["fleet: %d node(s) reporting; %s" % (len(s["nodes"]), ", ".join(
        "%s %d" % (p, n) for p, n in sorted(s["phases"].items(), key=lambda x: str(x[0]))) or "no phase yet")]
    lines.append("%-12s %-8s %-18s %7s  %s" % ("node", "phase", "step", "attempt", "waiting for"))
    for node, n in sorted(s["nodes"].items(), key=lambda x: str(x[0])):
        step = "%s (%s/%s)" % (n["step"], n["step_index"], n["steps_total"]) if n["step"] else "-"
        lines.append("%-12s %-8s %-18s %7s  %s" % (node, n["phase"], step, n["attempt"], n["waiting_for"] or ""))
    for svc, count in sorted(s["members"].items()):
        d = s["duplicates"][svc]
        lines.append("members of %s: %d; duplicates: %s" % (svc, count, ", ".join(d) if d else "none"))
    for k, v in sorted(s["throttled"].items()):
        lines.append("throttled at %s: %d request(s)" % (k, v))
    return "\n".join(lines) + "\n"
