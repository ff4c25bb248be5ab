"""Helpers for the language tests: write a dedented workflow, load it, or capture its error."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from datamake.errors import DatamakeError
from datamake.language.load import load_workflow


def write(directory: Path, text: str, name: str = "Drakefile") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def load(directory: Path, text: str, name: str = "Drakefile", **kwargs):
    return load_workflow(str(write(directory, text, name)), **kwargs)


def error(directory: Path, text: str, name: str = "Drakefile", **kwargs) -> str:
    """The rendered error (location, line, caret) that loading this workflow, or selecting all of it, raises.

    A step whose options or body are wrong loads as a broken step, an error once selected.
    """
    with pytest.raises(DatamakeError) as caught:
        workflow = load(directory, text, name, **kwargs)
        for step in workflow.steps:
            if step.error is not None:
                raise step.error
    return caught.value.render()
