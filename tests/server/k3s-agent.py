#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A stand-in for `k3s agent`: what it does at start, against k3s-server.py.

    k3s-agent.py [agent] [--config FILE] [--data-dir DIR] [--node-password-file FILE]
                 [--retry-interval S] [--max-retries N] [--exit-when-registered]

Defaults are k3s's (/etc/rancher/k3s/config.yaml, /var/lib/rancher/k3s,
/etc/rancher/node/password); the environment variables K3S_CONFIG_FILE, K3S_DATA_DIR and
K3S_NODE_PASSWORD_FILE override them (for tests). In order, as k3s does:

1. reads config.yaml (server, token-file or token, node-name, node-label, node-taint, node-ip);
2. reads the token, fetches SERVER/cacerts without verification and checks its SHA-256 against
   the token's CA hash: on a mismatch it logs k3s's "token CA hash does not match the Cluster CA
   certificate hash: A != B" and exits 1; from then on it verifies the server with that bundle;
3. reads the node password file, or makes up a random one and writes it (0600) when absent;
4. asks for the kubelet's client certificate with the node name and password; a refused
   password is logged with k3s's message ("Waiting to retrieve agent configuration; server is
   not ready: Node password rejected, …") and retried every --retry-interval seconds (k3s: 5),
   at most --max-retries times (k3s: for ever), then exit 1;
5. writes DATA/agent/client-kubelet.{crt,key}, DATA/agent/server-ca.crt and
   DATA/agent/kubelet.kubeconfig (server: the k3s server itself; a real agent points it at its
   local load balancer 127.0.0.1:6444), registers the Node with its labels, and keeps running
   (SIGTERM: exit 0) unless --exit-when-registered.
Only the subset of YAML that config.yaml needs is read: `key: value` and `key:` with `- item`
lines, values plain or double-quoted.
"""

import argparse
import base64
import hashlib
import json
import os
import secrets
import signal
import ssl
import sys
import time
import urllib.error
import urllib.request

MISMATCH = "token CA hash does not match the Cluster CA certificate hash: %s != %s"
REJECTED = ("Waiting to retrieve agent configuration; server is not ready: Node password rejected, duplicate "
            "hostname or contents of '/etc/rancher/node/password' may not match server node-passwd entry, try "
            "enabling a unique node name with the --with-node-id flag")


def log(level, msg):
    print('time="%s" level=%s msg="%s"' % (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), level, msg),
          file=sys.stderr, flush=True)


def fatal(msg):
    log("fatal", msg)
    sys.exit(1)


def scalar(text):
    text = text.strip()
    if text.startswith('"'):
        return json.loads(text)
    if text.startswith("'") and text.endswith("'"):
        return text[1:-1].replace("''", "'")
    return text


def read_config(path):
    conf, key = {}, None
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "..."):
                continue
            if line.startswith("- ") or line.startswith("  - "):
                if key is None:
                    fatal("%s: a list item outside a list" % path)
                conf.setdefault(key, []).append(scalar(line.split("- ", 1)[1]))
                continue
            k, sep, v = line.partition(":")
            if not sep or k != k.strip():
                fatal("%s: cannot read line %r" % (path, line))
            key = k
            if v.strip():
                conf[k] = scalar(v)
    return conf


def parse_token(token):
    """(ca_hash, user, password) as k3s's parseToken reads them."""
    if not token.startswith("K10"):
        return "", "", token
    rest = token[3:]
    ca_hash, creds = rest.split("::", 1) if "::" in rest else ("", rest)
    if ca_hash and len(ca_hash) != 64:
        fatal("invalid token CA hash length")
    user, sep, password = creds.partition(":")
    if not sep or not password:
        fatal("invalid token format")
    return ca_hash, user, password


def get(url, ctx, headers=None, body=None, method=None):
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
        return r.read()


