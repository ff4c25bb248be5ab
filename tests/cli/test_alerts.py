"""Events reaching shell hooks (plain builds and schedules), once per failure, with a timeout."""
from __future__ import annotations

import json
import time

NOW = "--now=2026-11-24T10:00:00Z"
# Every field of every event, one JSON line per event.
RECORD = ('python3 -c \'import json, os; print(json.dumps({k[9:].lower(): v for k, v in os.environ.items() '
          'if k.startswith("DATAMAKE_") and k != "DATAMAKE_RUNNER"}))\' >> events')


def events(project) -> list[dict]:
    if not project.exists("events"):
        return []
    return [json.loads(line) for line in project.read("events").splitlines()]


def test_a_plain_build_sends_step_events_to_hooks_with_every_field(project):
    project.workflow("""
        flaky.txt <- [retries:1 retry-delay:0.1s]
          echo x >> tries
          echo "warming up" >&2
          [ "$(wc -l < tries)" -ge 2 ]
          echo ok > $OUTPUT
        broken.txt <-
          echo "disk full" >&2
          exit 5
    """)
    r = project.run("--on-event", RECORD, "-j", "1")
    assert r.returncode == 1
    seen = [(e["event"], e["step"], e["attempt"]) for e in events(project)]
    # broken.txt may start while flaky.txt waits for its retry: each step's own events are in order.
    assert [s for s in seen if s[1] == "flaky.txt"] == [
        ("step_started", "flaky.txt", "1"), ("step_retried", "flaky.txt", "1"),
        ("step_started", "flaky.txt", "2"), ("step_succeeded", "flaky.txt", "2")]
    assert [s for s in seen if s[1] == "broken.txt"] == [("step_started", "broken.txt", "1"),
                                                        ("step_failed", "broken.txt", "1")]
    failed = next(e for e in events(project) if e["event"] == "step_failed")
    assert failed["workflow"] == str(project.path / "Drakefile")
    assert failed["workflow_name"] == project.path.name
    assert (failed["error"], failed["stderr"], failed["interval"], failed["status"]) == (
        "exit 5", "disk full", "", "failed")
    assert open(failed["log"]).read() == "disk full\n"
    retried = events(project)[1]
    assert retried["stderr"] == "warming up" and open(retried["log"]).read() == "warming up\n"


def test_failure_and_success_hooks_on_a_plain_build(project):
    project.workflow("""
        good.txt <-
          echo ok > $OUTPUT
        bad.txt <-
          exit 1
    """)
    r = project.run("--on-failure", 'echo "F $DATAMAKE_STEP" >> hooks', "--on-success", 'echo "S $DATAMAKE_STEP" >> hooks')
    assert r.returncode == 1
    assert sorted(project.read("hooks").splitlines()) == ["F bad.txt", "S good.txt"]


FAILING = """
    %schedule daily start:2026-11-22

    out/$[DATE].txt <- [retries:1 retry-delay:0.1s]
      if [ "$DATE" = 2026-11-22 ] && [ ! -f fixed ]; then echo "source down" >&2; exit 3; fi
      echo ok > $OUTPUT
"""


def test_a_failed_interval_alerts_once_across_ticks_and_recovers_once(project):
    project.workflow(FAILING)
    codes = [project.run("--once", f"--now=2026-11-2{day}T01:00:00Z", "--on-event", RECORD).returncode
             for day in (3, 4, 5)]
    assert codes == [1, 0, 0]
    kinds = [(e["event"], e["interval"]) for e in events(project) if e["interval"] == "2026-11-22"]
    assert kinds == [("step_started", "2026-11-22"), ("step_retried", "2026-11-22"),
                     ("step_started", "2026-11-22"), ("step_failed", "2026-11-22"),
                     ("interval_failed", "2026-11-22")]
    failed = events(project)[[e["event"] for e in events(project)].index("interval_failed")]
    assert (failed["step"], failed["error"], failed["stderr"], failed["attempt"]) == (
        "out/2026-11-22.txt", "out/2026-11-22.txt: exit 3", "source down", "2")
    assert failed["interval_start"] == "2026-11-22T00:00:00+00:00"
    assert open(failed["log"]).read() == "source down\n"
    status = json.loads(project.run("--status", "--json", "--now=2026-11-25T01:00:00Z").stdout)["intervals"]
    assert {i["key"]: i["state"] for i in status}["2026-11-22"] == "failed"

    project.write("fixed")
    project.write("events", "")
    assert project.run("--once", "--rerun", "failed", "--now=2026-11-25T02:00:00Z", "--on-event", RECORD,
                       "--on-recovery", 'echo "$DATAMAKE_INTERVAL" >> recovered').returncode == 0
    assert [e["event"] for e in events(project)] == ["step_started", "step_succeeded", "interval_succeeded",
                                                     "recovered"]
    assert project.read("recovered") == "2026-11-22\n"


def test_hooks_declared_in_the_workflow(project):
    project.workflow("""
        %on failure retry
          echo "$DATAMAKE_EVENT $DATAMAKE_STEP: $DATAMAKE_ERROR" >> hooks
        %on success
          echo "ok $DATAMAKE_STEP" >> hooks

        out/$[DATE].txt <-
          [ "$DATE" != 2026-11-22 ] || exit 2
          echo ok > $OUTPUT
    """)
    r = project.run("--from", "2026-11-22", "--to", "2026-11-23", NOW)
    assert r.returncode == 1
    assert project.read("hooks").splitlines() == [
        "interval_failed out/2026-11-22.txt: out/2026-11-22.txt: exit 2", "ok "]


def test_an_unknown_event_in_the_workflow_is_an_error_at_its_place(project):
    project.workflow("""
        %on falure
          echo hi
        a <-
          touch a
    """)
    r = project.run()
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "Drakefile:2:5: error: unknown event: falure (did you mean failure?) (events: start, retry, failure, "
        "success, sla-miss, recovery, all, or a kind such as step_failed)", "%on falure", "    ^"]


def test_a_hung_hook_is_stopped_after_its_timeout(project):
    project.workflow("""
        a.txt <-
          exit 1
    """)
    started = time.monotonic()
    r = project.run("--on-failure", "sleep 60", "--hook-timeout", "1s")
    assert r.returncode == 1 and time.monotonic() - started < 15
    assert "datamake: warning: hook (--on-failure) on step_failed timed out after 1s and was stopped" in r.stderr
