"""`datamake --report json`: the grid's data read from the state and one listing per output folder."""
from __future__ import annotations

import shutil

from jsonkit import checked
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)

OUTPUTS = """\
    %schedule daily start:2026-11-20
    raw/$[DATE].json <-
      echo raw > $OUTPUT

    parts/$[DATE] <- raw/$[DATE].json
      mkdir -p $OUTPUT && cp $INPUT $OUTPUT/part-0
    """


def test_a_success_whose_outputs_are_gone_shows_as_missing(project):
    project.workflow(OUTPUTS)
    assert project.run("--now", "2026-11-24T10:00:00Z").returncode == 0
    (project.path / "raw" / "2026-11-21.json").unlink()
    shutil.rmtree(project.path / "parts" / "2026-11-22")
    (project.path / "parts" / "2026-11-22").mkdir()  # an empty folder is no output
    data = checked(project.run("--report", "json", "--now", "2026-11-24T10:00:00Z").stdout, "report")
    workflow = data["workflows"][0]
    assert [c["key"] for c in workflow["columns"]] == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert [c["state"] for c in workflow["columns"]] == ["success", "missing", "missing", "success"]
    assert dict(zip(workflow["steps"], workflow["cells"])) == {"raw/$[DATE].json": "smss", "parts/$[DATE]": "ssms"}


def test_a_workflow_never_run_shows_its_due_intervals_missing(project):
    project.workflow(OUTPUTS)
    data = checked(project.run("--report", "json", "--now", "2026-11-22T10:00:00Z").stdout, "report")
    assert [(c["key"], c["state"]) for c in data["workflows"][0]["columns"]] == [("2026-11-20", "missing"),
                                                                                ("2026-11-21", "missing")]
    assert data["workflows"][0]["cells"] == ["mm", "mm"]


def test_remote_outputs_are_read_with_one_listing_per_prefix(project, bucket):
    project.workflow("""
        %schedule daily start:2026-11-01
        s3://$[BUCKET]/out/$[DATE].csv <- [+local]
          echo $DATE > $OUTPUT
        """)
    args = ("--var", f"BUCKET={bucket.name}", "--now", "2026-11-09T10:00:00Z")
    assert project.run(*args, env=bucket.env).returncode == 0
    bucket.fs.rm(f"{bucket.name}/out/2026-11-03.csv")
    seen = len(bucket.server.requests(bucket.name))
    data = checked(project.run("--report", "json", *args, env=bucket.env).stdout, "report")
    assert data["workflows"][0]["cells"] == ["ssmsssss"]
    asked = bucket.server.requests(bucket.name)[seen:]
    # No request per object; one listing, of the names the eight days share.
    assert [(r.method, r.query.get("prefix")) for r in asked] == [("GET", ["out/2026-11-0"])]
