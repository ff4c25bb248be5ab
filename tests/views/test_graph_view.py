"""The GraphView and its dot, mermaid, text and html renderings, on hand-made workflows."""
from __future__ import annotations

import json
import re
import shutil
import time

import pytest
from stepkit import wf

from datamake.views import graph_view as viz, graph_html as viz_html, graph_render as viz_render
from datamake.errors import UsageError
from datamake.store.statedb import StepAttempt

D = "/proj"
NOW = 1_700_000_000.0


def attempt(index, started, finished, outcome, log_path=None):
    """A step attempt of the last run as the state store records it."""
    return StepAttempt(1, f"key{index}", index, f"step {index}", outcome, started, finished, log_path, None, None)


def demo_view(attempts=()):
    """raw.csv (ok) -> clean.csv (failed, will run) -> report.txt + %report (will run) -> %report reader (never)."""
    flow = wf(D, (["raw.csv"], []), (["clean.csv"], ["raw.csv"], {"body": 'say "hi" \\ <b>'}),
              (["report.txt", "%report"], ["clean.csv", "lookup.csv"]), ([], ["%report"]))
    return viz.build_view(flow.steps, {1: "timestamped", 2: "projected"}, {0: "success", 1: "failed"},
                          attempts, D, "demo")


# ------------------------------------------------------------------ the view

def test_states_and_reasons():
    steps = {n.label: n for n in demo_view().steps()}
    assert (steps["raw.csv"].state, steps["raw.csv"].reason) == (viz.UP_TO_DATE, None)
    # A failed step shows as failed even though it will run again; the reason is kept.
    assert (steps["clean.csv"].state, steps["clean.csv"].reason) == (viz.FAILED, "timestamped")
    assert steps["clean.csv"].state_text == "failed last run, will run: timestamped"
    assert steps["report.txt, %report"].state_text == "will run: projected"
    assert steps["step 3"].state == viz.NEVER_RUN
    assert demo_view().counts() == {viz.WILL_RUN: 1, viz.UP_TO_DATE: 1, viz.FAILED: 1, viz.NEVER_RUN: 1}


def test_nodes_and_edges_distinguish_steps_files_and_tags():
    view = demo_view()
    kinds = {n.id: n.kind for n in view.nodes}
    assert sorted(k for k in kinds.values()) == ["file"] * 4 + ["step"] * 4 + ["tag"]
    assert ("f:/proj/raw.csv", "s1") in view.edges
    assert ("s2", "t:report") in view.edges and ("t:report", "s3") in view.edges
    assert viz.step_edges(view) == [("s0", "s1"), ("s1", "s2"), ("s2", "s3")]


def test_layers_are_longest_paths():
    flow = wf(D, (["a"], []), (["b"], ["a"]), (["c"], ["a", "b"]), (["d"], []))
    view = viz.build_view(flow.steps, {}, {}, directory=D)
    assert viz.layers(view, steps_only=True) == {"s0": 0, "s1": 1, "s2": 2, "s3": 0}


def test_timeline_has_one_bar_per_attempt_in_start_order(tmp_path):
    log = tmp_path / "clean.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    attempts = [attempt(1, NOW + 2, NOW + 5, "failed", str(log)), attempt(0, NOW, NOW + 2, "success"),
                attempt(9, NOW, NOW + 1, "success")]  # step 9 is not selected: no bar
    view = demo_view(attempts)
    assert [(b.node, b.ok) for b in view.timeline] == [("s0", True), ("s1", False)]
    tail = next(n for n in view.nodes if n.id == "s1").log_tail
    assert tail.splitlines() == [f"line {i}" for i in range(80, 100)]


# ------------------------------------------------------------------ dot

NODE_LINE = re.compile(r'^  "((?:[^"\\]|\\.)*)" \[(.*)\];$')
EDGE_LINE = re.compile(r'^  "((?:[^"\\]|\\.)*)" -> "((?:[^"\\]|\\.)*)";$')
ATTR = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def parse_dot(text):
    nodes, edges = {}, []
    for line in text.splitlines():
        if m := EDGE_LINE.match(line):
            edges.append((m[1], m[2]))
        elif m := NODE_LINE.match(line):
            nodes[m[1]] = dict(ATTR.findall(m[2]))
    return nodes, edges


