"""examples/dask, the S3-backed workflow, run on a Dask LocalCluster against a moto S3 server."""
from __future__ import annotations

import json
from pathlib import Path

from s3.server import bucket, s3_server  # noqa: F401  (fixtures)
from jsonkit import checked, counts

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "dask"


def test_the_dask_example_builds_its_s3_objects_then_has_nothing_to_do(project, bucket):
    args = ("-w", str(EXAMPLE), "--state-dir", str(project.path / "state"), "--executor", "dask", "-j", "2",
            "--var", f"BUCKET={bucket.name}", "--json")
    first = project.run(*args, env=bucket.env)
    assert first.returncode == 0, first.stderr
    assert counts(checked(first.stdout, "build")) == {"ran": [0, 1, 2, 3], "failed": [], "skipped": []}
    assert json.loads(bucket.read("dask-example/summary.json")) == {"cube": 25502500, "square": 338350}
    assert bucket.keys() == [f"dask-example/{n}" for n in ("cubes.csv", "numbers.csv", "squares.csv", "summary.json")]
    again = project.run(*args, env=bucket.env)
    assert counts(checked(again.stdout, "build")) == {"ran": [], "failed": [], "skipped": []}
