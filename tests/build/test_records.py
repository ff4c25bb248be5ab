"""The JSON contract's files: valid JSON Schemas, one per --json output, the same in docs/schema/."""
import json

import jsonschema
import pytest

from conftest import ROOT
from jsonkit import SCHEMA_DIR

KINDS = ("build", "clean", "config", "list", "preview", "print", "status", "schedule", "report")


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_a_valid_versioned_json_schema(kind):
    schema = json.loads((SCHEMA_DIR / f"{kind}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["properties"]["schema"] == {"const": 1, "description": schema["properties"]["schema"]["description"]}
    assert "schema" in schema["required"]


def test_docs_show_the_shipped_files():
    docs = ROOT / "docs" / "schema"
    assert sorted(p.name for p in docs.iterdir()) == sorted(f"{k}.json" for k in KINDS)
    for kind in KINDS:
        assert (docs / f"{kind}.json").read_text() == (SCHEMA_DIR / f"{kind}.json").read_text()


def test_a_record_missing_a_key_fails_validation():
    schema = json.loads((SCHEMA_DIR / "build.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"schema": 1, "ran": [], "failed": [], "skipped": []}, schema)
