"""Pools declared in the workflow bound steps across a build and across intervals; priorities order ready steps."""
from __future__ import annotations

STAMP = """
  echo "$NAME start $(date +%s.%N)" >> times
  sleep 0.4
  echo "$NAME end $(date +%s.%N)" >> times
  echo ok > $OUTPUT
"""


def spans(project) -> dict[str, tuple[float, float]]:
    found: dict[str, list[float]] = {}
    for line in project.read("times").splitlines():
        name, _what, when = line.split()
        found.setdefault(name, []).append(float(when))
    return {name: (min(t), max(t)) for name, t in found.items()}


def overlap(a, b) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def test_a_pool_of_one_serialises_its_steps_while_others_run(project):
    body = STAMP.replace("\n  ", "\n          ")
    project.workflow(f"""
        %pool db 1
        a.txt <- [pool:db]
          NAME=a{body}
        b.txt <- [pool:db]
          NAME=b{body}
        c.txt <-
          NAME=c{body}
    """)
    r = project.run("-j", "3")
    assert r.returncode == 0, r.stderr
    s = spans(project)
    assert not overlap(s["a"], s["b"])
    assert overlap(s["c"], s["a"]) or overlap(s["c"], s["b"])


def test_a_pool_holds_across_intervals_built_at_once(project):
    project.workflow("""
        %pool db 1
        out/$[DATE].txt <- [pool:db]
          NAME=$DATE
    """ + STAMP.replace("\n  ", "\n          "))
    r = project.run("--from", "2026-11-20", "--to", "2026-11-22", "--max-active", "3",
                    "--now=2026-11-24T10:00:00Z")
    assert r.returncode == 0, r.stderr
    s = sorted(spans(project).values())
    assert len(s) == 3 and all(not overlap(x, y) for x, y in zip(s, s[1:]))


def test_priorities_order_the_ready_steps(project):
    project.workflow("""
        low.txt <- [priority:1]
          echo low >> order; touch $OUTPUT
        high.txt <- [priority:9]
          echo high >> order; touch $OUTPUT
        plain.txt <-
          echo plain >> order; touch $OUTPUT
        mid.txt <- [priority:5]
          echo mid >> order; touch $OUTPUT
    """)
    assert project.run("-j", "1").returncode == 0
    assert project.read("order").split() == ["high", "mid", "low", "plain"]


def test_an_unknown_pool_is_an_error_at_its_step(project):
    project.workflow("""
        %pool db 2
        a.txt <- [pool:dv]
          touch $OUTPUT
    """)
    r = project.run()
    assert r.returncode == 2 and not project.exists("a.txt")
    assert r.stderr.splitlines()[0] == "Drakefile:3:1: error: unknown pool: dv (declared: db; add `%pool dv SLOTS`)"


def test_a_pool_needs_a_whole_number_of_slots(project):
    project.workflow("""
        %pool db many
        a.txt <-
          touch $OUTPUT
    """)
    r = project.run()
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == "Drakefile:2:10: error: %pool db: slots must be a whole number of at least 1, not 'many'"
