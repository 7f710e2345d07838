# SPDX-License-Identifier: MIT
"""What the test servers share: an error that becomes an HTTP answer, and a request handler
that reads a bounded body and answers once (JSON by default), then closes the connection."""

import json
from http.server import BaseHTTPRequestHandler


class HttpError(Exception):
    """Raised while handling a request: answered as {"error": message, **extra} with status."""

    def __init__(self, status, message, extra=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}


class AnsweringHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"   # so Expect: 100-continue works; each answer still closes
    max_body = 16 * 1024 * 1024
    answered = 0                    # the status sent, for the request log

    def read_body(self):
        """The request body, by Content-Length or chunked; at most max_body bytes."""
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
                if len(data) > self.max_body:
                    raise HttpError(413, "request body too large")
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        try:
            n = int(length)
        except ValueError:
            raise HttpError(400, "bad Content-Length '%s'" % length)
        if n < 0 or n > self.max_body:
            raise HttpError(413, "request body too large")
        return self.rfile.read(n)

    def send_raw(self, status, body, content_type="application/json", headers=None):
        if isinstance(body, str):
            body = body.encode("utf-8")
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.close_connection = True
        self.answered = status

    def send_json(self, status, obj, headers=None):
        self.send_raw(status, json.dumps(obj, sort_keys=True) + "\n", headers=headers)
