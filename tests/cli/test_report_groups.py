"""The report's grid in groups (by the folder of each step's first output, or by tag), drawn by headless Chromium."""
from __future__ import annotations

import os

import pytest

from browser import CHROMIUM, dump_dom, grid_groups, grid_rows
from conftest import Project

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                reason="headless Chromium (apt-get install chromium) not installed")

SOURCES = 20  # 20 raw + 20 clean + 2 report steps: over 40, so groups start closed unless they need a look


def workflow_text() -> str:
    out = ["%schedule daily start:2026-11-20\n"]
    for k in range(SOURCES):
        out.append(f"raw/s{k}_$[DATE].csv, %ingest <-\n  echo {k} > $OUTPUT\n\n")
    for k in range(SOURCES):
        fail = 'if [ "$DATE" = 2026-11-21 ]; then exit 1; fi\n  ' if k == 7 else ""
        out.append(f"clean/s{k}_$[DATE].csv <- raw/s{k}_$[DATE].csv\n  {fail}cat $INPUT > $OUTPUT\n\n")
    out.append("report/sum_$[DATE].txt <- clean/s0_$[DATE].csv\n  cat $INPUT > $OUTPUT\n\n")
    out.append("report/count_$[DATE].txt <- clean/s1_$[DATE].csv\n  wc -l < $INPUT > $OUTPUT\n")
    return "".join(out)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Project:
    """Two days run for real: 2026-11-21's clean/s7 fails, everything else succeeds."""
    project = Project(tmp_path_factory.mktemp("groups"))
    project.workflow(workflow_text())
    assert project.run("--now", "2026-11-22T10:00:00Z", "-j", "2", timeout=300).returncode == 1
    r = project.run("--report", "html", "-o", "report.html", "--now", "2026-11-22T10:00:00Z")
    assert r.returncode == 0, r.stderr
    return project


def grid(project: Project, tmp_path, fragment: str):
    elements = dump_dom(tmp_path, project.path / "report.html", "#w=0&v=grid" + fragment)
    return grid_groups(elements), grid_rows(elements)


def test_steps_group_by_folder_and_only_a_group_needing_a_look_starts_open(report, tmp_path):
    groups, rows = grid(report, tmp_path, "")
    assert [(name, opened, steps) for name, opened, steps, _ in groups] == [
        ("raw/", False, 20), ("clean/", True, 20), ("report/", False, 2)]
    assert [cells for *_, cells in groups] == [["success", "success"], ["success", "failed"], ["success", "success"]]
    assert list(rows) == ["(interval)", *(f"clean/s{k}_$[DATE].csv" for k in range(SOURCES))]
    assert rows["clean/s7_$[DATE].csv"] == ["success", "failed"]


def test_a_group_opens_and_every_group_opens_or_closes(report, tmp_path):
    groups, rows = grid(report, tmp_path, "&t=report%2F")
    assert [(name, opened) for name, opened, *_ in groups] == [("raw/", False), ("clean/", True), ("report/", True)]
    assert list(rows)[-2:] == ["report/sum_$[DATE].txt", "report/count_$[DATE].txt"]
    groups, rows = grid(report, tmp_path, "&ga=all")
    assert all(opened for _, opened, *_ in groups) and len(rows) == 1 + 2 * SOURCES + 2
    groups, rows = grid(report, tmp_path, "&ga=none")
    assert not any(opened for _, opened, *_ in groups) and list(rows) == ["(interval)"]


def test_groups_by_tag_and_none(report, tmp_path):
    groups, _ = grid(report, tmp_path, "&g=tag")
    assert [(name, steps, cells) for name, _, steps, cells in groups] == [
        ("%ingest", 20, ["success", "success"]), ("(no tag)", 22, ["success", "failed"])]
    groups, rows = grid(report, tmp_path, "&g=none")
    assert groups == [] and len(rows) == 1 + 2 * SOURCES + 2


def test_a_filter_opens_the_groups_holding_what_it_found(report, tmp_path):
    groups, rows = grid(report, tmp_path, "&q=s7_")
    assert [(name, opened, steps) for name, opened, steps, _ in groups] == [("raw/", True, 1), ("clean/", True, 1)]
    assert list(rows) == ["(interval)", "raw/s7_$[DATE].csv, %ingest", "clean/s7_$[DATE].csv"]
