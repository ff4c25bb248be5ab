"""Shared fixtures: write a workflow into a temp dir and run the real command on it."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Project:
    """A temp directory holding a Drakefile, with helpers to run datamake in it."""

    def __init__(self, path: Path):
        self.path = path

    def write(self, name: str, text: str = "", dedent: bool = True) -> Path:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text) if dedent else text)
        return target

    def workflow(self, text: str, name: str = "Drakefile") -> Path:
        return self.write(name, text)

    def read(self, name: str) -> str:
        return (self.path / name).read_text()

    def exists(self, name: str) -> bool:
        return (self.path / name).exists()

    def run(self, *args: str, env: dict | None = None, input: str | None = None,
            timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `python -m datamake ARGS` in the project dir as a real subprocess."""
        full_env = dict(os.environ)
        full_env["PYTHONPATH"] = str(ROOT) + os.pathsep + full_env.get("PYTHONPATH", "")
        full_env.pop("COLUMNS", None)
        if env:
            full_env.update(env)
        return subprocess.run([sys.executable, "-m", "datamake", *args], cwd=self.path, env=full_env,
                              input=input, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(autouse=True, scope="session")
def private_cache_home(tmp_path_factory):
    """Parse caches of the whole session go to a folder of its own, not the user's ~/.cache."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache-home"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path)
