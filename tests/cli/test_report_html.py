"""`datamake --report html`: every view of the page, drawn by headless Chromium, for a history made by real runs."""
from __future__ import annotations

import os

import pytest

from browser import CHROMIUM, dump_dom, grid_rows
from conftest import Project
from jsonkit import checked

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                reason="headless Chromium (apt-get install chromium) not installed")

DAILY = """\
    %schedule daily start:2026-11-20
    raw/$[DATE].json <-
      echo raw > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json, landing/$[DATE].csv [retries:1 retry-delay:0.1s]
      echo "try for $DATE"
      if [ "$DATE" = 2026-11-21 ]; then echo "no data for $DATE" >&2; exit 1; fi
      if [ "$DATE" = 2026-11-22 ] && [ ! -e tried-$DATE ]; then touch tried-$DATE; exit 1; fi
      echo "worked for $DATE"
      cat $INPUT0 > $OUTPUT
    """

PLAIN = """\
    out.txt <-
      echo hi > $OUTPUT
    """


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> Project:
    """Three runs a day apart (time travel with --now): 2026-11-21 fails on every try, 2026-11-22 succeeds on
    its second try, 2026-11-23 on its first, 2026-11-24 waits for its landing file; and a second, plain
    workflow in the same directory."""
    project = Project(tmp_path_factory.mktemp("history"))
    project.workflow(DAILY)
    project.workflow(PLAIN, name="other.drake")
    for day in range(20, 24):
        project.write(f"landing/2026-11-{day}.csv", "data\n")
    assert project.run("--now", "2026-11-23T10:00:00Z").returncode == 1
    # 2026-11-21 stays failed until asked for again, then fails again; 2026-11-23 comes next
    assert project.run("--now", "2026-11-24T10:00:00Z", "--rerun", "failed").returncode == 1
    assert project.run("--now", "2026-11-24T10:00:00Z").returncode == 0
    assert project.run("--now", "2026-11-25T10:00:00Z").returncode == 0  # 2026-11-24 waits for its landing file
    assert project.run("-w", "other.drake").returncode == 0
    r = project.run("--report", "html", "-o", "report.html", "-w", "Drakefile", "-w", "other.drake",
                    "--now", "2026-11-25T10:00:00Z")
    assert r.returncode == 0, r.stderr
    return project


def elements_of(project: Project, tmp_path, fragment: str):
    return dump_dom(tmp_path, project.path / "report.html", fragment)


def test_workflow_list_shows_both_workflows(history, tmp_path):
    elements = elements_of(history, tmp_path, "")
    rows = [a["data-name"] for tag, a, _ in elements if tag == "tr" and a.get("class") == "workflow"]
    assert rows == [history.path.name, "other.drake"]
    recent = [a["data-state"] for tag, a, _ in elements if tag == "span" and a.get("class") == "sq"]
    assert recent == ["success", "failed", "success", "success", "waiting", "success"]  # five intervals, one run
    failures = [text for tag, a, text in elements if tag == "td" and a.get("class") == "failures"]
    assert failures == ["1", "0"]


def test_grid_has_a_cell_per_interval_and_step_with_its_state(history, tmp_path):
    rows = grid_rows(elements_of(history, tmp_path, "#w=0&v=grid"))
    assert rows == {"(interval)": ["success", "failed", "success", "success", "waiting"],
                    "raw/$[DATE].json": ["success"] * 5,
                    "report/$[DATE].csv": ["success", "failed", "success", "success", "waiting"]}
    only_failed = grid_rows(elements_of(history, tmp_path, "#w=0&v=grid&st=failed"))
    assert list(only_failed) == ["(interval)", "report/$[DATE].csv"]


def test_graph_for_a_chosen_interval(history, tmp_path):
    elements = elements_of(history, tmp_path, "#w=0&v=graph&i=2026-11-21")
    steps = {a["data-step"]: a["data-state"] for tag, a, _ in elements if tag == "g" and a.get("data-kind") == "step"}
    assert steps == {"raw/$[DATE].json": "success", "report/$[DATE].csv": "failed"}
    files = [a["data-id"] for tag, a, _ in elements if tag == "g" and a.get("data-kind") == "file"]
    assert len(files) == 3


