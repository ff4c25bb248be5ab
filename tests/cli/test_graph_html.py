"""`datamake --graph html`: the page drawn by headless Chromium, checked through its DOM."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser import CHROMIUM, Elements, chromium, dump_dom

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                                reason="headless Chromium (apt-get install chromium) not installed")


def step_nodes(elements) -> dict[str, str]:
    return {a["data-id"]: a["data-state"] for tag, a, _ in elements if tag == "g" and a.get("data-kind") == "step"}


WORKFLOW = """\
    raw.csv <-
      printf 'b\\na\\n' > $OUTPUT

    left.csv <- raw.csv
      sleep 0.4; sort $INPUT > $OUTPUT

    right.csv <- raw.csv
      sleep 0.4; echo "right went wrong" >&2; exit 3

    report.txt <- left.csv, right.csv
      cat $INPUTS > $OUTPUT

    left.sum <- left.csv
      wc -l < $INPUT > $OUTPUT
    """


@pytest.fixture
def ran(project):
    """A project whose last run (-j 2) ran raw, then left and right at once; right failed."""
    project.workflow(WORKFLOW)
    assert project.run("-j", "2", "report.txt").returncode == 1
    return project


def test_page_draws_every_step_with_its_state_and_a_timeline(ran, tmp_path):
    assert ran.run("--graph", "html", "-o", "graph.html").returncode == 0
    elements = dump_dom(tmp_path, ran.path / "graph.html")
    assert step_nodes(elements) == {"s0": "will run", "s1": "will run", "s2": "failed last run",
                                    "s3": "will run", "s4": "will run"}
    labels = [text for tag, a, text in elements if tag == "text" and a.get("class") == "label"]
    assert {"raw.csv", "left.csv", "right.csv", "report.txt", "left.sum"} <= set(labels)
    files = {a["data-id"] for tag, a, _ in elements if tag == "g" and a.get("data-kind") == "file"}
    assert len(files) == 5
    legend = [text for tag, a, text in elements if tag == "div" and a.get("class") == "legend-item"]
    assert legend == ["will run (4)", "up to date (0)", "failed last run (1)", "never run (0)", "file", "%tag"]

    bars = {a["data-node"]: a for tag, a, _ in elements if tag == "rect" and a.get("class") == "bar"}
    assert {k: b["data-outcome"] for k, b in bars.items()} == {"s0": "success", "s1": "success", "s2": "failed"}
    left, right, raw = (bars[k] for k in ("s1", "s2", "s0"))
    # left and right ran at the same time, after raw: the bars overlap and start after raw's end.
    assert float(left["data-start"]) < float(right["data-end"]) and float(right["data-start"]) < float(left["data-end"])
    assert float(raw["data-end"]) <= min(float(left["data-start"]), float(right["data-start"]))
    assert float(left["x"]) < float(right["x"]) + float(right["width"])
    summary = next(text for tag, a, text in elements if a.get("id") == "timeline-summary")
    assert summary.startswith("— 3 steps, 3 attempts, 1 failed,") and summary.endswith("up to 2 at once")


def test_clicking_a_step_shows_command_reason_and_log_tail(ran, tmp_path):
    ran.run("--graph", "-o", "graph.html")
    elements = dump_dom(tmp_path, ran.path / "graph.html", "#step=s2")
    panel = [(tag, text) for tag, a, text in elements if tag in ("h2", "h3", "pre", "li", "span")]
    assert ("h2", "right.csv") in panel and ("span", "failed last run") in panel
    assert ("pre", 'sleep 0.4; echo "right went wrong" >&2; exit 3') in panel
    log = [text for tag, text in panel if tag == "pre" and "right went wrong" in text and "sleep" not in text]
    assert log and log[0].strip().endswith("right went wrong")
    assert ("li", "raw.csv") in panel and ("li", "right.csv") in panel
    assert any(tag == "h3" and text == "Reason" for tag, text in panel)


def test_screenshot(ran, tmp_path):
    ran.run("--graph", "-o", "graph.html")
    shot = tmp_path / "graph.png"
    chromium(tmp_path, (ran.path / "graph.html").as_uri(), "--virtual-time-budget=5000", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_two_thousand_steps_render_in_the_browser(project, tmp_path):
    project.workflow("".join(f"d/{i}.csv <- {f'd/{i - 1}.csv, d/{i // 2}.csv' if i else ''}\n  echo {i} > $OUTPUT\n\n"
                             for i in range(2000)))
    assert project.run("--graph", "html", "-o", "big.html", timeout=60).returncode == 0
    nodes = step_nodes(dump_dom(tmp_path, project.path / "big.html"))
    assert len(nodes) == 2000 and set(nodes.values()) == {"will run"}
