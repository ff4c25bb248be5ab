"""The `datamake` command: a proven no-op answers at once; anything else loads the whole command line."""
from __future__ import annotations

import importlib
import sys

from datamake.cli.noop_proof import answer


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `datamake` command; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    code = answer(argv)
    if code is None:  # the command line module imports every stage: only when there is work to decide
        code = importlib.import_module("datamake.cli.main").main(argv)
    return code
