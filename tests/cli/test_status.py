"""`datamake --status`: intervals by step, like Airflow's grid view, as a table and as JSON."""
from __future__ import annotations

from jsonkit import checked

NOW = "--now=2026-11-24T10:00:00Z"


def test_status_shows_each_interval_by_step(project):
    project.workflow("""
        %schedule daily start:2026-11-20
        raw/$[DATE].json <-
          echo raw > $OUTPUT

        report/$[DATE].csv <- raw/$[DATE].json [retries:1 retry-delay:0.1s]
          if [ "$DATE" = 2026-11-21 ]; then exit 1; fi
          cat $INPUT > $OUTPUT
    """)
    assert project.run("--from", "2026-11-20", "--to", "2026-11-21", NOW).returncode == 1
    r = project.run("--status", NOW, env={"COLUMNS": "120"})
    assert r.returncode == 0, r.stderr
    rows = [line for line in r.stdout.splitlines() if line.startswith("│")]
    cells = [[c.strip() for c in row.strip("│").split("│")] for row in rows]
    assert cells == [  # the failed interval first, then the others oldest first
        ["2026-11-21", "failed", "2", "success", "failed"],
        ["2026-11-20", "success", "1", "success", "success"],
        ["2026-11-22", "missing", "0", "missing", "missing"],
        ["2026-11-23", "missing", "0", "missing", "missing"],
    ]
    assert "raw/$[DATE].json" in r.stdout and "report/$[DATE].csv" in r.stdout
    assert "2026-11-21: report/2026-11-21.csv: exit 1" in r.stdout

    data = checked(project.run("--status", "--json", NOW).stdout, "status")
    assert data["steps"] == ["raw/$[DATE].json", "report/$[DATE].csv"]
    assert [(i["key"], i["state"], i["steps"]) for i in data["intervals"]][:2] == [
        ("2026-11-20", "success", {"raw/$[DATE].json": "success", "report/$[DATE].csv": "success"}),
        ("2026-11-21", "failed", {"raw/$[DATE].json": "success", "report/$[DATE].csv": "failed"}),
    ]


def test_status_without_any_record_or_schedule(project):
    project.workflow("""
        out.txt <-
          echo hi > $OUTPUT
    """)
    r = project.run("--status")
    assert r.returncode == 0 and r.stdout.strip() == "no intervals recorded or due"


BRACKETS = """
    %schedule daily start:2026-11-01
    raw/$[DATE].json <-
      echo raw > $OUTPUT

    'b[b]/[/x]'$[DATE].csv <- raw/$[DATE].json
      if [ "$DATE" = 2026-11-21 ]; then exit 1; fi
      cat $INPUT > $OUTPUT

    report/$[DATE].csv <- raw/$[DATE].json
      cat $INPUT > $OUTPUT
"""


def test_names_with_brackets_print_literally(project):
    project.workflow(BRACKETS)
    assert project.run("--from", "2026-11-20", "--to", "2026-11-21", NOW).returncode == 1
    r = project.run("--status", NOW, env={"COLUMNS": "160"})
    assert r.returncode == 0, r.stderr
    assert "b[b]/[/x]$[DATE].csv" in r.stdout
    assert "2026-11-21: b[b]/[/x]2026-11-21.csv: exit 1" in r.stdout


def test_status_fits_the_terminal_failed_first_quiet_runs_folded(project):
    project.workflow(BRACKETS)
    assert project.run("--from", "2026-11-01", "--to", "2026-11-22", NOW).returncode == 1
    r = project.run("--status", NOW, env={"COLUMNS": "80"})
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0] == "23 intervals (21 success, 1 failed, 1 missing), 3 steps"
    rows = [[c.strip() for c in line.strip("│").split("│")] for line in lines if line.startswith("│")]
    assert rows == [
        ["2026-11-21", "failed", "1", "✗ b[b]/[/x]$[DATE].csv  ✓ 2"],
        ["2026-11-01 … 2026-11-20 (20)", "success", "20", "✓ 3"],
        ["2026-11-22", "success", "1", "✓ 3"],
        ["2026-11-23", "missing", "0", "· 3"],
    ]


def test_a_year_of_intervals_folds_into_a_few_lines(project):
    project.workflow(BRACKETS.replace("2026-11-01", "2025-11-01"))
    r = project.run("--status", NOW, env={"COLUMNS": "100"})
    assert r.returncode == 0, r.stderr
    assert len(r.stdout.splitlines()) < 10
    assert "2025-11-01 … 2026-11-23 (388)" in r.stdout
    data = checked(project.run("--status", "--json", NOW).stdout, "status")
    assert len(data["intervals"]) == 388  # --json is never folded


def test_status_window_and_step_filter(project):
    project.workflow(BRACKETS)
    assert project.run("--from", "2026-11-20", "--to", "2026-11-21", NOW).returncode == 1
    data = checked(project.run("--status", "--json", "--from", "2026-11-19", "--to", "2026-11-21",
                                "report", NOW).stdout, "status")
    assert data["steps"] == ["report/$[DATE].csv"]
    assert [(i["key"], i["state"], i["steps"]) for i in data["intervals"]] == [
        ("2026-11-19", "missing", {"report/$[DATE].csv": "missing"}),
        ("2026-11-20", "success", {"report/$[DATE].csv": "success"}),
        ("2026-11-21", "failed", {"report/$[DATE].csv": "success"}),
    ]
    glob = checked(project.run("--status", "--json", "b?b*", NOW).stdout, "status")
    assert glob["steps"] == ["b[b]/[/x]$[DATE].csv"]
    r = project.run("--status", "nothing-like-this", NOW)
    assert r.returncode == 2 and r.stderr.startswith("datamake: error: no step matches nothing-like-this")
