"""Reporters on captured consoles: plain Drake-like lines, rich progress, one JSON line, quiet."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from rich.console import Console

from datamake.errors import SourceLocation
from datamake.build.executors.base import JobResult
from datamake.model import Options, Step, Target
from datamake.views.reporters import JsonReporter, PlainReporter, QuietReporter, RichReporter, make_reporter
from datamake.decide.staleness import Reason
from jsonkit import checked, counts


def make_step(index: int, output: str) -> Step:
    return Step(index=index, outputs=(Target(f"/p/{output}", output),), inputs=(), output_tags=(), input_tags=(),
                options=Options(), body_parts=("true",), vars={}, workdir="/p", loc=SourceLocation("/p/D", 1, 1))


@dataclass
class Outcome:
    ran: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    errors: dict[int, str] = field(default_factory=dict)


A, B, C = make_step(0, "a.csv"), make_step(3, "out/report.csv"), make_step(4, "c.csv")
MISSING = Reason("missing output", "a.csv does not exist")
OK = JobResult(key=0, returncode=0, started=100.0, finished=100.03)
FAIL = JobResult(key=3, returncode=1, started=100.0, finished=101.0, error="exit 1", log_tail="line 1\nboom")


def captured(terminal: bool = False) -> Console:
    return Console(file=io.StringIO(), width=80, force_terminal=terminal)


def session(reporter) -> None:
    """A run: a.csv succeeds, out/report.csv fails, c.csv is skipped because of it."""
    reporter.plan([(A, MISSING), (B, Reason("timestamped")), (C, Reason("projected"))])
    reporter.step_started(A, MISSING, 0)
    reporter.step_output(A, "hello [bold]not markup[/bold]")
    reporter.step_finished(A, OK, "success")
    reporter.step_started(B, Reason("timestamped"), 0)
    reporter.step_finished(B, FAIL, "retry")
    reporter.step_started(B, Reason("timestamped"), 1)
    reporter.step_finished(B, FAIL, "failed")
    reporter.step_skipped(C, "upstream failed")
    reporter.finished(Outcome(ran=[0], failed=[3], skipped=[4]))
    reporter.close()


def test_make_reporter_picks_one_renderer_per_audience():
    con = captured()
    assert type(make_reporter(terminal=True, quiet=True, json=True, jobs=1, console=con)) is JsonReporter
    assert type(make_reporter(terminal=True, quiet=True, json=False, jobs=1, console=con)) is QuietReporter
    assert type(make_reporter(terminal=True, quiet=False, json=False, jobs=1, console=con)) is RichReporter
    assert type(make_reporter(terminal=False, quiet=False, json=False, jobs=1, console=con)) is PlainReporter


def test_plain_lines_follow_drake(capsys):
    con = captured()
    session(make_reporter(terminal=False, quiet=False, json=False, jobs=1, console=con))
    assert con.file.getvalue().splitlines() == [
        "--- 0. Running (missing output): a.csv",
        "hello [bold]not markup[/bold]",
        "--- 0: a.csv -> done in 0.03s",
        "--- 3. Running (timestamped): out/report.csv",
        "--- 3: out/report.csv -> FAILED (exit 1), will retry",
        "--- 3. Running (timestamped, attempt 2): out/report.csv",
        "--- 3: out/report.csv -> FAILED (exit 1)",
        "--- 4. Skipped (upstream failed): c.csv",
        "FAILED (1 step run, 1 failed: 3. out/report.csv).",
    ]
    assert capsys.readouterr().err == ""


def test_plain_prefixes_output_with_the_step_when_jobs_overlap_and_sums_up():
    con = captured()
    reporter = make_reporter(terminal=False, quiet=False, json=False, jobs=4, console=con)
    reporter.step_started(A, MISSING, 0)
    reporter.step_output(A, "x")
    reporter.finished(Outcome(ran=[0, 3]))
    assert con.file.getvalue().splitlines()[1:] == ["[a.csv] x", "Done (2 steps run)."]


def test_plain_summaries_for_nothing_to_do_and_builder_errors():
    con = captured()
    reporter = make_reporter(terminal=False, quiet=False, json=False, jobs=1, console=con)
    reporter.finished(Outcome())
    reporter.step_finished(B, JobResult(key=3, returncode=0, started=1.0, finished=2.0), "failed")
    reporter.finished(Outcome(failed=[3], errors={3: "step did not create its output: out/report.csv"}))
    assert con.file.getvalue().splitlines() == [
        "Nothing to do.",
        "--- 3: out/report.csv -> FAILED",
        "FAILED (0 steps run, 1 failed: 3. out/report.csv (step did not create its output: out/report.csv)).",
    ]


def test_plain_timeouts_and_interruptions():
    con = captured()
    reporter = make_reporter(terminal=False, quiet=False, json=False, jobs=1, console=con)
    reporter.step_finished(B, JobResult(3, -15, 1.0, 6.0, timed_out=True, error="timed out after 5s"), "failed")
    reporter.step_finished(B, JobResult(3, -15, 1.0, 2.0, interrupted=True, error="interrupted"), "failed")
    assert con.file.getvalue().splitlines() == [
        "--- 3: out/report.csv -> FAILED (timed out after 5s)",
        "--- 3: out/report.csv -> interrupted",
    ]


def test_why_prints_every_decision_with_its_evidence():
    con = captured()
    reporter = make_reporter(terminal=False, quiet=False, json=False, jobs=1, console=con, why=True)
    reporter.plan([(A, MISSING), (C, Reason("up to date", "c.csv is newer than its inputs"))])
    assert con.file.getvalue().splitlines() == [
        "--- 0. a.csv: missing output: a.csv does not exist",
        "--- 4. c.csv: up to date: c.csv is newer than its inputs",
    ]


def test_warnings_go_to_stderr_for_every_renderer(capsys):
    for terminal, quiet, as_json in ((False, False, False), (True, False, False), (False, True, False),
                                     (False, False, True)):
        con = captured(terminal)
        reporter = make_reporter(terminal=terminal, quiet=quiet, json=as_json, jobs=1, console=con)
        reporter.warning("state database was unreadable")
        reporter.close()
        assert con.file.getvalue() == ""
        assert capsys.readouterr().err == "datamake: warning: state database was unreadable\n"


def test_json_prints_exactly_one_line_at_the_end(capsys):
    con = captured()
    session(make_reporter(terminal=False, quiet=False, json=True, jobs=2, console=con))
    assert con.file.getvalue().count("\n") == 1
    assert counts(checked(con.file.getvalue(), "build")) == {"ran": [0], "failed": [3], "skipped": [4]}
    assert capsys.readouterr() == ("", "")


def test_quiet_shows_only_failures_with_their_output_on_stderr(capsys):
    con = captured()
    session(make_reporter(terminal=False, quiet=True, json=False, jobs=1, console=con))
    assert con.file.getvalue() == ""
    assert capsys.readouterr().err.splitlines() == [
        "--- 3: out/report.csv -> FAILED (exit 1), will retry",
        "--- 3: out/report.csv -> FAILED (exit 1)",
        "    line 1",
        "    boom",
    ]


def test_rich_shows_a_progress_bar_and_prints_lines_above_it():
    con = captured(terminal=True)
    session(make_reporter(terminal=True, quiet=False, json=False, jobs=2, console=con))
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", con.file.getvalue())
    assert "[a.csv] hello [bold]not markup[/bold]" in text  # output is never read as markup
    assert "--- 3: out/report.csv -> FAILED (exit 1)" in text
    assert "0/3" in text and "3/3" in text  # done/total: a.csv, report.csv and skipped c.csv
    assert "2/3" not in text.split("--- 0: a.csv -> done in 0.03s")[0]
    assert text.rstrip().endswith("FAILED (1 step run, 1 failed: 3. out/report.csv).")


def test_rich_progress_stops_on_close_without_finished():
    con = captured(terminal=True)
    reporter = make_reporter(terminal=True, quiet=False, json=False, jobs=1, console=con)
    reporter.step_started(A, MISSING, 0)
    reporter.close()
    assert not reporter.progress.live.is_started
