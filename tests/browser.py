"""Headless Chromium for the page tests: run it on a URL, dump the DOM after the page's script ran."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
from html.parser import HTMLParser
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         "--disable-component-update", "--disable-sync", "--window-size=1400,900")


def chromium(tmp_path: Path, url: str, *extra: str, timeout: float = 60) -> str:
    """Run headless Chromium with a fresh profile; returns stdout. The whole process group is stopped."""
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *extra, url],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # renderer and helper processes too
        except ProcessLookupError:
            pass
        proc.wait()
    return out


def dump_dom(tmp_path: Path, page: Path, fragment: str = "") -> list[tuple[str, dict, str]]:
    """The DOM after the page's script ran: (tag, attributes, own text) for every element."""
    html = chromium(tmp_path, page.as_uri() + fragment, "--virtual-time-budget=5000", "--dump-dom")
    assert 'data-ready="yes"' in html, "the page's script did not finish"
    return Elements.parse(html)


class Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict, str]] = []
        self.open: list[int] = []

    @classmethod
    def parse(cls, html: str) -> list[tuple[str, dict, str]]:
        parser = cls()
        parser.feed(html)
        return parser.found

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs), ""))
        if tag not in ("path", "rect", "line", "polygon", "meta", "br", "input"):
            self.open.append(len(self.found) - 1)

    def handle_endtag(self, tag):
        while self.open and self.found[self.open.pop()][0] != tag:
            pass

    def handle_data(self, data):
        if self.open:
            tag, attrs, text = self.found[self.open[-1]]
            self.found[self.open[-1]] = (tag, attrs, text + data)


def grid_rows(elements) -> dict[str, list[str]]:
    """Step name -> the states of its cells, oldest interval first (the first row is the interval states)."""
    rows: dict[str, list[str]] = {}
    current = None
    for tag, a, _ in elements:
        if tag == "div" and "grow" in a.get("class", "").split():
            current = (a["data-step"] or "(interval)") if "data-step" in a else None  # a group's row is not a step's
            if current is not None:
                rows[current] = []
        elif tag == "div" and a.get("class") == "c" and current is not None:
            rows[current].append(a["data-state"])
    return rows


def grid_groups(elements) -> list[tuple[str, bool, int, list[str]]]:
    """The grid's groups in order: (name, open, number of steps, the states of its cells)."""
    groups: list[tuple[str, bool, int, list[str]]] = []
    inside = False
    for tag, a, _ in elements:
        if tag == "div" and "grow" in a.get("class", "").split():
            inside = "data-group" in a
            if inside:
                groups.append((a["data-group"], a["data-open"] == "yes", int(a["data-steps"]), []))
        elif tag == "div" and inside and "gc" in a.get("class", "").split():
            groups[-1][3].append(a["data-state"])
    return groups


class Page:
    """One page kept open in headless Chromium, driven over the DevTools protocol on a pipe (its fds 3 and 4),
    so a test can watch the same document change over time."""

    def __init__(self, tmp_path: Path, url: str):
        to_browser, self._to_browser = os.pipe()
        self._from_browser, from_browser = os.pipe()

        def wire() -> None:  # in the child: Chromium reads commands on fd 3 and writes answers on fd 4
            os.dup2(to_browser, 3)
            os.dup2(from_browser, 4)

        profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-pipe",
                                      "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     pass_fds=(3, 4), preexec_fn=wire, start_new_session=True)
        os.close(to_browser)
        os.close(from_browser)
        self._buffer = b""
        self._next = 0
        target = self._send("Target.createTarget", {"url": url})["targetId"]
        self._session = self._send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page."""
        answer = self._send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, self._session)
        return answer["result"].get("value")

    def close(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # renderer and helper processes too
        except ProcessLookupError:
            pass
        self.proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    def __enter__(self) -> "Page":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _send(self, method: str, params: dict, session: str | None = None, timeout: float = 30) -> dict:
        self._next += 1
        message = {"id": self._next, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline)
            if answer.get("id") == self._next:  # events and other answers are skipped
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer["result"]

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._from_browser, 1 << 16) if ready else b""
            if not chunk:
                raise TimeoutError("Chromium did not answer")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)
