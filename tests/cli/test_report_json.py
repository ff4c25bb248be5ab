"""`datamake --report json`: the grid's data read from the state and one listing per output folder."""
from __future__ import annotations

import shutil

from jsonkit import checked

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
