"""A stand-in for the team's events API: GET /events?day=YYYY-MM-DD -> that day's events as JSON.

Run it to follow README.md: `python3 fake_api.py 8765` (stop it with Ctrl-C). Each day's
events are made up from the date, so every run answers the same. Days listed in the
environment variable FAKE_API_DOWN (comma-separated) answer 503, to see a failure and its alert.
"""
from __future__ import annotations

import json
import os
import random
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

USERS = ("ann", "bob", "cho", "dev")


def events(day: str) -> list[dict]:
    """The day's events: a few purchases per user, and one malformed event the cleaning drops."""
    rng = random.Random(day)
    made = [{"user": rng.choice(USERS), "amount": rng.randrange(1, 50), "day": day} for _ in range(12)]
    return made + [{"user": "", "amount": -1, "day": day}]


class Handler(BaseHTTPRequestHandler):
    down: frozenset[str] | set[str] = frozenset()

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        url = urlparse(self.path)
        day = parse_qs(url.query).get("day", [""])[0]
        if url.path != "/events" or len(day) != 10:
            self._answer(404, {"error": "use /events?day=YYYY-MM-DD"})
        elif day in self.down:
            self._answer(503, {"error": f"events for {day} are not available"})
        else:
            self._answer(200, events(day))

    def _answer(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass  # quiet: the pipeline's own output is what matters


def serve(port: int, down: frozenset[str] | set[str] = frozenset()) -> ThreadingHTTPServer:
    """A server on 127.0.0.1:port (0: any free port); call serve_forever() on it.

    `down` is read at each request: a set emptied later brings those days back.
    """
    handler = type("DayHandler", (Handler,), {"down": down})
    return ThreadingHTTPServer(("127.0.0.1", port), handler)


if __name__ == "__main__":
    down = frozenset(d for d in os.environ.get("FAKE_API_DOWN", "").split(",") if d)
    server = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8765, down)
    print(f"events API on http://127.0.0.1:{server.server_port}/events?day=YYYY-MM-DD", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.server_close()
