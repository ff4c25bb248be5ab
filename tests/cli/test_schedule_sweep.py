"""A cron tick that stays cheap on S3: old done intervals are trusted, the recent ones come from a listing of their
own names, and a full sweep (once a day, or --sweep) finds an old output deleted by hand."""
from __future__ import annotations

import json
from datetime import date, timedelta

from s3.server import bucket, s3_server  # noqa: F401  (fixtures)

WORKFLOW = """
    %schedule daily start:2026-10-01

    s3://$[BUCKET]/out/$[DATE].csv <- [+local]
      [ "$DATE" != 2026-10-10 ] || exit 1
      echo "$DATE" > $OUTPUT
"""
NOW = "--now=2026-11-24T03:00:00Z"
DAYS = [str(date(2026, 10, 1) + timedelta(days=d)) for d in range(54)]  # 2026-10-01 .. 2026-11-23


def _tick(project, bucket, *args):
    """One --once tick: its intervals (key, status) and the requests it made to the bucket."""
    before = len(bucket.server.requests(bucket.name))
    r = project.run("--once", "--json", "--var", f"BUCKET={bucket.name}", *args, env=bucket.env)
    assert r.returncode in (0, 1), r.stderr
    made = bucket.server.requests(bucket.name)[before:]
    return [(i["key"], i["status"]) for i in json.loads(r.stdout)["intervals"]], made


def _listed(requests) -> list[str]:
    return [r.query["prefix"][0] for r in requests if r.method == "GET" and "list-type" in r.query]


def test_a_tick_lists_only_its_recent_names_and_a_sweep_finds_an_old_deleted_output(project, bucket):
    project.workflow(WORKFLOW)
    for day in DAYS:  # a cron job made them all, but for the day that fails
        if day != "2026-10-10":
            bucket.put(f"out/{day}.csv", f"{day}\n")
    got, _ = _tick(project, bucket, NOW)
    assert ("2026-10-10", "failed") in got and sum(s == "adopted" for _k, s in got) == 53

    # The same --now again: the sweep just made is fresh. Old done intervals are trusted and the failed one is
    # left alone (it waits for --rerun failed), so the listing is of the three newest names' stem only.
    got, made = _tick(project, bucket, NOW)
    assert got == []
    assert _listed(made) == ["out/2026-11-2"] and len(made) == 1  # no HEAD, no GET

    bucket.fs.rm(f"{bucket.name}/out/2026-10-05.csv")  # an old output deleted by hand
    got, made = _tick(project, bucket, "--now=2026-11-24T09:00:00Z")
    assert got == [] and _listed(made) == ["out/2026-11-2"]  # not seen until a sweep
    before = len(bucket.server.requests(bucket.name))
    status = json.loads(project.run("--status", "--json", "--var", f"BUCKET={bucket.name}", NOW,
                                    env=bucket.env).stdout)["intervals"]
    assert {i["key"]: i["state"] for i in status}["2026-10-05"] == "missing"  # --status looks for itself,
    made = bucket.server.requests(bucket.name)[before:]
    assert _listed(made) == ["out/2026-1"] and len(made) == 1  # at every done interval, in one listing

    got, made = _tick(project, bucket, "--sweep", "--now=2026-11-24T10:00:00Z")
    assert got == [("2026-10-05", "success")]
    assert _listed(made)[0] == "out/2026-1"  # every recorded day's name: the folder since October
    assert bucket.read("out/2026-10-05.csv") == "2026-10-05\n"
    got, made = _tick(project, bucket, "--now=2026-11-24T11:00:00Z")
    assert got == [] and _listed(made) == ["out/2026-11-2"]  # --sweep swept once; the next tick is cheap again


def test_the_daily_sweep_runs_by_the_clock_without_being_asked(project, bucket):
    project.workflow(WORKFLOW.replace("start:2026-10-01", "start:2026-11-10"))
    for day in DAYS[40:]:
        bucket.put(f"out/{day}.csv", f"{day}\n")
    assert _tick(project, bucket, NOW)[0] == [(d, "adopted") for d in DAYS[40:]]
    bucket.fs.rm(f"{bucket.name}/out/2026-11-12.csv")
    assert _tick(project, bucket, "--now=2026-11-25T02:59:00Z")[0] == [("2026-11-24", "success")]
    got, made = _tick(project, bucket, "--now=2026-11-25T03:01:00Z")  # a day after the last sweep
    assert got == [("2026-11-12", "success")] and _listed(made)[0] == "out/2026-11-"
