"""examples/team end to end: a local events API, moto's S3, a local alert endpoint, and time travel."""
from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import ROOT
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)

EXAMPLE = ROOT / "examples" / "team"


def _fake_api():
    spec = importlib.util.spec_from_file_location("fake_api", EXAMPLE / "fake_api.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Alerts:
    """A local HTTP endpoint that keeps what the failure hook posts to it."""

    def __init__(self) -> None:
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def team(project, bucket):
    shutil.copytree(EXAMPLE, project.path, dirs_exist_ok=True)
    down = {"2026-11-20"}  # days the API cannot serve: emptied when it is back
    api = _fake_api().serve(0, down)
    threading.Thread(target=api.serve_forever, daemon=True).start()
    alerts = Alerts()
    webhook = alerts.url.replace("http://", "json://")

    def run(*args):
        return project.run("--var", f"API=http://127.0.0.1:{api.server_port}", "--var", f"BUCKET={bucket.name}",
                           "--var", "RETRIES=0", "--var", f"ALERT_URL={webhook}", *args, env=bucket.env)

    yield project, run, alerts, down
    alerts.stop()
    api.shutdown()
    api.server_close()


def test_a_week_of_the_team_pipeline_with_a_failure_an_alert_and_a_rerun(team, bucket):
    project, run, alerts, down = team
    caught_up = run("--once", "--now", "2026-11-20T06:00:00Z")  # days 16..19 are due
    assert caught_up.returncode == 0, caught_up.stderr
    days = [f"2026-11-{d}" for d in range(16, 20)]
    assert bucket.keys() == sorted([f"daily/{d}.csv" for d in days] + [f"weekly/{d}.csv" for d in days])
    week = _totals(project.read("weekly/2026-11-19.csv"))
    assert week == _sum(_totals(project.read(f"daily/{d}.csv")) for d in days)
    assert bucket.read("weekly/2026-11-19.csv") == project.read("weekly/2026-11-19.csv")
    listed = json.loads(run("--list", "--json", "--date", "2026-11-19").stdout)["steps"]
    assert [s["state"] for s in listed] == ["up to date"] * 6 and listed[4]["tags"] == ["publish"]

    outage = run("--once", "--now", "2026-11-21T06:00:00Z")  # the API has no events for the 20th
    assert outage.returncode == 1
    assert [_alert(a)[0] for a in alerts.received] == [f"[datamake] {project.path.name} 2026-11-20: interval failed"]
    assert "step: raw/2026-11-20.json" in _alert(alerts.received[0])[1]
    assert not project.exists("daily/2026-11-20.csv") and "daily/2026-11-20.csv" not in bucket.keys()
    # Later ticks stay quiet about the failure; past noon the day after, its SLA miss is sent once.
    for now in ("2026-11-21T09:00:00Z", "2026-11-21T13:00:00Z", "2026-11-21T14:00:00Z"):
        assert run("--once", "--now", now).returncode == 0
    assert [_alert(a)[0] for a in alerts.received[1:]] == [f"[datamake] {project.path.name} 2026-11-20: sla missed"]

    # The API is back: the failed day is built again, the days before it are not fetched again.
    down.clear()
    again = run("--once", "--rerun", "failed", "--now", "2026-11-21T06:00:00Z", "--json")
    assert again.returncode == 0, again.stderr
    assert "weekly/2026-11-20.csv" in bucket.keys()
    assert _alert(alerts.received[-1])[0] == f"[datamake] {project.path.name} 2026-11-20: recovered"
    seven = _totals(project.read("weekly/2026-11-20.csv"))
    assert seven == _sum(_totals(project.read(f"daily/2026-11-{d}.csv")) for d in range(16, 21))


def _alert(body: str) -> tuple[str, str]:
    """A webhook notification's title and message (apprise's json:// posts them as JSON)."""
    data = json.loads(body)
    return data["title"], data["message"]


def _totals(text: str) -> dict[str, int]:
    return {user: int(total) for user, total in (line.split(",") for line in text.splitlines())}


def _sum(parts) -> dict[str, int]:
    result: dict[str, int] = {}
    for part in parts:
        for user, total in part.items():
            result[user] = result.get(user, 0) + total
    return result