def main(argv):
    p = argparse.ArgumentParser(description="k3s agent stand-in")
    p.add_argument("verb", nargs="?", default="agent")
    p.add_argument("--config", default=os.environ.get("K3S_CONFIG_FILE", "/etc/rancher/k3s/config.yaml"))
    p.add_argument("--data-dir", default=os.environ.get("K3S_DATA_DIR", "/var/lib/rancher/k3s"))
    p.add_argument("--node-password-file",
                   default=os.environ.get("K3S_NODE_PASSWORD_FILE", "/etc/rancher/node/password"))
    p.add_argument("--retry-interval", type=float, default=5.0)
    p.add_argument("--max-retries", type=int, default=-1)
    p.add_argument("--exit-when-registered", action="store_true")
    a = p.parse_args(argv)
    if a.verb != "agent":
        fatal("only the agent verb is modelled")

    conf = read_config(a.config)
    server, name = conf.get("server"), conf.get("node-name")
    if not server or not name:
        fatal("%s: server and node-name are required" % a.config)
    if "token-file" in conf:
        with open(conf["token-file"]) as f:
            token = f.read().strip()
    else:
        token = conf.get("token", "")
    if not token:
        fatal("--token is required")
    ca_hash, user, password = parse_token(token)
    log("info", "Starting k3s agent (stand-in) for node %s" % name)

    insecure = ssl.create_default_context()
    insecure.check_hostname = False
    insecure.verify_mode = ssl.CERT_NONE
    try:
        cacerts = get(server.rstrip("/") + "/cacerts", insecure)
    except (OSError, urllib.error.URLError) as e:
        fatal("failed to get CA certs: %s" % e)
    got = hashlib.sha256(cacerts).hexdigest()
    if ca_hash and ca_hash != got:
        fatal(MISMATCH % (ca_hash, got))
    pinned = ssl.create_default_context(cadata=cacerts.decode())

    if os.path.exists(a.node_password_file):
        with open(a.node_password_file) as f:
            node_password = f.read().strip()
    else:
        node_password = secrets.token_hex(16)
        os.makedirs(os.path.dirname(a.node_password_file), mode=0o700, exist_ok=True)
        fd = os.open(a.node_password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, (node_password + "\n").encode())
        os.close(fd)

    auth = "Basic " + base64.b64encode(("node:%s" % password).encode()).decode()
    headers = {"Authorization": auth, "k3s-Node-Name": name, "k3s-Node-Password": node_password}
    tries = 0
    while True:
        try:
            pem = get(server.rstrip("/") + "/v1-k3s/client-kubelet.crt", pinned, headers).decode()
            break
        except urllib.error.HTTPError as e:
            msg = REJECTED if e.code == 403 else "Waiting to retrieve agent configuration; server is not ready: %s" % e
        except (OSError, urllib.error.URLError) as e:
            msg = "Waiting to retrieve agent configuration; server is not ready: %s" % e
        log("info", msg)
        tries += 1
        if a.max_retries >= 0 and tries > a.max_retries:
            fatal("giving up after %d attempts" % tries)
        time.sleep(a.retry_interval)

    agent_dir = os.path.join(a.data_dir, "agent")
    os.makedirs(agent_dir, mode=0o700, exist_ok=True)
    split = pem.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----\n")
    files = {"client-kubelet.crt": pem[:split], "client-kubelet.key": pem[split:], "server-ca.crt": cacerts.decode()}
    for n, text in files.items():
        fd = os.open(os.path.join(agent_dir, n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.write(fd, text.encode())
        os.close(fd)
    kubeconfig = (
        "apiVersion: v1\nclusters:\n- cluster:\n    server: %s\n    certificate-authority: %s\n  name: local\n"
        "contexts:\n- context:\n    cluster: local\n    namespace: default\n    user: user\n  name: Default\n"
        "current-context: Default\nkind: Config\npreferences: {}\nusers:\n- name: user\n  user:\n"
        "    client-certificate: %s\n    client-key: %s\n") % (
        server, os.path.join(agent_dir, "server-ca.crt"), os.path.join(agent_dir, "client-kubelet.crt"),
        os.path.join(agent_dir, "client-kubelet.key"))
    with open(os.path.join(agent_dir, "kubelet.kubeconfig"), "w") as f:
        f.write(kubeconfig)

    pinned.load_cert_chain(os.path.join(agent_dir, "client-kubelet.crt"), os.path.join(agent_dir, "client-kubelet.key"))
    labels = dict(lbl.split("=", 1) for lbl in conf.get("node-label", []))
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}
    try:
        get(server.rstrip("/") + "/api/v1/nodes", pinned, {"Content-Type": "application/json"},
            json.dumps(node).encode(), "POST")
    except urllib.error.HTTPError as e:
        if e.code != 409:
            fatal("Unable to register node %s with API server: %s" % (name, e))
    log("info", "Successfully registered node %s" % name)
    if a.exit_when_registered:
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
