"""An S3 store that goes away mid-step, or a bucket that does not exist: the step fails by name, the rest goes on."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
import uuid

import pytest

from conftest import ROOT
from faultkit import one_error_line
from s3.server import CREDENTIALS, S3Server, bucket, s3_server  # noqa: F401  (fixtures)

# Bounded: botocore would otherwise retry a refused connection for seconds.
QUICK = {"AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard"}

VANISHING = """\
    s3://$[BUCKET]/out.txt <-
      touch started
      while [ ! -e go ]; do sleep 0.05; done
      exit 1
    local.txt <-
      echo partial > $OUTPUT
      while [ ! -e go ]; do sleep 0.05; done
    """


@pytest.fixture
def own_server():
    """A moto server of this test's own, to be stopped mid-step (the session's one serves the others)."""
    server = S3Server().start()
    yield server
    if server.thread.is_alive():
        server.stop()


def _wait_for(path, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.05)


def test_a_store_that_vanishes_mid_step_fails_that_step_and_closes_the_run(project, own_server):
    import s3fs

    name = f"dm-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=own_server.endpoint, key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                      secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True).mkdir(name)
    project.workflow(VANISHING)
    env = {**os.environ, **CREDENTIALS, **QUICK, "AWS_ENDPOINT_URL": own_server.endpoint,
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "datamake", "-j", "2", "--var", f"BUCKET={name}", "--json"],
                            cwd=project.path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(project.path / "started")
        own_server.stop()
        project.write("go")
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err
    line = one_error_line(err)
    assert line == f"datamake: error: step failed: s3://{name}/out.txt (exit 1)", err
    assert "cannot remove temporary output" in err  # said, not fatal
    assert json.loads(out.splitlines()[-1])["ran"] == [1]  # the independent local step finished
    assert project.read("local.txt") == "partial\n"
    assert not [n for n in os.listdir(project.path) if "datamake-tmp" in n]
    db = sqlite3.connect(project.path / ".datamake" / "state.db")
    runs = [row[0] for row in db.execute("SELECT status FROM runs")]
    attempts = sorted(db.execute("SELECT label, outcome FROM attempts").fetchall())
    db.close()
    assert runs == ["failed"]
    assert attempts == [("local.txt", "success"), (f"s3://{name}/out.txt", "failed")]


def test_an_upload_to_a_missing_bucket_fails_that_step_only(project, bucket):
    project.workflow("""\
        s3://$[BUCKET]-missing/out.txt <- [+local]
          echo x > $OUTPUT
        local.txt <-
          echo y > $OUTPUT
        """)
    done = project.run("--var", f"BUCKET={bucket.name}", "--json", env={**bucket.env, **QUICK}, timeout=30)
    assert done.returncode == 1, done.stderr
    line = one_error_line(done.stderr)
    assert line.startswith(f"datamake: error: step failed: s3://{bucket.name}-missing/out.txt ("), line
    assert json.loads(done.stdout.splitlines()[-1])["ran"] == [1]
    assert project.read("local.txt") == "y\n"
