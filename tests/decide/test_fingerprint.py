"""Hash mode: fingerprints behind the stat cache, `content changed`, touch without change, early cutoff."""
from __future__ import annotations

import json
import os
import textwrap

import pytest

from datamake.decide import fingerprint
from datamake.cli.main import main
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def fresh_counts():
    fingerprint.STATS.reset()


def _age(path, seconds_ago: float = 100) -> None:
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns - int(seconds_ago * 1e9)))


def test_a_file_is_read_once_until_its_stat_changes(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    _age(path)  # a file written just now is read every time (the racy-stamp guard below)
    cache = fingerprint.MemoryCache()
    first = fingerprint.fingerprint(str(path), cache=cache)
    assert first.startswith("xxh3:") and fingerprint.STATS.files == 1 and fingerprint.STATS.bytes == 8
    assert fingerprint.fingerprint(str(path), cache=cache) == first and fingerprint.STATS.files == 1
    _age(path)  # touched: read again, same content, same fingerprint
    assert fingerprint.fingerprint(str(path), cache=cache) == first and fingerprint.STATS.files == 2
    path.write_text("a,b\n1,3\n")
    assert fingerprint.fingerprint(str(path), cache=cache) != first


def test_two_caches_share_nothing(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    _age(path)
    first, second = fingerprint.MemoryCache(), fingerprint.MemoryCache()
    fingerprint.fingerprint(str(path), cache=first)
    fingerprint.fingerprint(str(path), cache=second)  # another run in the same process reads for itself
    fingerprint.fingerprint(str(path), cache=first)
    assert fingerprint.STATS.files == 2


def test_directory_fingerprint_follows_names_and_contents(tmp_path):
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "1.txt").write_text("one")
    (tmp_path / "d" / "sub" / "2.txt").write_text("two")
    before = fingerprint.fingerprint(str(tmp_path / "d"))
    os.rename(tmp_path / "d" / "1.txt", tmp_path / "d" / "one.txt")
    renamed = fingerprint.fingerprint(str(tmp_path / "d"))
    assert before.startswith("tree:") and renamed != before
    assert fingerprint.fingerprint(str(tmp_path / "missing")) is None


def test_the_state_store_keeps_fingerprints_between_processes(tmp_path):
    from datamake.store.statedb import StateStore

    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1 << 16))
    _age(path)
    for _ in range(2):  # two "runs", each with its own store handle
        store = StateStore.open(str(tmp_path / ".datamake"))
        fingerprint.fingerprint(str(path), cache=store)
        store.close()
    assert fingerprint.STATS.files == 1


def test_remote_fingerprint_is_the_etag_and_downloads_nothing(bucket):
    bucket.put("in/a.csv", "hello")
    value = fingerprint.fingerprint(bucket.url("in/a.csv"))
    assert value == "etag:5d41402abc4b2a76b9719d911017c592"
    bucket.put("in/a.csv", "hello")  # rewritten, same bytes: same fingerprint
    assert fingerprint.fingerprint(bucket.url("in/a.csv")) == value
    bucket.put("in/a.csv", "hellO")
    assert fingerprint.fingerprint(bucket.url("in/a.csv")) != value
    assert bucket.get_objects() == [] and fingerprint.STATS.files == 0


# ---------------------------------------------------------------- through the command line

WORKFLOW = """\
    sorted.txt <- raw.txt
      sort -u $INPUT > $OUTPUT
    count.txt <- sorted.txt
      wc -l < $INPUT > $OUTPUT
    """


def _run(tmp_path, *args: str, capsys=None) -> dict:
    capsys.readouterr()
    code = main(["-w", str(tmp_path), "--check", "hash", "--json", *args])
    out = capsys.readouterr().out
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1])


@pytest.fixture
def flow(tmp_path):
    (tmp_path / "Drakefile").write_text(textwrap.dedent(WORKFLOW))
    (tmp_path / "raw.txt").write_text("b\na\n")
    return tmp_path


def test_second_run_reads_no_file_contents(flow, capsys):
    assert _run(flow, capsys=capsys)["ran"] == [0, 1]
    for name in ("raw.txt", "sorted.txt", "count.txt"):  # written just now: read again once they are older
        _age(flow / name)
    assert _run(flow, capsys=capsys)["ran"] == []
    fingerprint.STATS.reset()  # each run starts with no memory of its own: only the state db remembers
    assert _run(flow, capsys=capsys)["ran"] == []
    assert (fingerprint.STATS.files, fingerprint.STATS.bytes) == (0, 0)


def test_a_fingerprint_taken_within_the_files_timestamp_tick_is_read_again(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("a,b\n1,2\n")
    cache = fingerprint.MemoryCache()
    first = fingerprint.fingerprint(str(path), cache=cache)
    tick = path.stat().st_mtime_ns
    path.write_text("a,b\n1,3\n")  # same size, and (as on a whole-second filesystem) the same mtime
    os.utime(path, ns=(tick, tick))
    assert fingerprint.fingerprint(str(path), cache=cache) != first and fingerprint.STATS.files == 2


def test_touch_without_change_is_up_to_date_and_a_change_names_the_file(flow, capsys):
    _run(flow, capsys=capsys)
    os.utime(flow / "raw.txt")  # newer than the outputs, same bytes
    assert _run(flow, capsys=capsys)["ran"] == []
    (flow / "raw.txt").write_text("c\na\n")
    capsys.readouterr()
    assert main(["-w", str(flow), "--check", "hash", "-P", "--why"]) == 0
    out = capsys.readouterr().out
    assert "[content changed]" in out and "raw.txt: recorded xxh3:" in out


def test_early_cutoff_skips_dependants_of_byte_identical_outputs(flow, capsys):
    _run(flow, capsys=capsys)
    (flow / "raw.txt").write_text("b\na\na\n")  # sort -u makes the same sorted.txt
    result = _run(flow, capsys=capsys)
    assert result["ran"] == [0] and result["failed"] == []
    assert (flow / "count.txt").read_text().strip() == "2"


def test_step_option_check_hash_overrides_timestamp_default(tmp_path, capsys):
    (tmp_path / "Drakefile").write_text("out.txt <- in.txt [check:hash]\n  cp $INPUT $OUTPUT\n")
    (tmp_path / "in.txt").write_text("x\n")
    assert main(["-w", str(tmp_path)]) == 0
    os.utime(tmp_path / "in.txt", (2e9, 2e9))  # far newer than out.txt
    capsys.readouterr()
    assert main(["-w", str(tmp_path), "-P"]) == 0
    assert "Nothing to do" in capsys.readouterr().out
