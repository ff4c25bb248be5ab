"""[+depends-on-past]: a step of interval N runs only once the same step of interval N-1 succeeded."""
from __future__ import annotations

from jsonkit import checked

NOW = "--now=2026-11-24T03:00:00Z"

CHAIN = """
    %schedule daily start:2026-11-21

    raw/$[DATE].txt <-
      echo "$DATE" > $OUTPUT

    balance/$[DATE].txt <- raw/$[DATE].txt [+depends-on-past]
      if [ -e broken-$DATE ]; then echo "books do not balance" >&2; exit 1; fi
      echo "$DATE" >> order
      cp $INPUT $OUTPUT
"""


def statuses(project) -> dict:
    out = project.run("--status", "--json", NOW).stdout
    return {i["key"]: i for i in checked(out, "status")["intervals"]}


def test_after_a_failure_the_next_interval_waits_and_status_says_why(project):
    project.workflow(CHAIN)
    project.write("broken-2026-11-22")
    r = project.run("--once", "--json", NOW)
    assert r.returncode == 1
    assert {i["key"]: i["status"] for i in checked(r.stdout, "schedule")["intervals"]} == {
        "2026-11-21": "success", "2026-11-22": "failed", "2026-11-23": "waiting"}
    assert project.read("order").split() == ["2026-11-21"]
    assert project.exists("raw/2026-11-23.txt")  # steps that do not depend on the past go on
    waiting = statuses(project)["2026-11-23"]
    assert waiting["state"] == "waiting"
    assert waiting["waiting_for"] == ["balance/$[DATE].txt of 2026-11-22 (failed)"]
    assert waiting["wait_until"] is None
    table = project.run("--status", NOW).stdout
    assert "2026-11-23: waiting for balance/$[DATE].txt of 2026-11-22 (failed)" in table

    (project.path / "broken-2026-11-22").unlink()
    # A failed interval stays failed (it alerted once) until asked for again; then the next tick goes on.
    assert project.run("--once", NOW).stdout == "" and project.read("order").split() == ["2026-11-21"]
    assert project.run("--once", "--rerun", "failed", NOW).returncode == 0
    r = project.run("--once", "--json", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("order").split() == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert statuses(project)["2026-11-23"]["state"] == "success"


def test_intervals_built_at_once_still_go_in_order(project):
    project.workflow(CHAIN.replace("cp $INPUT $OUTPUT", "sleep 0.3; cp $INPUT $OUTPUT"))
    r = project.run("--once", "--max-active", "3", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("order").split() == ["2026-11-21", "2026-11-22", "2026-11-23"]


def test_the_first_interval_does_not_wait_for_one_before_the_start(project):
    project.workflow(CHAIN)
    r = project.run("--date", "2026-11-21", NOW)
    assert r.returncode == 0, r.stderr
    assert project.read("order").split() == ["2026-11-21"]
