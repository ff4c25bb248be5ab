"""The size rules of the code base stay true: no module in datamake/ over 400 lines, no function over 40."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "datamake"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 40


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_found():
    assert len(modules()) > 40 and (PACKAGE / "api.py") in modules()


def test_no_module_is_over_400_lines():
    long = {str(p.relative_to(PACKAGE)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}, "split these modules by what they do"


def test_no_function_is_over_40_lines():
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1  # decorators aside, docstring and body included
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name}"] = lines
    assert long == {}, "split these functions"