def test_dot_draws_every_node_with_its_state_and_every_edge():
    view = demo_view()
    text = viz_render.render_dot(view)
    assert text.startswith('digraph "demo" {\n  rankdir=LR;') and text.endswith("}\n")
    nodes, edges = parse_dot(text)
    assert set(nodes) == {n.id for n in view.nodes}
    assert edges == list(view.edges)
    assert nodes["s2"]["label"] == "report.txt, %report\\nwill run: projected"
    assert nodes["s2"]["fillcolor"] == viz.COLOURS[viz.WILL_RUN][0]
    assert nodes["s1"]["class"] == "step failed-last-run"
    assert nodes["s1"]["tooltip"] == 'say \\"hi\\" \\\\ <b>'
    assert (nodes["f:/proj/raw.csv"]["shape"], nodes["t:report"]["shape"]) == ("note", "hexagon")


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz not installed")
def test_graphviz_reads_the_dot_output():
    view = demo_view()
    svg = viz_render.render(view, "svg")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "will run: projected" in svg and "failed last run" in svg
    assert viz_render.render(view, "png")[:8] == b"\x89PNG\r\n\x1a\n"


def test_svg_without_graphviz_is_a_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as err:
        viz_render.render(demo_view(), "svg")
    assert err.value.render() == ("datamake: error: --graph svg needs Graphviz's 'dot' program "
                                  "(apt-get install graphviz)")


# ------------------------------------------------------------------ mermaid

def parse_mermaid(text):
    lines = text.splitlines()
    nodes = {m[1]: (m[2], m[3]) for line in lines if (m := re.match(r"^  (n\d+)(.*):::(\w+)$", line))}
    edges = [tuple(m.groups()) for line in lines if (m := re.match(r"^  (n\d+) --> (n\d+)$", line))]
    classes = dict(re.findall(r"^  classDef (\w+) (.*)$", text, re.M))
    return lines[0], nodes, edges, classes


def test_mermaid_flowchart_with_state_classes():
    view = demo_view()
    header, nodes, edges, classes = parse_mermaid(viz_render.render_mermaid(view))
    assert header == "flowchart LR"
    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    assert len(nodes) == len(view.nodes)
    assert edges == [(ids[a], ids[b]) for a, b in view.edges]
    assert nodes[ids["s0"]] == ('["raw.csv<br/>up to date"]', "upToDate")
    assert nodes[ids["s1"]] == ('["clean.csv<br/>failed last run, will run: timestamped"]', "failed")
    assert nodes[ids["s2"]][1] == "willRun" and nodes[ids["s3"]][1] == "neverRun"
    assert nodes[ids["f:/proj/raw.csv"]] == ('[/"raw.csv"/]', "file")
    assert nodes[ids["t:report"]] == ('{{"%report"}}', "tag")
    assert classes["willRun"] == "fill:#fef3c7,stroke:#d97706,color:#111827"
    assert set(classes) == {"willRun", "upToDate", "failed", "neverRun", "file", "tag"}


def test_mermaid_escapes_quotes_and_angle_brackets():
    flow = wf(D, (['say "x" <y>.txt'], []))
    _, nodes, _, _ = parse_mermaid(viz_render.render_mermaid(viz.build_view(flow.steps, {0: "missing output"}, {}, directory=D)))
    assert nodes["n0"][0] == '["say #quot;x#quot; #lt;y#gt;.txt<br/>will run: missing output"]'


# ------------------------------------------------------------------ text

def test_text_lists_steps_by_layer_with_states():
    assert viz_render.render_text(demo_view()) == (
        "demo: 4 steps (1 will run, 1 up to date, 1 failed last run, 1 never run)\n"
        "    1 ✓ raw.csv  [up to date]\n"
        "    2 ✗ clean.csv <- raw.csv  [failed last run, will run: timestamped]\n"
        "    3 ▶ report.txt, %report <- clean.csv, lookup.csv  [will run: projected]\n"
        "    4 · step 3 <- %report  [never run]\n")


def test_text_in_colour_uses_ansi_styles():
    text = viz_render.render_text(demo_view(), color=True)
    assert "\x1b[" in text and "will run: projected" in text


def chain(n, will_run=lambda i: False):
    """n steps, each reading the one before and one half-way back: deep and branching."""
    specs = [([f"d/{i}.csv"], [f"d/{i - 1}.csv", f"d/{i // 2}.csv"] if i else []) for i in range(n)]
    flow = wf(D, *specs)
    return viz.build_view(flow.steps, {i: "projected" for i in range(n) if will_run(i)},
                          {i: "success" for i in range(n)}, directory=D, title="big")


