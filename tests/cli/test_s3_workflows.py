"""Workflows mixing local files and S3 objects, run by the real command against a moto S3 server."""
from __future__ import annotations

import os
import socket

import pytest

from s3.server import bucket, s3_server  # noqa: F401  (fixtures)
from jsonkit import checked, counts

MIXED = """\
    s3://$[BUCKET]/stage/sorted.csv <- raw.csv [+local]
      sort $INPUT > $OUTPUT
    s3://$[BUCKET]/stage/upper.csv <- s3://$[BUCKET]/stage/sorted.csv [python]
      import os, s3fs
      fs = s3fs.S3FileSystem()
      fs.pipe_file(os.environ["OUTPUT"], fs.cat_file(os.environ["INPUT"]).upper())
    report.txt <- s3://$[BUCKET]/stage/upper.csv [+local]
      cat $INPUT | sort -r > $OUTPUT
    """


def _build(project, bucket, *args):
    result = project.run("--var", f"BUCKET={bucket.name}", "--json", *args, env=bucket.env)
    assert result.returncode in (0, 1), result.stderr
    return result, counts(checked(result.stdout, "build"))


@pytest.fixture
def mixed(project, bucket):
    project.workflow(MIXED)
    project.write("raw.csv", "b,2\na,1\nc,3\n")
    return project


def test_local_to_s3_to_local_builds_then_a_noop_run_downloads_nothing(mixed, bucket):
    result, summary = _build(mixed, bucket, "--check", "hash")
    assert summary == {"ran": [0, 1, 2], "failed": [], "skipped": []}, result.stderr
    assert bucket.read("stage/sorted.csv") == "a,1\nb,2\nc,3\n"
    assert mixed.read("report.txt") == "C,3\nB,2\nA,1\n"
    assert bucket.keys() == ["stage/sorted.csv", "stage/upper.csv"]  # no temporary keys left
    before = len(bucket.get_objects())
    _, summary = _build(mixed, bucket, "--check", "hash")
    assert summary["ran"] == []
    assert bucket.get_objects()[before:] == []


def test_a_changed_object_reruns_exactly_its_dependants(mixed, bucket):
    _build(mixed, bucket, "--check", "hash")
    bucket.put("stage/sorted.csv", "z,9\n")
    preview = mixed.run("--var", f"BUCKET={bucket.name}", "--check", "hash", "-P", "--why", env=bucket.env)
    assert "[content changed]" in preview.stdout and "stage/sorted.csv: recorded etag:" in preview.stdout
    _, summary = _build(mixed, bucket, "--check", "hash")
    assert summary["ran"] == [1, 2]
    assert mixed.read("report.txt") == "Z,9\n"


def test_timestamp_mode_compares_local_mtimes_with_object_times(mixed, bucket):
    os.utime(mixed.path / "raw.csv", (1e9, 1e9))  # S3 keeps whole seconds: keep the input clearly older
    _, summary = _build(mixed, bucket)
    assert summary["ran"] == [0, 1, 2]
    _, summary = _build(mixed, bucket)
    assert summary["ran"] == []
    os.utime(mixed.path / "raw.csv", (3e9, 3e9))
    _, summary = _build(mixed, bucket)
    assert summary["ran"] == [0, 1, 2]


def test_a_failing_step_leaves_no_object_behind(project, bucket):
    project.workflow("""\
        s3://$[BUCKET]/out/direct.csv <- [python]
          import os, s3fs
          s3fs.S3FileSystem().pipe_file(os.environ["OUTPUT"], b"half")
          raise SystemExit(3)
        s3://$[BUCKET]/out/staged.csv <- [+local]
          echo half > $OUTPUT
          false
        """)
    bucket.put("out/staged.csv", "old\n")
    result, summary = _build(project, bucket)
    assert result.returncode == 1 and summary["failed"] == [0, 1]
    assert bucket.keys() == ["out/staged.csv"] and bucket.read("out/staged.csv") == "old\n"
    # a re-run starts clean: the leftover temporary key, if any, never becomes the target
    project.workflow("""\
        s3://$[BUCKET]/out/direct.csv <- [python]
          import os, s3fs
          s3fs.S3FileSystem().pipe_file(os.environ["OUTPUT"], b"whole")
        """)
    result, summary = _build(project, bucket)
    assert summary["ran"] == [0] and bucket.read("out/direct.csv") == "whole"
    assert bucket.keys() == ["out/direct.csv", "out/staged.csv"]


