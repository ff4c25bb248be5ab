"""Reading the end of a step's log: the graph's details panel and the Dask client both read it the same way."""
from __future__ import annotations

from datamake.build.attempt_logs import read_tail


def test_read_tail_of_missing_log_is_empty(tmp_path):
    assert read_tail(str(tmp_path / "nope.log"), 4096) == ""
    assert read_tail(None, 4096) == ""


def test_read_tail_keeps_the_last_bytes_and_of_those_the_last_lines(tmp_path):
    log = tmp_path / "step.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert read_tail(str(log), 1 << 20) == log.read_text()
    assert read_tail(str(log), 20) == log.read_text()[-20:]
    assert read_tail(str(log), 4096, lines=3).splitlines() == ["line 997", "line 998", "line 999"]