def test_text_collapses_quiet_runs_and_stops_at_the_limit():
    lines = viz_render.render_text(chain(2000, will_run=lambda i: i in (5, 1500))).splitlines()
    assert lines[0] == "big: 2000 steps (2 will run, 1998 up to date)"
    assert lines[1:] == ["  … 5 steps up to date (layers 1–5)",
                         "    6 ▶ d/5.csv <- d/4.csv, d/2.csv  [will run: projected]",
                         "  … 1494 steps up to date (layers 7–1500)",
                         "  1501 ▶ d/1500.csv <- d/1499.csv, d/750.csv  [will run: projected]",
                         "  … 499 steps up to date (layers 1502–2000)"]
    busy = viz_render.render_text(chain(2000, will_run=lambda i: True), limit=50).splitlines()
    assert len(busy) == 52
    assert busy[-1] == "… 1950 more steps not shown; draw them all with --graph html -o graph.html"


# ------------------------------------------------------------------ html

def page_json(html):
    m = re.search(r'<script id="datamake-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m[1])


def test_html_is_self_contained_with_the_data_inline():
    html = viz_html.render_html(demo_view([attempt(0, NOW, NOW + 2, "success")]))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "<link" not in html and "@import" not in html
    data = page_json(html)
    assert {n["id"]: n["state"] for n in data["nodes"] if n["kind"] == "step"} == {
        "s0": "up to date", "s1": "failed last run", "s2": "will run", "s3": "never run"}
    assert data["timeline"] == [{"node": "s0", "label": "raw.csv", "start": NOW, "end": NOW + 2,
                                 "outcome": "success", "ok": True}]


def test_html_survives_script_closing_tags_in_commands():
    flow = wf(D, (["x"], [], {"body": "echo '</script><script>alert(1)</script>'"}))
    html = viz_html.render_html(viz.build_view(flow.steps, {}, {}, directory=D))
    assert html.count("</script>") == 2  # the data block's and the program's own
    assert page_json(html)["nodes"][0]["command"] == "echo '</script><script>alert(1)</script>'"


def test_layout_puts_columns_left_to_right_without_overlaps():
    view = chain(60)
    boxes = viz_html.layout(view)
    for src, dst in view.edges:
        assert boxes[src][0] + boxes[src][2] < boxes[dst][0]  # every edge points right
    by_x: dict[float, list] = {}
    for x, y, w, h in boxes.values():
        by_x.setdefault(x, []).append((y, h))
    for column in by_x.values():
        column.sort()
        assert all(a[0] + a[1] <= b[0] for a, b in zip(column, column[1:]))


def test_source_files_sit_next_to_their_reader():
    flow = wf(D, (["a"], []), (["b"], ["a"]), (["c"], ["b", "late.csv"]))
    depth = viz_html.pull_sources(viz.build_view(flow.steps, {}, {}, directory=D),
                                  viz.layers(viz.build_view(flow.steps, {}, {}, directory=D)))
    assert depth["f:/proj/late.csv"] == depth["s2"] - 1


def test_two_thousand_steps_render_quickly_in_every_text_format():
    view = chain(2000, will_run=lambda i: i % 3 == 0)
    started = time.monotonic()
    for fmt in ("dot", "mermaid", "text", "html"):
        assert viz_render.render(view, fmt)
    assert time.monotonic() - started < 10


# ------------------------------------------------------------------ choosing the format

@pytest.mark.parametrize("requested, output, fmt", [
    ("", None, "dot"), (None, "g.svg", "svg"), ("", "g.MMD", "mermaid"), ("", "g.mermaid", "mermaid"),
    ("", "out/g.txt", "text"), ("", "g.html", "html"), ("", "g.png", "png"), ("", "g.dot", "dot"),
    ("text", "g.html", "text"),
])
def test_choose_format(requested, output, fmt):
    assert viz_render.choose_format(requested, output) == fmt


def test_unknown_extension_asks_for_a_format():
    with pytest.raises(UsageError, match=r"cannot tell the graph format from 'g\.pdf'; use --graph FORMAT"):
        viz_render.choose_format("", "g.pdf")
