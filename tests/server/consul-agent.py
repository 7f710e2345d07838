#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for a Consul client agent: its local HTTP API over a catalog that several instances
share (the servers' view of the cluster, kept in one JSON file under a lock).

    consul-agent.py --config-dir DIR --catalog FILE --listen HOST:PORT --ready-file FILE
                    [--cluster-key KEY] [--acl-token TOKEN] [-v]

At start it reads every DIR/*.json (node_name, node_id, datacenter, bind_addr, encrypt,
retry_join, acl.tokens.agent) as `consul agent -config-dir` does, then registers the node in the
catalog the way Consul's state store does (agent/consul/state/catalog.go, ensureNodeTxn):

- the same node ID under the same name: an update;
- a name held by another node ID whose serfHealth is not critical: refused, logged as Consul logs
  it: `agent: failed to sync remote state: failed inserting node: Error while renaming Node ID:
  "NEW": Node name NAME is reserved by node OLD with name NAME (ADDRESS)` — the catalog keeps the
  old entry, and the agent retries;
- a name held by a node whose serfHealth is critical (its agent died): taken over.
With --cluster-key, a config whose `encrypt` differs cannot join (no leader, nothing registered),
as a gossip key mismatch does. retry_join must name at least one address. Once joined its
serfHealth is "passing"; SIGTERM leaves the cluster (the entry goes, as a client's
leave_on_terminate), SIGKILL leaves it behind, still "passing" until the failure is noticed: the
test says when, with POST /control/serf (a real cluster takes seconds).
With --acl-token, every API request needs that X-Consul-Token (403 "ACL not found" otherwise).

  GET /v1/status/leader        "127.0.0.1:8300" once joined, "" before (or as set)
  GET /v1/catalog/node/NAME    {"Node": {...}, "Services": {}}, or null
  GET /v1/health/node/NAME     [{"CheckID": "serfHealth", "Status", "Output", ...}]
  GET /v1/agent/self           {"Config": {"NodeName", "NodeID", "Datacenter"}}
Control (same listener, no token): GET /control/state; POST /control/fail {"path","status",
"times"}; POST /control/leader {"leader"}; POST /control/serf {"node","status"} (mark a node
"critical" or "passing" in the shared catalog).
"""

import argparse
import fcntl
import glob
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterd_core import is_loopback  # noqa: E402

OPTS = argparse.Namespace()
FAILS = []
LOCAL = {"joined": False, "synced": False, "error": None}
LOCK = threading.Lock()


def log(level, msg):
    print("%s [%s] agent: %s" % (time.strftime("%Y-%m-%dT%H:%M:%S"), level, msg), file=sys.stderr, flush=True)


class Catalog:
    """The shared catalog file, locked for each read-modify-write."""

    def __enter__(self):
        self.fd = os.open(OPTS.catalog, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        raw = os.read(self.fd, 1 << 24)
        self.data = json.loads(raw) if raw.strip() else {"nodes": {}, "leader": "127.0.0.1:8300"}
        return self.data

    def __exit__(self, *exc):
        if exc[0] is None:
            os.lseek(self.fd, 0, os.SEEK_SET)
            os.ftruncate(self.fd, 0)
            os.write(self.fd, json.dumps(self.data, indent=1, sort_keys=True).encode())
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


def serf_status(n):
    """What the servers' failure detector says of the node: "passing" until told otherwise
    (POST /control/serf), so that a test decides when a dead agent has been noticed."""
    return n.get("serf", "passing")


def register():
    c = OPTS.config
    name, node_id = c["node_name"], c["node_id"]
    address = c.get("bind_addr") or "127.0.0.1"
    with Catalog() as cat:
        nodes = cat["nodes"]
        for other, n in nodes.items():
            if other.lower() == name.lower() and n["id"] != node_id and serf_status(n) != "critical":
                return ('failed inserting node: Error while renaming Node ID: "%s": Node name %s is reserved by node '
                        '%s with name %s (%s)' % (node_id, name, n["id"], other, n["address"]))
        for other in [o for o, n in nodes.items() if n["id"] == node_id and o != name]:
            del nodes[other]
        nodes[name] = {"id": node_id, "address": address, "datacenter": c.get("datacenter", "dc1"),
                       "serf": "passing"}
    return None


def join_loop():
    c = OPTS.config
    if not c.get("retry_join"):
        log("WARN", "no retry_join: not joining a cluster")
        return
    if OPTS.cluster_key and c.get("encrypt") != OPTS.cluster_key:
        LOCAL["error"] = "No installed keys could decrypt the message"
        log("ERROR", "memberlist: failed to receive: %s" % LOCAL["error"])
        return
    with LOCK:
        LOCAL["joined"] = True      # a Serf member: the leader is known; the catalog sync may still fail
    while True:
        err = register()
        with LOCK:
            LOCAL["synced"], LOCAL["error"] = err is None, err
        if err is None:
            log("INFO", "Synced node info")
            return
        log("ERROR", "failed to sync remote state: %s" % err)
        time.sleep(1)


def leave(*_):
    try:
        with Catalog() as cat:
            n = cat["nodes"].get(OPTS.config["node_name"])
            if n and n["id"] == OPTS.config["node_id"]:
                del cat["nodes"][OPTS.config["node_name"]]
    finally:
        os._exit(0)


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        if OPTS.verbose:
            log("DEBUG", fmt % args)

    def send(self, code, body, text=False):
        """body as JSON, or as plain text (Consul's errors are text)."""
        data = (body if text else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if text else "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(n) or b"{}") if n else {}

    def do_POST(self):
        try:
            b = self.body()
            if self.path == "/control/fail":
                FAILS.append({"path": b["path"], "status": int(b["status"]), "times": int(b.get("times", -1))})
            elif self.path == "/control/leader":
                with Catalog() as cat:
                    cat["leader"] = b["leader"]
            elif self.path == "/control/serf":
                with Catalog() as cat:
                    cat["nodes"][b["node"]]["serf"] = b["status"]
            else:
                return self.send(404, "no such control endpoint", text=True)
        except (ValueError, KeyError, TypeError) as e:
            return self.send(400, "bad body: %r" % e, text=True)
        self.send(200, {"ok": True})

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/control/state":
            with Catalog() as cat:
                nodes = {k: dict(v, serfHealth=serf_status(v)) for k, v in cat["nodes"].items()}
                return self.send(200, {"joined": LOCAL["joined"], "synced": LOCAL["synced"], "error": LOCAL["error"], "nodes": nodes,
                                       "leader": cat["leader"]})
        for f in FAILS:
            if path.startswith(f["path"]) and f["times"] != 0:
                f["times"] -= 1
                return self.send(f["status"], "injected failure", text=True)
        if OPTS.acl_token and self.headers.get("X-Consul-Token") != OPTS.acl_token:
            return self.send(403, "ACL not found", text=True)
        with Catalog() as cat:
            if path == "/v1/status/leader":
                return self.send(200, cat["leader"] if LOCAL["joined"] else "")
            if path == "/v1/agent/self":
                c = OPTS.config
                return self.send(200, {"Config": {"NodeName": c["node_name"], "NodeID": c["node_id"],
                                                  "Datacenter": c.get("datacenter", "dc1")}})
            for prefix in ("/v1/catalog/node/", "/v1/health/node/"):
                if path.startswith(prefix):
                    if not LOCAL["joined"] or not cat["leader"]:
                        return self.send(500, "No cluster leader", text=True)
                    name = path[len(prefix):]
                    n = cat["nodes"].get(name)
                    if prefix == "/v1/catalog/node/":
                        return self.send(200, None if n is None else {
                            "Node": {"ID": n["id"], "Node": name, "Address": n["address"], "Datacenter": n["datacenter"],
                                     "TaggedAddresses": {"lan": n["address"]}, "Meta": {}},
                            "Services": {}})
                    if n is None:
                        return self.send(200, [])
                    st = serf_status(n)
                    return self.send(200, [{"Node": name, "CheckID": "serfHealth", "Name": "Serf Health Status",
                                            "Status": st, "Notes": "", "ServiceID": "", "ServiceName": "",
                                            "Output": "Agent alive and reachable" if st == "passing"
                                            else "Agent not live or unreachable"}])
        self.send(404, "no such endpoint", text=True)


def main(argv):
    p = argparse.ArgumentParser(description="Consul client agent stand-in")
    p.add_argument("--config-dir", required=True)
    p.add_argument("--catalog", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--cluster-key")
    p.add_argument("--acl-token")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    OPTS.__dict__.update(vars(a))
    conf = {}
    for path in sorted(glob.glob(os.path.join(a.config_dir, "*.json"))):
        with open(path) as f:
            conf.update(json.load(f))
    for key in ("node_name", "node_id", "data_dir"):
        if not conf.get(key):
            log("ERROR", "config: %s is required" % key)
            return 1
    OPTS.config = conf
    host, _, port = a.listen.rpartition(":")
    if not is_loopback(host) or not port.isdigit():
        log("ERROR", "--listen wants a loopback HOST:PORT")
        return 2
    try:
        srv = ThreadingHTTPServer((host, int(port)), Api)
    except OSError as e:
        log("ERROR", str(e))
        return 1
    signal.signal(signal.SIGTERM, leave)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    threading.Thread(target=join_loop, daemon=True).start()
    with open(a.ready_file + ".tmp", "w") as f:
        json.dump({"pid": os.getpid(), "listen": a.listen}, f)
    os.rename(a.ready_file + ".tmp", a.ready_file)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
