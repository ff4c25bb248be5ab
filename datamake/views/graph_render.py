"""--graph FORMAT: the GraphView as dot, mermaid, text or Graphviz svg/png (html in viz_html)."""
from __future__ import annotations

import io
import os
import shutil
import subprocess

from datamake.errors import UsageError
from datamake.views.graph_html import render_html
from datamake.views.graph_view import COLOURS, FAILED, NEVER_RUN, UP_TO_DATE, WILL_RUN, GraphView, Node, layers


# ---------------------------------------------------------------- dot

def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _dot_node(node: Node) -> str:
    if node.kind == "step":
        fill, line = COLOURS[node.state or NEVER_RUN]
        attrs = {"shape": "box", "style": "rounded,filled", "fillcolor": fill, "color": line,
                 "label": f"{node.label}\n{node.state_text}", "tooltip": node.command[:500],
                 "class": "step " + (node.state or "").replace(" ", "-")}
    else:
        fill, line = COLOURS[node.kind]
        attrs = {"shape": "note" if node.kind == "file" else "hexagon", "style": "filled",
                 "fillcolor": fill, "color": line, "label": node.label, "class": node.kind}
    body = ", ".join(f"{key}={_dot_quote(value)}" for key, value in attrs.items())
    return f"  {_dot_quote(node.id)} [{body}];"


def render_dot(view: GraphView) -> str:
    """Graphviz source: steps as rounded boxes filled by state, files as notes, tags as hexagons."""
    lines = [f"digraph {_dot_quote(view.title)} {{", "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];', '  edge [color="#94a3b8"];']
    lines += [_dot_node(n) for n in view.nodes]
    lines += [f"  {_dot_quote(src)} -> {_dot_quote(dst)};" for src, dst in view.edges]
    return "\n".join(lines + ["}"]) + "\n"


# ---------------------------------------------------------------- mermaid

_MERMAID_CLASS = {WILL_RUN: "willRun", UP_TO_DATE: "upToDate", FAILED: "failed", NEVER_RUN: "neverRun",
                  "file": "file", "tag": "tag"}


def _mermaid_text(text: str) -> str:
    # Mermaid's entity codes keep quotes and angle brackets from ending the label.
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def render_mermaid(view: GraphView) -> str:
    """A `flowchart LR` for GitHub markdown; node states become classDef colours."""
    ids = {n.id: f"n{i}" for i, n in enumerate(view.nodes)}
    lines = ["flowchart LR"]
    for node in view.nodes:
        if node.kind == "step":
            shape = '["{}"]'.format(_mermaid_text(node.label) + "<br/>" + _mermaid_text(node.state_text))
        elif node.kind == "file":
            shape = '[/"{}"/]'.format(_mermaid_text(node.label))
        else:
            shape = '{{{{"{}"}}}}'.format(_mermaid_text(node.label))
        lines.append(f"  {ids[node.id]}{shape}:::{_MERMAID_CLASS[node.state or node.kind]}")
    lines += [f"  {ids[src]} --> {ids[dst]}" for src, dst in view.edges]
    for key, cls in _MERMAID_CLASS.items():
        fill, line = COLOURS[key]
        lines.append(f"  classDef {cls} fill:{fill},stroke:{line},color:#111827")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- text

SYMBOLS = {WILL_RUN: "▶", UP_TO_DATE: "✓", FAILED: "✗", NEVER_RUN: "·"}
TEXT_STYLES = {WILL_RUN: "yellow", UP_TO_DATE: "green", FAILED: "bold red", NEVER_RUN: "dim"}
QUIET_STATES = (UP_TO_DATE, NEVER_RUN)  # long runs of these collapse into one line


def text_lines(view: GraphView, limit: int = 300) -> list[tuple[str, str]]:
    """(text, rich style) lines: a summary, then steps layer by layer.

    Runs of more than three consecutive quiet steps collapse to one line, and at most `limit`
    step lines are drawn, so a 2,000-step graph stays readable in a terminal.
    """
    steps = view.steps()
    depth = layers(view, steps_only=True)
    steps.sort(key=lambda n: depth[n.id])
    counts = ", ".join(f"{c} {s}" for s, c in view.counts().items() if c)
    out: list[tuple[str, str]] = [(f"{view.title}: {len(steps)} steps ({counts or 'nothing selected'})", "bold")]
    shown = 0
    i = 0
    while i < len(steps):
        if shown >= limit:
            out.append((f"… {len(steps) - i} more steps not shown; draw them all with --graph html -o graph.html", "dim"))
            break
        run = _quiet_run(steps, i)
        if len(run) > 3:
            first, last = depth[run[0].id] + 1, depth[run[-1].id] + 1
            where = f"layer {first}" if first == last else f"layers {first}–{last}"
            out.append((f"  … {len(run)} steps {run[0].state} ({where})", TEXT_STYLES[run[0].state]))
            i += len(run)
        else:
            out.append((_step_line(steps[i], depth[steps[i].id] + 1), TEXT_STYLES[steps[i].state]))
            i += 1
        shown += 1
    return out


def _quiet_run(steps: list[Node], start: int) -> list[Node]:
    state = steps[start].state
    if state not in QUIET_STATES:
        return [steps[start]]
    end = start
    while end < len(steps) and steps[end].state == state:
        end += 1
    return steps[start:end]


def _step_line(node: Node, layer: int) -> str:
    inputs = ", ".join(node.inputs[:3]) + (f" (+{len(node.inputs) - 3})" if len(node.inputs) > 3 else "")
    arrow = f" <- {inputs}" if inputs else ""
    return f"  {layer:>3} {SYMBOLS[node.state]} {node.label}{arrow}  [{node.state_text}]"


def render_text(view: GraphView, color: bool = False, width: int = 100, limit: int = 300) -> str:
    """The terminal drawing; with `color`, ANSI colours by state (via rich)."""
    lines = text_lines(view, limit)
    if not color:
        return "\n".join(text for text, _ in lines) + "\n"
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=width, highlight=False)
    for text, style in lines:
        console.print(Text(text, style=style), overflow="ellipsis", no_wrap=True)
    return buffer.getvalue()


def render_graphviz(view: GraphView, fmt: str) -> bytes:
    """svg or png bytes from Graphviz's `dot` program, which must be installed."""
    program = shutil.which("dot")
    if program is None:
        raise UsageError(f"--graph {fmt} needs Graphviz's 'dot' program (apt-get install graphviz)")
    done = subprocess.run([program, f"-T{fmt}"], input=render_dot(view).encode(), capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"Graphviz's dot failed: {message[-1] if message else 'exit ' + str(done.returncode)}")
    return done.stdout


# ---------------------------------------------------------------- choosing and writing

EXTENSIONS = {".dot": "dot", ".gv": "dot", ".mmd": "mermaid", ".mermaid": "mermaid", ".txt": "text",
              ".html": "html", ".htm": "html", ".svg": "svg", ".png": "png"}
BINARY_FORMATS = ("png",)


def choose_format(requested: str | None, output: str | None) -> str:
    """The format asked for, else the one `-o FILE`'s extension names, else dot."""
    if requested:
        return requested
    if output:
        ext = os.path.splitext(output)[1].lower()
        if ext not in EXTENSIONS:
            raise UsageError(f"cannot tell the graph format from {output!r}; use --graph FORMAT "
                             f"or one of {', '.join(sorted(EXTENSIONS))}")
        return EXTENSIONS[ext]
    return "dot"


def render(view: GraphView, fmt: str, color: bool = False) -> str | bytes:
    """The view in `fmt`: text for dot, mermaid, text, html and svg; bytes for png."""
    if fmt == "dot":
        return render_dot(view)
    if fmt == "mermaid":
        return render_mermaid(view)
    if fmt == "text":
        return render_text(view, color=color)
    if fmt == "html":
        return render_html(view)
    image = render_graphviz(view, fmt)
    return image if fmt in BINARY_FORMATS else image.decode("utf-8")
