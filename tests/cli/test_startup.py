"""Start-up stays lean: a no-op build imports none of the heavy libraries a build does not need."""
import os
import subprocess
import sys

from conftest import ROOT

HEAVY = ("fsspec", "s3fs", "rich", "lark", "networkx", "distributed", "pygments", "jsonschema", "argcomplete",
         "adlfs", "gcsfs")


def imported_top_level(stderr: str) -> set[str]:
    """Top-level packages named by `python -X importtime`'s report."""
    names = set()
    for line in stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


def test_a_no_op_build_imports_nothing_heavy(project):
    project.workflow("""\
        a <-
          echo a > $OUTPUT
        """)
    assert project.run().returncode == 0  # the first run parses and fills the parse cache
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "datamake", "-q"], cwd=project.path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert imported_top_level(done.stderr).isdisjoint(HEAVY)
