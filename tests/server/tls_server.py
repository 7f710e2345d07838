# SPDX-License-Identifier: MIT
"""An HTTP(S) server of the stand-ins that does each TLS handshake in the connection's thread.

Wrapping the listening socket instead makes accept() do the handshake, so one slow client holds
up every other: a herd of thirty nodes connecting at once, under load, then sees connect
timeouts that a real server (k3s, Consul, nginx: a handshake per connection, concurrently) would
never give. Here accept() only accepts; the handshake runs beside the others, as in the real
servers, and a failed one ends that connection alone.
"""
import socket
import ssl
from http.server import ThreadingHTTPServer


class TLSThreadingHTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128    # a herd connects at once: the kernel's queue, as a real server's
    # A connection that says nothing for this long is dropped; None: no timeout (a socket with a
    # timeout is non-blocking underneath, and os.sendfile() on it fails with EAGAIN whenever the
    # send buffer is full, so a server that sends with it sets None).
    timeout_s = 30

    def __init__(self, addr, handler, ssl_ctx=None):
        """addr: (host, port), IPv4 or IPv6; ssl_ctx: a server-side SSLContext, or None for HTTP."""
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, handler)

    def tls_failed(self, client_address, error):
        """Called when a handshake fails (the connection is then closed); override to count or log."""

    def finish_request(self, request, client_address):
        if self.timeout_s is not None:
            request.settimeout(self.timeout_s)
        if self.ssl_ctx is None:
            super().finish_request(request, client_address)
            return
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.tls_failed(client_address, e)
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass
