"""`datamake --serve`: the live views and JSON endpoints on 127.0.0.1, read-only, following a run as it goes."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from browser import CHROMIUM, Elements, Page, chromium, grid_rows
from conftest import ROOT
from jsonkit import checked

WAITING = """\
    %schedule daily start:2026-11-20
    raw/$[DATE].json <-
      echo raw > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      for i in $(seq 300); do [ -e go ] && break; sleep 0.1; done
      echo "report for $DATE"
      cat $INPUT > $OUTPUT
    """
NOW = "2026-11-21T10:00:00Z"


def start(project, *args: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen([sys.executable, "-m", "datamake", *args], cwd=project.path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """Interrupt the process (and its steps) if still running; kill it if that does not stop it."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        proc.wait()


@pytest.fixture
def served(project):
    """`datamake --serve --port 0` on the project; yields its base URL."""
    project.workflow(WAITING)
    server = start(project, "--serve", "--port", "0", "--now", NOW)
    try:
        line = server.stderr.readline()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert found, line
        yield f"http://127.0.0.1:{found.group(1)}"
    finally:
        stop(server)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def interval_state(base: str, key: str) -> str | None:
    columns = json.loads(get(base + "/api/report")[1])["workflows"][0]["columns"]
    return next((c["state"] for c in columns if c["key"] == key), None)


def wait_for(base: str, key: str, state: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while interval_state(base, key) != state:
        assert time.monotonic() < deadline, f"{key} never became {state}"
        time.sleep(0.1)


def files_of(state: Path) -> dict[Path, bytes]:
    """Every file of the state directory with its content; SQLite's -shm is a readers' shared index
    that any reader of a WAL database maps, not state."""
    return {p: p.read_bytes() for p in state.rglob("*") if p.is_file() and not p.name.endswith("-shm")}


def interval_cells(tmp_path: Path, url: str) -> list[str]:
    html = chromium(tmp_path, url, "--virtual-time-budget=4000", "--dump-dom")
    assert 'data-ready="yes"' in html
    elements = Elements.parse(html)
    assert any(tag == "body" and a.get("data-live") == "yes" for tag, a, _ in elements)
    return grid_rows(elements)["(interval)"]


def test_json_endpoints_and_nothing_else(served, project):
    status, body = get(served + "/api/workflows")
    assert status == 200
    listed = json.loads(body)["workflows"]
    assert [(w["name"], w["schedule"], w["nextDue"]) for w in listed] == [(project.path.name, "daily", "2026-11-21")]
    assert json.loads(get(served + "/api/workflows/0")[1])["steps"] == ["raw/$[DATE].json", "report/$[DATE].csv"]
    assert get(served + "/api/workflows/7")[0] == 404
    assert get(served + "/nothing")[0] == 404
    assert get(served + "/api/log?w=0&path=/etc/passwd")[0] == 403
    request = urllib.request.Request(served + "/api/report", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 501


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                    reason="headless Chromium (apt-get install chromium) not installed")
def test_live_view_follows_a_run_and_never_writes_the_state(served, project, tmp_path):
    run = start(project, "--date", "2026-11-20", "--now", NOW)
    try:
        wait_for(served, "2026-11-20", "running")
        assert interval_cells(tmp_path, served + "/?poll=200#w=0&v=grid") == ["running"]
        (project.path / "go").touch()
        assert run.wait(timeout=30) == 0
    finally:
        stop(run)
    wait_for(served, "2026-11-20", "success")
    assert interval_cells(tmp_path, served + "/?poll=200#w=0&v=grid") == ["success"]

    state = project.path / ".datamake"
    before = files_of(state)
    report = checked(get(served + "/api/report")[1], "report")["workflows"][0]
    log = next(a[10] for a in report["attempts"] if a[1] == 1)
    status, tail = get(served + "/api/log?w=0&path=" + urllib.request.quote(log))
    assert status == 200 and tail.strip() == "report for 2026-11-20"
    assert files_of(state) == before


# The interval's cell in the open page, and a mark left in the page's JavaScript (gone if it reloaded).
SEEN = """(() => { const cell = document.querySelector('#grid .summary .c[data-col="0"]');
  return [cell ? cell.dataset.state : null, window.datamakeTestMark || null]; })()"""


def redrawn_to(page: Page, state: str, timeout: float = 20) -> list:
    deadline = time.monotonic() + timeout
    while True:
        seen = page.evaluate(SEEN)
        if seen[0] == state:
            return seen
        assert time.monotonic() < deadline, f"the open page still shows {seen[0]}, never {state}"
        time.sleep(0.2)


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                    reason="headless Chromium (apt-get install chromium) not installed")
def test_one_open_page_redraws_as_a_run_progresses_without_reloading(served, project, tmp_path):
    with Page(tmp_path, served + "/?poll=200#w=0&v=grid") as page:
        redrawn_to(page, "missing")  # due, never run
        page.evaluate("window.datamakeTestMark = 'kept'")
        run = start(project, "--date", "2026-11-20", "--now", NOW)
        try:
            running = redrawn_to(page, "running")
            (project.path / "go").touch()
            assert run.wait(timeout=30) == 0
        finally:
            stop(run)
        done = redrawn_to(page, "success")
        assert running[1] == done[1] == "kept"  # the same document all along: redrawn, never reloaded
        cells = page.evaluate("[...document.querySelectorAll('#grid .grow[data-index] .c')].map(c => c.dataset.state)")
        assert cells == ["success", "success"]
