#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test image server: serves the files of a directory over HTTP or HTTPS with Range and
If-Range support, and on request misbehaves the way real networks and servers do: drops the
connection in the middle of a body, throttles, ignores Range, answers with errors. Every
request is counted. Python 3 standard library only.

    imaged.py --root DIR --listen HOST:PORT [--tls-dir DIR] [--control HOST:PORT]
              [--ready-file FILE] [--rate BYTES_PER_S] [-v]

Control API (plain HTTP, JSON):
  GET  /control/stats         {"requests":[{path,method,range,status,sent,dropped}],
                               "range_requests":N, "drops":N, "bytes_sent":N}
  POST /control/drop          {"path"?, "after": BYTES, "count": N, "rst"?: bool}  the next N
                               GETs (of path; N < 0: all) end the connection after BYTES of the
                               body: a clean close, or a reset (data in flight is lost)
  POST /control/rate          {"bytes_per_s": N}   0 = unlimited
  POST /control/ignore-range  {"enabled": bool}    answer 200 with the whole file
  POST /control/fail          {"path"?, "status": S, "count": N}
  POST /control/stall         {"path"?, "after": BYTES, "seconds": S, "count": N}  the next N
                               GETs send BYTES of the body, then nothing for S seconds with the
                               connection open (a stalled transfer), then the rest; a client that
                               gives up meanwhile is counted in "stalls_abandoned"
  POST /control/redirect      {"path": P, "location": URL, "status"?: 302, "count"?: -1}
                               answer GETs of P with a redirect to URL
  POST /control/reset         forget requests and rules