def test_gantt_of_an_older_run_and_of_an_interval(history, tmp_path):
    data = checked(history.run("--report", "json", "--now", "2026-11-25T10:00:00Z").stdout, "report")
    attempts = data["workflows"][0]["attempts"]
    first_run = min(a[7] for a in attempts)
    elements = elements_of(history, tmp_path, f"#w=0&v=gantt&r={first_run}")
    bars = [(a["data-step"], a["data-outcome"]) for tag, a, _ in elements if tag == "rect" and a.get("class") == "bar"]
    assert bars == [("raw/$[DATE].json", "success"), ("report/$[DATE].csv", "success")]  # 2026-11-20's run
    elements = elements_of(history, tmp_path, "#w=0&v=gantt&i=2026-11-22")
    bars = [(a["data-step"], a["data-attempt"], a["data-outcome"]) for tag, a, _ in elements
            if tag == "rect" and a.get("class") == "bar"]
    assert bars == [("raw/$[DATE].json", "1", "success"), ("report/$[DATE].csv", "1", "failed"),
                    ("report/$[DATE].csv", "2", "success")]


def test_duration_and_landing_charts_have_a_point_per_interval(history, tmp_path):
    durations = elements_of(history, tmp_path, "#w=0&v=durations&s=1")
    points = [a["data-col"] for tag, a, _ in durations if tag == "circle" and "point" in a.get("class", "")]
    assert points == ["0", "1", "2", "3"]
    landing = elements_of(history, tmp_path, "#w=0&v=landing")
    points = [a["data-col"] for tag, a, _ in landing if tag == "circle" and "point" in a.get("class", "")]
    assert points == ["0", "2", "3"]  # 2026-11-21 never landed, 2026-11-24 waits


def test_attempts_show_each_try_with_its_log_tail(history, tmp_path):
    elements = elements_of(history, tmp_path, "#w=0&v=attempts&s=1&i=2026-11-22")
    panels = [(a["data-attempt"], a["data-outcome"]) for tag, a, _ in elements
              if tag == "div" and "attempt" in a.get("class", "").split()]
    assert panels == [("1", "failed"), ("2", "success")]
    tails = [text for tag, a, text in elements if tag == "pre" and a.get("class") == "tail"]
    assert tails[1].splitlines() == ["try for 2026-11-22", "worked for 2026-11-22"]
    paths = [text for tag, a, text in elements if tag == "div" and "log-path" in a.get("class", "")]
    assert paths[1].endswith(".2.log") and os.path.exists(paths[1])


def test_step_details_show_command_options_and_place(history, tmp_path):
    elements = elements_of(history, tmp_path, "#w=0&v=step&s=1")
    command = next(text for tag, a, text in elements if tag == "pre" and a.get("class") == "command")
    assert command.startswith('echo "try for $DATE"')
    items = [text for tag, a, text in elements if tag == "li"]
    assert {"retries: 1", "raw/$[DATE].json", "report/$[DATE].csv"} <= set(items)
    where = next(text for tag, a, text in elements if a.get("class") == "location")
    assert where == "Drakefile:5"


def test_a_plain_workflow_shows_its_runs(history, tmp_path):
    rows = grid_rows(elements_of(history, tmp_path, "#w=1&v=grid"))
    assert rows == {"(interval)": ["success"], "out.txt": ["success"]}


def test_report_of_a_directory_takes_every_workflow_in_it(history):
    data = checked(history.run("--report", "json", "-w", ".", "--now", "2026-11-25T10:00:00Z").stdout, "report")
    assert list(data)[:2] == ["schema", "generated"] and data["schema"] == 1
    assert [w["name"] for w in data["workflows"]] == [history.path.name, "other.drake"]
    assert data["workflows"][0]["kind"] == "intervals" and data["workflows"][1]["kind"] == "runs"


SLA = """\
    %schedule daily start:2026-11-22 sla:11h
    out/$[DATE].txt <-
      [ "$DATE" != 2026-11-22 ] || exit 1
      echo ok > $OUTPUT
    """


def test_an_interval_past_its_sla_shows_so_until_done(project, tmp_path):
    project.workflow(SLA)
    for now in ["2026-11-23T05:00:00Z", "2026-11-23T12:00:00Z", "2026-11-23T13:00:00Z", "2026-11-24T12:00:00Z"]:
        project.run("--once", f"--now={now}")
    # 2026-11-22 failed at 05:00 and missed its SLA at 11:00; 2026-11-23 was built in time.
    data = checked(project.run("--report", "json", "--now", "2026-11-24T12:00:00Z").stdout, "report")
    assert [(c["key"], c["state"], c["sla"]) for c in data["workflows"][0]["columns"]] == [
        ("2026-11-22", "failed", True), ("2026-11-23", "success", False)]
    assert project.run("--report", "html", "-o", "report.html", "--now", "2026-11-24T12:00:00Z").returncode == 0
    elements = dump_dom(tmp_path, project.path / "report.html", "#w=0&v=grid")
    assert grid_rows(elements) == {"(interval)": ["sla missed", "success"], "out/$[DATE].txt": ["failed", "success"]}
    marked = [a["data-col"] for tag, a, _ in elements if tag == "div" and a.get("data-sla") == "missed"]
    assert marked == ["0"]
