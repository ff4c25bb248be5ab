"""--json outputs read through their JSON Schema: every test that reads one validates it too."""
from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema

import datamake

SCHEMA_DIR = Path(datamake.__file__).resolve().parent / "schema"


@functools.lru_cache(maxsize=None)
def schema(kind: str) -> dict:
    return json.loads((SCHEMA_DIR / f"{kind}.json").read_text())


def checked(text: str, kind: str) -> dict:
    """Parse one JSON object (the last line of `text`) and validate it against schema/KIND.json."""
    data = json.loads(text.strip().splitlines()[-1])
    validator = jsonschema.Draft202012Validator(schema(kind), format_checker=jsonschema.FormatChecker())
    validator.validate(data)
    return data


def counts(data: dict) -> dict:
    """The keys a build result had before the contract was versioned."""
    return {name: data[name] for name in ("ran", "failed", "skipped")}


def interval_counts(data: dict) -> list[dict]:
    return [{k: i[k] for k in ("key", "status", "ran", "failed", "skipped")} for i in data["intervals"]]
