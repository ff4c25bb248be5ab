"""Rebuild rules in SPEC §3 order, each with its label and evidence."""
import os
from dataclasses import dataclass

import pytest

from datamake.errors import UsageError
from datamake.decide.staleness import Facts, command_hash, explain, recorded_inputs
from stepkit import wf


@dataclass
class Record:
    command_hash: str
    inputs: dict


def files(tmp_path, **ages):
    """Create files with mtimes `ages` seconds in the past."""
    for name, age in ages.items():
        path = tmp_path / name
        path.write_text(name)
        os.utime(path, (1_000_000 - age, 1_000_000 - age))


def step(tmp_path, outs, ins, **opts):
    return wf(str(tmp_path), (outs, ins, opts)).steps[0]


def why_dirty(step, facts):
    """The reason `step` must run, or None when it is up to date."""
    reason = explain(step, facts)
    return reason if reason.dirty else None


def test_missing_input_is_a_usage_error_unless_made_or_optional(tmp_path):
    s = step(tmp_path, ["out"], ["in", "?opt"])
    with pytest.raises(UsageError) as err:
        explain(s, Facts())
    assert err.value.message == "missing input: in"
    assert why_dirty(s, Facts(made={str(tmp_path / "in")})).label == "missing output"


def test_rule_order(tmp_path):
    files(tmp_path, inp=10, out=20)
    s = step(tmp_path, ["out"], ["inp"])
    assert why_dirty(s, Facts(forced=True)).label == "forced"
    assert why_dirty(s, Facts(via="tag")).label == "via tag"
    assert why_dirty(s, Facts(via="method")).label == "via method"
    assert why_dirty(s, Facts(projected_by=s)).evidence == "upstream step out will run first"
    reason = why_dirty(s, Facts())
    assert reason.label == "timestamped"
    assert reason.evidence.startswith("newest input inp (") and "> oldest output out (" in reason.evidence


def test_up_to_date_and_command_changed(tmp_path):
    files(tmp_path, inp=20, out=10)
    s = step(tmp_path, ["out"], ["inp"])
    assert why_dirty(s, Facts()) is None
    assert explain(s, Facts()).label == "up to date"
    assert why_dirty(s, Facts(record=Record(command_hash(s), {}))) is None
    changed = step(tmp_path, ["out"], ["inp"], body="echo changed")
    assert why_dirty(changed, Facts(record=Record(command_hash(s), {}))).label == "command changed"


def test_missing_output_empty_dir_timecheck_no_input(tmp_path):
    files(tmp_path, inp=10)
    (tmp_path / "outdir").mkdir()
    assert why_dirty(step(tmp_path, ["outdir"], ["inp"]), Facts()).label == "missing output"
    files(tmp_path, old=100)
    assert why_dirty(step(tmp_path, ["old"], ["inp"], timecheck=False), Facts()) is None
    assert why_dirty(step(tmp_path, ["old"], ["?gone"]), Facts()).label == "no-input step"
    assert why_dirty(step(tmp_path, [], ["inp"]), Facts()) is None


def test_directory_inputs_count_by_newest_file(tmp_path):
    files(tmp_path, out=10)
    (tmp_path / "d" / "e").mkdir(parents=True)
    files(tmp_path, **{"d/e/f": 5})
    os.utime(tmp_path / "d", (0, 0))
    assert why_dirty(step(tmp_path, ["out"], ["d"]), Facts()).label == "timestamped"


def test_hash_mode_ignores_touch_and_sees_content(tmp_path):
    files(tmp_path, inp=20, out=10)
    s = step(tmp_path, ["out"], ["inp"], check="hash")
    record = Record(command_hash(s), recorded_inputs(s, "timestamp"))
    assert why_dirty(s, Facts(record=record)) is None  # stamps recorded: falls back to timestamps
    record = Record(command_hash(s), recorded_inputs(s, "hash"))
    os.utime(tmp_path / "inp", None)
    assert why_dirty(s, Facts(record=record)) is None
    (tmp_path / "inp").write_text("new bytes")
    assert why_dirty(s, Facts(record=record)).label == "content changed"
