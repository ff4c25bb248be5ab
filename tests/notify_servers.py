"""A real SMTP server (aiosmtpd) and a real HTTP endpoint on 127.0.0.1 that keep what they receive."""
from __future__ import annotations

import http.server
import socket
import threading
import time
from email import message_from_bytes, policy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """aiosmtpd on 127.0.0.1: `messages` holds each received email as an email.message.EmailMessage."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's handler hook
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class HttpEndpoint:
    """A threaded HTTP server on 127.0.0.1: `requests` holds (path, headers, body) of each POST."""

    def __init__(self):
        received = self.requests = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.path, dict(self.headers), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def wait_until(check, timeout: float = 10.0) -> None:
    """Deliveries are done when datamake exits; this only covers the server's own thread hand-off."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "nothing arrived"
        time.sleep(0.02)
