"""The Builder, driven through build() with a real local executor on real files: order, records,
failures and what they skip, retries, re-checks of projected steps, --fail-fast."""
from __future__ import annotations

import textwrap

import pytest

from datamake.api import load
from datamake.build.builder import build
from datamake.build.executors.local import LocalExecutor
from datamake.store.statedb import StateStore
from datamake.views.reporters import Reporter


class Recorder(Reporter):
    """Keeps the Builder's events in order: (event, step index, detail)."""

    def __init__(self):
        super().__init__(jobs=1)
        self.events: list[tuple[str, int, str]] = []
        self.warnings: list[str] = []

    def step_started(self, step, reason, attempt):
        self.events.append(("started", step.index, str(attempt)))

    def step_output(self, step, line, stderr=False):
        self.events.append(("output", step.index, line))

    def step_finished(self, step, result, outcome):
        self.events.append(("finished", step.index, outcome))

    def step_skipped(self, step, why):
        self.events.append(("skipped", step.index, getattr(why, "label", why)))

    def warning(self, text):
        self.warnings.append(text)


@pytest.fixture
def project(tmp_path):
    def write(text: str, **files: str):
        (tmp_path / "Drakefile").write_text(textwrap.dedent(text))
        for name, content in files.items():
            (tmp_path / name).write_text(content)
        return load(str(tmp_path))
    write.path = tmp_path
    return write


def run(workflow, targets=(), jobs=1, **options):
    recorder = Recorder()
    executor = LocalExecutor(jobs, on_output=lambda job, line, stderr=False: recorder.step_output(
        workflow.steps[job.key], line, stderr))
    try:
        result = build(workflow, list(targets), jobs=jobs, executor=executor, reporter=recorder, **options)
    finally:
        executor.close()
    return result, recorder


CHAIN = """\
    upper.txt <- in.txt
      tr a-z A-Z < $INPUT > $OUTPUT
    count.txt <- upper.txt
      wc -c < $INPUT > $OUTPUT
    """


def test_steps_run_in_order_their_outputs_appear_and_a_second_build_runs_nothing(project):
    flow = project(CHAIN, **{"in.txt": "abc\n"})
    result, recorder = run(flow)
    assert (result.ok, result.ran, result.failed, result.skipped) == (True, [0, 1], [], [])
    assert [e for e in recorder.events if e[0] != "output"] == [
        ("started", 0, "0"), ("finished", 0, "success"), ("started", 1, "0"), ("finished", 1, "success")]
    assert (project.path / "upper.txt").read_text() == "ABC\n"
    assert (project.path / "count.txt").read_text().strip() == "4"
    assert not [p for p in project.path.iterdir() if p.name.startswith(".upper.txt")]  # no temporaries left
    again, recorder = run(flow)
    assert again.ran == [] and recorder.events == []
    assert [reason.label for _step, reason in again.plan] == ["up to date", "up to date"]


def test_each_try_is_recorded_with_its_own_log(project):
    flow = project(CHAIN, **{"in.txt": "abc\n"})
    result, _ = run(flow)
    store = StateStore.open_readonly(str(project.path / ".datamake"))
    try:
        attempts = store.last_run_attempts()
        assert [(a.label, a.outcome, a.attempt) for a in attempts] == [("upper.txt", "success", 1),
                                                                       ("count.txt", "success", 1)]
        assert sorted(store.load_successes()) == [str(project.path / "count.txt"), str(project.path / "upper.txt")]
    finally:
        store.close()
    # Neither step printed anything: neither has a log file, and neither record points at one.
    assert result.logs == {0: None, 1: None} and [a.log_path for a in attempts] == [None, None]
    assert list((project.path / ".datamake" / "logs").iterdir()) == []


def test_only_a_step_that_prints_gets_a_log_file(project):
    flow = project("""\
        upper.txt <- in.txt
          echo "upper, to stderr" >&2; tr a-z A-Z < $INPUT > $OUTPUT
        count.txt <- upper.txt
          wc -c < $INPUT > $OUTPUT
        """, **{"in.txt": "abc\n"})
    result, _ = run(flow)
    store = StateStore.open_readonly(str(project.path / ".datamake"))
    try:
        attempts = {a.label: a for a in store.last_run_attempts()}
    finally:
        store.close()
    assert result.logs[0] == attempts["upper.txt"].log_path == str(project.path / ".datamake/logs/upper.txt.1.log")
    assert open(result.logs[0]).read() == "upper, to stderr\n"
    assert result.logs[1] is None and attempts["count.txt"].log_path is None
    assert sorted(p.name for p in (project.path / ".datamake" / "logs").iterdir()) == ["upper.txt.1.log"]


def test_a_failure_skips_what_depends_on_it_and_leaves_no_output(project):
    flow = project("""\
        half.txt <- in.txt
          echo partial > $OUTPUT; echo broken; exit 3
        count.txt <- half.txt
          wc -c < $INPUT > $OUTPUT
        other.txt <- in.txt
          cp $INPUT $OUTPUT
        """, **{"in.txt": "abc\n"})
    result, recorder = run(flow)
    assert (result.ok, result.ran, result.failed, result.skipped) == (False, [2], [0], [1])
    assert result.errors == {0: "exit 3"}
    assert ("output", 0, "broken") in recorder.events
    assert ("skipped", 1, "upstream step half.txt failed") in recorder.events
    assert not (project.path / "half.txt").exists()  # the temporary never became the output
    assert (project.path / "other.txt").read_text() == "abc\n"


def test_a_failed_try_is_retried_and_each_try_recorded(project):
    flow = project("""\
        out.txt <- [retries:2 retry-delay:0]
          echo try >> tries
          [ $(wc -l < tries) -ge 2 ] || exit 1
          echo done > $OUTPUT
        """)
    result, recorder = run(flow)
    assert result.ok and result.ran == [0]
    assert [e for e in recorder.events if e[0] != "output"] == [
        ("started", 0, "0"), ("finished", 0, "retry"), ("started", 0, "1"), ("finished", 0, "success")]
    store = StateStore.open_readonly(str(project.path / ".datamake"))
    try:
        assert [(a.outcome, a.attempt) for a in store.last_run_attempts()] == [("retry", 1), ("success", 2)]
    finally:
        store.close()


def test_a_projected_step_whose_input_came_out_the_same_is_not_run(project):
    flow = project("""\
        first.txt <- in.txt
          head -1 $INPUT > $OUTPUT
        shout.txt <- first.txt
          tr a-z A-Z < $INPUT > $OUTPUT
        """, **{"in.txt": "abc\n1\n"})
    assert run(flow, check="hash")[0].ran == [0, 1]
    (project.path / "in.txt").write_text("abc\n2\n")  # the first line, all shout.txt reads, stays
    result, recorder = run(flow, check="hash")
    assert [reason.label for _step, reason in result.plan] == ["content changed", "projected"]
    assert (result.ran, result.up_to_date) == ([0], [1])
    assert ("skipped", 1, "up to date") in recorder.events


def test_fail_fast_starts_nothing_after_a_failure(project):
    flow = project("""\
        a.txt <-
          exit 1
        b.txt <-
          echo b > $OUTPUT
        """)
    result, recorder = run(flow, fail_fast=True)
    assert (result.failed, result.skipped, result.ran) == ([0], [1], [])
    assert ("skipped", 1, "not started: --fail-fast after a failure") in recorder.events
    assert not (project.path / "b.txt").exists()