def test_a_prefix_output_counts_by_its_newest_object(project, bucket):
    project.workflow("""\
        s3://$[BUCKET]/parts <- in.txt [+local]
          mkdir -p $OUTPUT
          split -l 1 $INPUT $OUTPUT/part-
        """)
    project.write("in.txt", "1\n2\n3\n")
    os.utime(project.path / "in.txt", (1e9, 1e9))
    _, summary = _build(project, bucket)
    assert summary["ran"] == [0]
    assert bucket.keys() == ["parts/part-aa", "parts/part-ab", "parts/part-ac"]
    _, summary = _build(project, bucket)
    assert summary["ran"] == []


def test_endpoint_and_credentials_from_options_never_show(project, bucket):
    project.workflow("""\
        copy.txt <- s3://$[BUCKET]/in.txt [+local]
          cat $INPUT > $OUTPUT
        """)
    bucket.put("in.txt", "hi\n")
    project.write("datamake.cfg", f"[storage]\ns3.endpoint_url = {bucket.server.endpoint}\n")
    env = {**bucket.env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9", "AWS_SECRET_ACCESS_KEY": "",
           "AWS_ACCESS_KEY_ID": ""}
    secret = "s3cr3t-value-never-printed"
    args = ["--var", f"BUCKET={bucket.name}", "--debug", "--why",
            "--storage-option", "s3.key=testing", "--storage-option", f"s3.secret={secret}"]
    result = project.run(*args, env=env)
    assert result.returncode == 0, result.stderr
    assert project.read("copy.txt") == "hi\n"
    logs = "".join(p.read_text() for p in (project.path / ".datamake" / "logs").iterdir())
    db = (project.path / ".datamake" / "state.db").read_bytes()
    assert secret not in result.stdout + result.stderr + logs and secret.encode() not in db


def test_an_unreachable_namenode_is_one_error_line(project):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    project.workflow("out.txt <- hdfs://127.0.0.1/data/in.txt\n  cat $INPUT > $OUTPUT\n")
    result = project.run("--storage-option", f"hdfs.port={port}")
    assert result.returncode == 2
    assert result.stderr.startswith("datamake: error: cannot reach hdfs://127.0.0.1/data/in.txt: ConnectionError")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_deciding_many_objects_under_one_prefix_takes_one_listing(project, bucket):
    steps = "".join(f"out/{i}.txt <- s3://$[BUCKET]/in/{i}.csv [+local]\n  cat $INPUT > $OUTPUT\n" for i in range(12))
    project.workflow(steps)
    for i in range(12):
        bucket.put(f"in/{i}.csv", f"{i}\n")
    _, summary = _build(project, bucket, "--check", "hash")
    assert len(summary["ran"]) == 12
    before = len(bucket.server.requests(bucket.name))
    _, summary = _build(project, bucket, "--check", "hash")
    made = bucket.server.requests(bucket.name)[before:]
    assert summary["ran"] == [] and [(r.method, "list-type" in r.query) for r in made] == [("GET", True)]


def test_hdfs_and_webhdfs_names_stay_urls_whatever_the_base(project):
    project.workflow("""\
        hdfs://nn:8020/out/a.csv <- webhdfs://nn:9870/in/a.csv, local.csv
          cp $INPUT $OUTPUT
        """)
    result = project.run("-p", "--json", "--base", "/elsewhere")
    step = checked(result.stdout, "print")["steps"][0]
    assert step["outputs"] == ["hdfs://nn:8020/out/a.csv"]
    assert step["inputs"] == ["webhdfs://nn:9870/in/a.csv", "/elsewhere/local.csv"]