"""

import argparse
import email.utils
import json
import os
import select
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tls_server import TLSThreadingHTTPServer

CHUNK = 1 << 20


class State:
    def __init__(self, rate):
        self.lock = threading.Lock()
        self.requests = []
        self.drops = []                 # [{"path", "after", "count"}]
        self.fails = []
        self.stalls = []
        self.redirects = []
        self.stalls_abandoned = 0
        self.rate = rate
        self.ignore_range = False

    def take_rule(self, rules, path):
        with self.lock:
            for r in rules:
                if r["count"] != 0 and r.get("path") in (None, path):
                    if r["count"] > 0:
                        r["count"] -= 1
                    return dict(r)
        return None

    def stats(self):
        with self.lock:
            return {
                "requests": list(self.requests),
                "range_requests": sum(1 for r in self.requests if r["range"]),
                "drops": sum(1 for r in self.requests if r["dropped"]),
                "bytes_sent": sum(r["sent"] for r in self.requests),
                "stalls_abandoned": self.stalls_abandoned,
            }


def parse_host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def parse_range(header, size):
    """'bytes=A-' or 'bytes=A-B' -> (start, end_exclusive), or None when unsatisfiable."""
    if not header.startswith("bytes=") or "," in header:
        return "invalid"
    a, _, b = header[6:].partition("-")
    if a == "":
        n = int(b)
        return (max(0, size - n), size) if n > 0 else None
    start = int(a)
    end = int(b) + 1 if b else size
    if start >= size:
        return None
    return start, min(end, size)


def make_handler(root, state, verbose):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "imaged/1"

        def log_message(self, fmt, *args):
            if verbose:
                sys.stderr.write("imaged: " + (fmt % args) + "\n")

        def record(self, status, rng, sent, dropped):
            with state.lock:
                state.requests.append({"path": self.path, "method": self.command, "range": rng,
                                       "status": status, "sent": sent, "dropped": dropped})

        def error(self, status, text):
            body = (text + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            self.record(status, self.headers.get("Range"), 0, False)

        def do_HEAD(self):
            self.do_GET()

        def do_GET(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            fail = state.take_rule(state.fails, self.path)
            if fail:
                return self.error(fail["status"], "injected failure")
            redirect = state.take_rule(state.redirects, self.path)
            if redirect:
                self.send_response(redirect["status"])
                self.send_header("Location", redirect["location"])
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.record(redirect["status"], self.headers.get("Range"), 0, False)
                return
            full = os.path.realpath(os.path.join(root, path.lstrip("/")))
            if not full.startswith(os.path.realpath(root) + os.sep) or not os.path.isfile(full):
                return self.error(404, "not found")
            st = os.stat(full)
            size = st.st_size
            etag = '"%x-%x"' % (size, st.st_mtime_ns)
            last_modified = email.utils.formatdate(st.st_mtime, usegmt=True)

            rng_header = self.headers.get("Range")
            start, end, status = 0, size, 200
            if rng_header and not state.ignore_range:
                if_range = self.headers.get("If-Range")
                if if_range is None or if_range in (etag, last_modified):
                    rng = parse_range(rng_header, size)
                    if rng == "invalid":
                        return self.error(400, "bad Range")
                    if rng is None:
                        self.send_response(416)
                        self.send_header("Content-Range", "bytes */%d" % size)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        self.record(416, rng_header, 0, False)
                        return
                    start, end, status = rng[0], rng[1], 206

            self.send_response(status)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(end - start))
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end - 1, size))
            drop = state.take_rule(state.drops, self.path) if self.command == "GET" else None
            if drop:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command == "HEAD":
                self.record(status, rng_header, 0, False)
                return

            limit = end - start
            if drop:
                limit = min(limit, drop["after"])
            stall = state.take_rule(state.stalls, self.path)
            if stall and stall["after"] < limit:
                sent = self.send_body(full, start, stall["after"])
                if not self.stall(stall["seconds"]):
                    with state.lock:
                        state.stalls_abandoned += 1
                    self.record(status, rng_header, sent, True)
                    self.close_connection = True
                    return
                sent += self.send_body(full, start + sent, limit - sent)
            else:
                sent = self.send_body(full, start, limit)
            dropped = bool(drop) and sent < end - start
            self.record(status, rng_header, sent, dropped)
            if dropped:
                self.wfile.flush()
                try:
                    if drop.get("rst"):
                        # An abrupt end: a reset, which also discards what is still in flight.
                        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                                   b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    else:
                        # The peer gets every byte sent, then the end of the stream.
                        self.connection.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                self.close_connection = True

        def stall(self, seconds):
            """Sends nothing for seconds; False when the client closed the connection."""
            self.wfile.flush()
            if isinstance(self.connection, ssl.SSLSocket):
                time.sleep(seconds)
                return True
            deadline = time.monotonic() + seconds
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return True
                r, _, _ = select.select([self.connection], [], [], min(left, 0.1))
                if r:
                    try:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return False
                    except OSError:
                        return False

        def send_body(self, full, offset, count):
            sent = 0
            use_sendfile = not isinstance(self.connection, ssl.SSLSocket)
            t0 = time.monotonic()
            with open(full, "rb") as f:
                while sent < count:
                    n = min(CHUNK, count - sent)
                    rate = state.rate
                    if rate:
                        n = min(n, max(4096, rate // 20))
                    try:
                        if use_sendfile:
                            self.wfile.flush()
                            k = os.sendfile(self.connection.fileno(), f.fileno(), offset + sent, n)
                        else:
                            f.seek(offset + sent)
                            data = f.read(n)
                            self.wfile.write(data)
                            k = len(data)
                    except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
                        self.close_connection = True
                        break
                    if k <= 0:
                        break
                    sent += k
                    if rate:
                        ahead = sent / rate - (time.monotonic() - t0)
                        if ahead > 0:
                            time.sleep(ahead)
            return sent

    return Handler


def make_control(state):
    class Control(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path == "/control/stats":
                return self.reply(200, state.stats())
            self.reply(404, {"error": "not found"})

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            try:
                spec = json.loads(self.rfile.read(n) or b"{}")
            except ValueError:
                return self.reply(400, {"error": "bad JSON"})
            with state.lock:
                if self.path == "/control/drop":
                    state.drops.append({"path": spec.get("path"), "after": int(spec["after"]),
                                        "count": int(spec.get("count", 1)),
                                        "rst": bool(spec.get("rst", False))})
                elif self.path == "/control/fail":
                    state.fails.append({"path": spec.get("path"), "status": int(spec["status"]),
                                        "count": int(spec.get("count", 1))})
                elif self.path == "/control/stall":
                    state.stalls.append({"path": spec.get("path"), "after": int(spec["after"]),
                                         "seconds": float(spec["seconds"]),
                                         "count": int(spec.get("count", 1))})
                elif self.path == "/control/redirect":
                    state.redirects.append({"path": spec["path"], "location": spec["location"],
                                            "status": int(spec.get("status", 302)),
                                            "count": int(spec.get("count", -1))})
                elif self.path == "/control/rate":
                    state.rate = int(spec.get("bytes_per_s", 0))
                elif self.path == "/control/ignore-range":
                    state.ignore_range = bool(spec.get("enabled", True))
                elif self.path == "/control/reset":
                    state.requests.clear()
                    state.drops.clear()
                    state.fails.clear()
                    state.stalls.clear()
                    state.redirects.clear()
                    state.stalls_abandoned = 0
                    state.ignore_range = False
                else:
                    return self.reply(404, {"error": "not found"})
            self.reply(200, {"ok": True})

    return Control


def main():
    ap = argparse.ArgumentParser(description="Range-capable test image server")
    ap.add_argument("--root", required=True)
    ap.add_argument("--listen", required=True, help="HOST:PORT (PORT 0: any)")
    ap.add_argument("--tls-dir", help="serve HTTPS with DIR/server.crt and DIR/server.key")
    ap.add_argument("--control", help="HOST:PORT of the control API")
    ap.add_argument("--ready-file")
    ap.add_argument("--rate", type=int, default=0, help="bytes per second per response")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    state = State(args.rate)
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.allow_reuse_address = True
    ctx = None
    if args.tls_dir:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(os.path.join(args.tls_dir, "server.crt"),
                            os.path.join(args.tls_dir, "server.key"))
    server = TLSThreadingHTTPServer(parse_host_port(args.listen),
                                    make_handler(args.root, state, args.verbose), ctx)
    server.timeout_s = None     # the body goes out with os.sendfile(): a blocking socket
    threads = [threading.Thread(target=server.serve_forever, daemon=True)]
    control = None
    if args.control:
        control = ThreadingHTTPServer(parse_host_port(args.control), make_control(state))
        threads.append(threading.Thread(target=control.serve_forever, daemon=True))
    for t in threads:
        t.start()

    if args.ready_file:
        info = {"pid": os.getpid(), "port": server.server_address[1],
                "control_port": control.server_address[1] if control else None}
        tmp = args.ready_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(info, f)
        os.rename(tmp, args.ready_file)

    import signal
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    stop.wait()
    if args.ready_file:
        try:
            os.unlink(args.ready_file)
        except OSError:
            pass


if __name__ == "__main__":
    main()
