#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A k3s server stand-in: the parts a joining agent talks to, with real state.

    k3s-server.py --listen HOST:PORT --tls-dir DIR --token TOKEN --state FILE
                  --control HOST:PORT --ready-file FILE [--ready-after S] [--never-ready]
                  [--cacerts FILE] [-v]

HTTPS on --listen with DIR/server.crt (certificates from gen-certs.sh; DIR/ca.crt is the cluster
CA, DIR/ca.key signs the nodes' client certificates):

  GET  /cacerts                      the CA bundle, DIR/ca.crt byte for byte (no authentication);
                                     --cacerts: another file (a bundle that does not sign the
                                     server's certificate)
  GET  /v1-k3s/client-kubelet.crt    basic auth node:PASSWORD (user "node", the token's password), headers
                                     k3s-Node-Name and k3s-Node-Password: the node password is
                                     stored (as a SHA-256) at the first request for a name and must
                                     match later (403 otherwise, as k3s's node-password check);
                                     answers a client certificate CN=system:node:NAME,
                                     O=system:nodes signed by the CA, then its key
  POST /api/v1/nodes                 the kubelet registering its Node (client certificate
                                     system:node:NAME, body {"metadata":{"name","labels"}})
  GET  /api/v1/nodes/NAME            the Node object, to NAME's own certificate only (401 without
                                     a certificate, 403 to another identity, 404 before it
                                     registered); Ready turns "True" --ready-after seconds after
                                     registration, never with --never-ready

Plain-HTTP control on --control:

  GET  /control/state                {"nodes": {...}, "passwords": [names], "requests": n}
  POST /control/fail {"path","status","times"}     answer that status on the next requests
  POST /control/ready {"node","after"|"never"}     that node's Ready delay (seconds) or never
  POST /control/delete-password {"node"}           what `kubectl -n kube-system delete secret
                                                   NODE.node-password.k3s` does
  POST /control/delete-node {"node"}               what `kubectl delete node NODE` does

State (passwords, nodes) lives in --state (JSON) and survives a restart. Exit 2 on a usage
error, 1 when the sockets or TLS files cannot be used.
"""

import argparse
import base64
import hashlib
import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from clusterd_core import is_loopback  # noqa: E402
from tls_server import TLSThreadingHTTPServer  # noqa: E402

PASSWORD_REJECTED = ("Node password rejected, duplicate hostname or contents of '/etc/rancher/node/password' "
                     "may not match server node-passwd entry, try enabling a unique node name with the "
                     "--with-node-id flag")

LOCK = threading.Lock()
OPTS = argparse.Namespace()
STATE = {"nodes": {}, "passwords": {}}
FAILS = []   # [{"path", "status", "times"}]
COUNT = {"requests": 0}


def say(msg):
    if OPTS.verbose:
        print("k3s-server: %s" % msg, file=sys.stderr, flush=True)


def save():
    tmp = OPTS.state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(STATE, f, indent=1, sort_keys=True)
    os.rename(tmp, OPTS.state)


def status_obj(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


def token_password(token):
    """The password part of a k3s token, as k3s's parseToken reads it."""
    if token.startswith("K10"):
        rest = token[3:]
        creds = rest.split("::", 1)[1] if "::" in rest else rest
        return creds.split(":", 1)[1] if ":" in creds else creds
    return token.split(":", 1)[1] if ":" in token else token


def issue_cert(name):
    """A client certificate for the node, signed by the stand-in's CA: (cert PEM, key PEM)."""
    with tempfile.TemporaryDirectory() as d:
        key, csr, crt, ext = (os.path.join(d, n) for n in ("k", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=clientAuth\n")
        run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key)
        run("openssl", "req", "-new", "-key", key, "-subj", "/O=system:nodes/CN=system:node:%s" % name, "-out", csr)
        run("openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(OPTS.tls_dir, "ca.crt"),
            "-CAkey", os.path.join(OPTS.tls_dir, "ca.key"), "-set_serial", str(int(time.time() * 1e6)),
            "-days", "365", "-extfile", ext, "-out", crt)
        return open(crt).read(), open(key).read()


def node_object(name):
    n = STATE["nodes"][name]
    ready = n["ready_at"] is not None and time.time() >= n["ready_at"]
    cond = ({"type": "Ready", "status": "True", "reason": "KubeletReady",
             "message": "kubelet is posting ready status"} if ready else
            {"type": "Ready", "status": "False", "reason": "KubeletNotReady",
             "message": "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
                        "message:Network plugin returns error: cni plugin not initialized"})
    return {"kind": "Node", "apiVersion": "v1",
            "metadata": {"name": name, "labels": n.get("labels", {})},
            "status": {"conditions": [
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
                cond]}}


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        say(fmt % args)

    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else (json.dumps(body) if not isinstance(body, str) else body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def identity(self):
        cert = self.connection.getpeercert()
        for rdn in (cert or {}).get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    return v
        return None

    def injected(self):
        for f in FAILS:
            if self.path.startswith(f["path"]) and f["times"] != 0:
                f["times"] -= 1
                self.send(f["status"], status_obj(f["status"], "InternalError", "injected failure"))
                return True
        return False

    def do_GET(self):
        if self.path == "/v1-k3s/client-kubelet.crt":
            return self.client_cert()
        with LOCK:
            COUNT["requests"] += 1
            if self.injected():
                return
            if self.path == "/cacerts":
                with open(OPTS.cacerts or os.path.join(OPTS.tls_dir, "ca.crt"), "rb") as f:
                    return self.send(200, f.read(), "text/plain")
            if self.path.startswith("/api/v1/nodes/"):
                return self.get_node(self.path[len("/api/v1/nodes/"):])
            self.send(404, status_obj(404, "NotFound", "the server could not find the requested resource"))

    def do_POST(self):
        with LOCK:
            COUNT["requests"] += 1
            raw = self.body()
            if self.injected():
                return
            if self.path != "/api/v1/nodes":
                return self.send(404, status_obj(404, "NotFound", "the server could not find the requested resource"))
            who = self.identity()
            try:
                meta = json.loads(raw)["metadata"]
                name = meta["name"]
            except (ValueError, KeyError, TypeError):
                return self.send(400, status_obj(400, "BadRequest", "not a Node object"))
            if who != "system:node:%s" % name:
                return self.send(403, status_obj(403, "Forbidden", 'nodes "%s" is forbidden: User "%s" cannot create '
                                                 'resource "nodes" for another node' % (name, who)))
            after = OPTS.ready_delays.get(name, OPTS.ready_after)
            STATE["nodes"][name] = {"labels": meta.get("labels") or {},
                                    "ready_at": None if after == "never" else time.time() + after}
            save()
            self.send(201, node_object(name))

    def client_cert(self):
        """The password check under the lock; the certificate made outside it (openssl takes a
        while, and a herd asks at once)."""
        with LOCK:
            COUNT["requests"] += 1
            if self.injected():
                return
            name = self.check_node_password()
        if name:
            crt, key = issue_cert(name)
            self.send(200, crt + key, "text/plain")

    def check_node_password(self):
        auth = self.headers.get("Authorization", "")
        try:
            user, _, password = base64.b64decode(auth.split(" ", 1)[1]).decode().partition(":")
        except (IndexError, ValueError):
            user = password = None
        if user != "node" or password != token_password(OPTS.token):
            return self.send(401, status_obj(401, "Unauthorized", "Unauthorized"))
        name = self.headers.get("k3s-Node-Name")
        node_password = self.headers.get("k3s-Node-Password")
        if not name or not node_password:
            return self.send(400, status_obj(400, "BadRequest", "missing k3s-Node-Name or k3s-Node-Password"))
        digest = hashlib.sha256(node_password.encode()).hexdigest()
        known = STATE["passwords"].get(name)
        if known is not None and known != digest:
            say("node password of %s rejected" % name)
            return self.send(403, "Forbidden: node password mismatch for %s\n" % name, "text/plain")
        if known is None:
            STATE["passwords"][name] = digest
            save()
        return name

    def get_node(self, name):
        who = self.identity()
        if who is None:
            return self.send(401, status_obj(401, "Unauthorized", "Unauthorized"))
        if who != "system:node:%s" % name:
            return self.send(403, status_obj(403, "Forbidden", 'nodes "%s" is forbidden: User "%s" cannot get '
                                             'resource "nodes" in API group "" at the cluster scope' % (name, who)))
        if name not in STATE["nodes"]:
            return self.send(404, status_obj(404, "NotFound", 'nodes "%s" not found' % name))
        self.send(200, node_object(name))


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_message = Api.log_message
    send = Api.send
    body = Api.body

    def do_GET(self):
        with LOCK:
            if self.path != "/control/state":
                return self.send(404, {"error": "no such control endpoint"})
            nodes = {n: {"ready": node_object(n)["status"]["conditions"][1]["status"] == "True",
                         "labels": v.get("labels", {})} for n, v in STATE["nodes"].items()}
            self.send(200, {"nodes": nodes, "passwords": sorted(STATE["passwords"]), "requests": COUNT["requests"]})

    def do_POST(self):
        with LOCK:
            try:
                b = json.loads(self.body() or b"{}")
                if self.path == "/control/fail":
                    FAILS.append({"path": b["path"], "status": int(b["status"]), "times": int(b.get("times", -1))})
                elif self.path == "/control/ready":
                    after = "never" if b.get("never") else float(b.get("after", 0))
                    OPTS.ready_delays[b["node"]] = after
                    if b["node"] in STATE["nodes"]:
                        STATE["nodes"][b["node"]]["ready_at"] = None if after == "never" else time.time() + after
                        save()
                elif self.path == "/control/delete-password":
                    STATE["passwords"].pop(b["node"], None)
                    save()
                elif self.path == "/control/delete-node":
                    STATE["nodes"].pop(b["node"], None)
                    save()
                else:
                    return self.send(404, {"error": "no such control endpoint %s" % self.path})
            except (ValueError, KeyError, TypeError) as e:
                return self.send(400, {"error": "bad body: %r" % e})
            self.send(200, {"ok": True})


def host_port(text, option):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not is_loopback(host):
        print("k3s-server: %s wants a loopback HOST:PORT, not '%s'" % (option, text), file=sys.stderr)
        sys.exit(2)
    return host, int(port)


def main(argv):
    p = argparse.ArgumentParser(description="k3s server stand-in")
    p.add_argument("--listen", required=True)
    p.add_argument("--tls-dir", required=True)
    p.add_argument("--token", required=True, help="the cluster token (or its password)")
    p.add_argument("--state", required=True)
    p.add_argument("--control", required=True)
    p.add_argument("--ready-file", required=True)
    p.add_argument("--ready-after", type=float, default=0.0)
    p.add_argument("--never-ready", action="store_true")
    p.add_argument("--cacerts", help="serve this bundle at /cacerts instead of DIR/ca.crt")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args(argv)
    OPTS.__dict__.update(vars(a))
    OPTS.ready_delays = {}
    if a.never_ready:
        OPTS.ready_after = "never"
    if os.path.exists(a.state):
        with open(a.state) as f:
            STATE.update(json.load(f))
    try:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(a.tls_dir, "server.crt"), os.path.join(a.tls_dir, "server.key"))
        ctx.load_verify_locations(cafile=os.path.join(a.tls_dir, "ca.crt"))
        ctx.verify_mode = ssl.CERT_OPTIONAL
        api = TLSThreadingHTTPServer(host_port(a.listen, "--listen"), Api, ctx)
        control = ThreadingHTTPServer(host_port(a.control, "--control"), Control)
    except (OSError, ssl.SSLError) as e:
        print("k3s-server: %s" % e, file=sys.stderr)
        return 1
    for s in (api, control):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    with open(a.ready_file + ".tmp", "w") as f:
        json.dump({"pid": os.getpid(), "listen": a.listen, "control": a.control}, f)
    os.rename(a.ready_file + ".tmp", a.ready_file)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main(sys.argv[1:]))
