"""`datamake --serve`: the report's views live, and their data as JSON, from the standard library's HTTP server.

Read only: every request reads the state databases afresh (read-only connections and copies)
and nothing is ever written. Routes:

  /                       the live page (the report, polling api/report)
  /api/report             every workflow's data, as the page draws it
  /api/workflows          the workflow list: name, path, schedule, next due, recent interval states, failures
  /api/workflows/N        workflow N's data
  /api/log?w=N&path=P     the tail of one attempt's log (only logs the state records for workflow N)
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Sequence
from urllib.parse import parse_qs, urlsplit

from datamake.build.attempt_logs import read_tail
from datamake.views.history import Source
from datamake.views.report_page import render_page, report_data

LOG_TAIL_LINES = 200
LOG_TAIL_BYTES = 64 * 1024


class ReportServer(ThreadingHTTPServer):
    """Serves the views of the workflows `load_sources()` returns; re-loads them when a workflow file changes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], load_sources: Callable[[], list[Source]],
                 now: Callable[[], datetime], paths: Sequence[str]):
        super().__init__(address, _Handler)
        self.load_sources = load_sources
        self.now = now
        self.paths = list(paths)
        self.guard = threading.Lock()
        self.cached: tuple[tuple, list[Source]] | None = None

    def sources(self) -> list[Source]:
        """The workflows, evaluated again only when one of their files changed."""
        stamp = tuple(_mtime(p) for p in self.paths)
        with self.guard:
            if self.cached is None or self.cached[0] != stamp:
                self.cached = (stamp, self.load_sources())
            return self.cached[1]

    def data(self) -> dict:
        return report_data(self.sources(), self.now(), live=True, all_tails=False)


def _mtime(path: str) -> float:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return 0.0


class _Handler(BaseHTTPRequestHandler):
    server: ReportServer
    server_version = "datamake"

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        url = urlsplit(self.path)
        route = url.path.rstrip("/") or "/"
        if route == "/":
            title = ", ".join(os.path.basename(os.path.dirname(p)) or p for p in self.server.paths)
            return self._send(200, "text/html; charset=utf-8", render_page(None, title, live=True))
        if route == "/api/report":
            return self._json(self.server.data())
        if route == "/api/workflows":
            return self._json({"workflows": [_summary(w) for w in self.server.data()["workflows"]]})
        if route.startswith("/api/workflows/"):
            return self._one(route.rsplit("/", 1)[1])
        if route == "/api/log":
            return self._log(parse_qs(url.query))
        return self._send(404, "text/plain; charset=utf-8", f"not found: {url.path}\n")

    def do_HEAD(self) -> None:  # noqa: N802
        self._send(200 if self.path in ("/", "/api/report", "/api/workflows") else 404, "text/plain", "")

    def _one(self, number: str) -> None:
        workflows = self.server.data()["workflows"]
        if not number.isdigit() or int(number) >= len(workflows):
            return self._send(404, "text/plain; charset=utf-8", f"no workflow {number}\n")
        return self._json(workflows[int(number)])

    def _log(self, query: dict[str, list[str]]) -> None:
        number, path = query.get("w", [""])[0], query.get("path", [""])[0]
        sources = self.server.sources()
        if not number.isdigit() or int(number) >= len(sources) or not path:
            return self._send(404, "text/plain; charset=utf-8", "no such log\n")
        logs = os.path.realpath(os.path.join(sources[int(number)].state_dir, "logs")) + os.sep
        if not os.path.realpath(path).startswith(logs):  # never a file outside the workflow's logs
            return self._send(403, "text/plain; charset=utf-8", "not a log of this workflow\n")
        return self._send(200, "text/plain; charset=utf-8", read_tail(path, LOG_TAIL_BYTES, LOG_TAIL_LINES))

    def _json(self, data: dict) -> None:
        self._send(200, "application/json", json.dumps(data))

    def _send(self, status: int, kind: str, body: str) -> None:
        raw = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the standard library's signature)
        pass  # a polling page would fill the terminal


def _summary(workflow: dict) -> dict:
    columns = workflow["columns"]
    return {"name": workflow["name"], "path": workflow["path"], "schedule": workflow["schedule"],
            "error": workflow["error"], "nextDue": workflow["nextDue"], "steps": len(workflow["steps"]),
            "recent": [{"key": c["key"], "state": c["state"]} for c in columns[-14:]],
            "failures": sum(1 for c in columns if c["state"] == "failed")}
