"""One workflow across local files, S3 (moto), Azure Blob (azurite) and GCS (an emulator).

Decisions take stamps in bulk (one listing per prefix) and never download; hash mode uses
each store's own checksum, so an identical rewrite is no change on any of them.
"""
from __future__ import annotations

import pytest

from azurite.server import azurite, container  # noqa: F401  (fixtures)
from gcs.server import gcs_bucket, gcs_emulator  # noqa: F401  (fixtures)
from jsonkit import checked, counts
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)

MIXED = """\
    gs://$[GCS]/stage/sorted.csv <- raw.csv [+local]
      sort $INPUT > $OUTPUT
    az://$[AZ]/parts/upper.csv, az://$[AZ]/parts/lower.csv <- gs://$[GCS]/stage/sorted.csv [+local]
      tr a-z A-Z < $INPUT > $OUTPUT0
      tr A-Z a-z < $INPUT > $OUTPUT1
    s3://$[S3]/joined.csv <- az://$[AZ]/parts/upper.csv, az://$[AZ]/parts/lower.csv [+local]
      cat $INPUTS > $OUTPUT
    report.txt <- s3://$[S3]/joined.csv, gs://$[GCS]/stage/sorted.csv [+local]
      sort -r $INPUTS > $OUTPUT
    """


class Stores:
    def __init__(self, project, s3, az, gcs):
        self.project, self.s3, self.az, self.gcs = project, s3, az, gcs
        self.env = {**s3.env, **az.env, **gcs.env}
        self.vars = ["--var", f"S3={s3.name}", "--var", f"AZ={az.name}", "--var", f"GCS={gcs.name}"]

    def run(self, *args):
        return self.project.run(*self.vars, *args, env=self.env)

    def build(self, *args) -> dict:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stderr
        return counts(checked(done.stdout, "build"))

    def requests(self) -> tuple[list, list, list]:
        return self.s3.server.requests(self.s3.name), self.az.requests(), self.gcs.requests()


@pytest.fixture
def stores(project, bucket, container, gcs_bucket):
    project.workflow(MIXED)
    project.write("raw.csv", "b,2\na,1\n")
    project.write("datamake.cfg", "[storage]\ngs.token = anon\n")  # the emulator takes no credentials
    return Stores(project, bucket, container, gcs_bucket)


def test_a_mixed_dag_builds_then_decides_without_downloading(stores):
    assert stores.build("--check", "hash") == {"ran": [0, 1, 2, 3], "failed": [], "skipped": []}
    assert stores.project.read("report.txt") == "b,2\nb,2\na,1\na,1\nB,2\nA,1\n"
    assert stores.az.read("parts/lower.csv") == "a,1\nb,2\n"
    before = stores.requests()
    assert stores.build("--check", "hash")["ran"] == []
    s3, az, gcs = (full[len(seen):] for full, seen in zip(stores.requests(), before))
    # Nothing fetched to decide, on any store; no request per object where a listing serves.
    assert [r for r in s3 if r.is_get_object] == [] and len(s3) == 1  # joined.csv: one HEAD
    assert [r.is_download for r in az] == [False, False]  # parts/: one listing (adlfs asks twice)
    assert all("comp=list" in r.path and "prefix=parts" in r.path for r in az)
    assert len(gcs) == 2 and not any("alt=media" in r or "/download/" in r for r in gcs)  # sorted.csv's info


@pytest.mark.parametrize("store", ["s3", "az", "gcs"])
def test_hash_mode_sees_an_identical_rewrite_as_no_change_on_each_store(stores, store):
    stores.build("--check", "hash")
    client, key = {"s3": (stores.s3, "joined.csv"), "az": (stores.az, "parts/upper.csv"),
                   "gcs": (stores.gcs, "stage/sorted.csv")}[store]
    client.put(key, client.read(key))  # same bytes, new modification time (and Azure etag)
    preview = stores.run("--check", "hash", "-P")
    assert preview.stdout == "Nothing to do.\n", preview.stderr
    client.put(key, client.read(key) + "z,9\n")
    preview = stores.run("--check", "hash", "-P", "--why")
    assert "[content changed]" in preview.stdout
