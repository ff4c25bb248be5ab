"""The Python API: datamake.load and datamake.run on real files and S3 servers, and a --version that imports neither."""
import os
import subprocess
import sys
import textwrap
import uuid

import pytest
import s3fs

import datamake
from conftest import ROOT
from s3.server import CREDENTIALS, Bucket, S3Process, s3_server  # noqa: F401  (fixture)

FLOW = """\
    GREETING:=hello
    upper.txt <- in.txt
      tr a-z A-Z < $INPUT > $OUTPUT
    greeting.txt <- upper.txt
      echo "$[GREETING] $(cat $INPUT)" > $OUTPUT
    broken.txt <- in.txt
      exit 7
    after.txt <- broken.txt
      touch $OUTPUT
    """


@pytest.fixture
def flow_dir(tmp_path):
    (tmp_path / "Drakefile").write_text(textwrap.dedent(FLOW))
    (tmp_path / "in.txt").write_text("abc\n")
    return tmp_path


def test_load_then_run_builds_and_reports(flow_dir, capsys):
    flow = datamake.load(flow_dir, variables={"GREETING": "hi"})
    assert [step.label() for step in flow.steps] == ["upper.txt", "greeting.txt", "broken.txt", "after.txt"]
    result = datamake.run(flow)
    assert (result.ok, result.ran, result.failed, result.skipped) == (False, [0, 1], [2], [3])
    assert result.errors == {2: "exit 7"}
    assert (flow_dir / "greeting.txt").read_text() == "hi ABC\n"
    assert not (flow_dir / "after.txt").exists()
    assert "--- 2: broken.txt -> FAILED (exit 7)" in capsys.readouterr().out
    again = datamake.run(flow, "greeting.txt", quiet=True)
    assert (again.ok, again.ran, again.failed, again.skipped) == (True, [], [], [])
    assert capsys.readouterr() == ("", "")


def test_run_takes_a_path_and_previews(flow_dir, capsys):
    plan = datamake.run(flow_dir / "Drakefile", ["greeting.txt"], preview=True).plan
    assert [(step.label(), reason.label) for step, reason in plan] == [
        ("upper.txt", "missing output"), ("greeting.txt", "missing output")]
    assert not (flow_dir / ".datamake").exists()
    result = datamake.run(str(flow_dir), ["=upper.txt"], state_dir=str(flow_dir / "state"), quiet=True)
    assert result.ran == [0] and (flow_dir / "state" / "state.db").exists()
    assert (flow_dir / "upper.txt").read_text() == "ABC\n"


def test_errors_raise_datamake_errors(flow_dir):
    with pytest.raises(datamake.DatamakeError, match="target not found: nope"):
        datamake.run(flow_dir, ["nope"])
    with pytest.raises(datamake.DatamakeError, match="workflow not found"):
        datamake.load(flow_dir / "missing")


def test_base_and_version_stay_light(flow_dir):
    flow = datamake.load(flow_dir, base=str(flow_dir / "data"))
    assert flow.steps[0].outputs[0].name == os.path.join(str(flow_dir), "data", "upper.txt")
    code = "import sys, datamake; print(datamake.__version__, 'datamake.api' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.split() == [datamake.__version__, "False"]
    with pytest.raises(AttributeError):
        datamake.not_a_thing


def test_run_hands_every_event_to_the_sink_given_and_to_the_workflows_hooks_by_default(flow_dir):
    seen = []
    result = datamake.run(datamake.load(flow_dir), "broken.txt", quiet=True, events=seen.append)
    assert not result.ok
    assert [(e.kind, e.step, e.attempt, e.error) for e in seen] == [
        ("step_started", "broken.txt", 1, ""), ("step_failed", "broken.txt", 1, "exit 7")]
    with open(flow_dir / "Drakefile", "a") as drakefile:
        drakefile.write('%on failure\n  echo "$DATAMAKE_EVENT $DATAMAKE_STEP" > alerted\n')
    datamake.run(flow_dir, "broken.txt", quiet=True)
    assert (flow_dir / "alerted").read_text() == "step_failed broken.txt\n"


# Each workflow copies its store's in.txt here, then writes it back upper-cased as out.txt.
THROUGH_A_STORE = """\
    copy.txt <- s3://$[BUCKET]/in.txt [+local]
      cp $INPUT $OUTPUT
    s3://$[BUCKET]/out.txt <- copy.txt [+local]
      tr a-z A-Z < $INPUT > $OUTPUT
    """


@pytest.fixture
def two_stores(s3_server, tmp_path, monkeypatch):
    """Two S3 stores, the same bucket name on each, and a workflow per store whose datamake.cfg names it."""
    server = S3Process()
    for key, value in CREDENTIALS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):  # only the config files say where the stores are
        monkeypatch.delenv(key, raising=False)
    name = f"dm-{uuid.uuid4().hex[:12]}"
    stores = {}
    for which, on in (("a", s3_server), ("b", server)):
        fs = s3fs.S3FileSystem(endpoint_url=on.endpoint, key=CREDENTIALS["AWS_ACCESS_KEY_ID"],
                               secret=CREDENTIALS["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)
        fs.mkdir(name)
        stores[which] = Bucket(on, name, fs)
        stores[which].put("in.txt", f"from {which}\n")
        (tmp_path / which).mkdir()
        (tmp_path / which / "Drakefile").write_text(textwrap.dedent(THROUGH_A_STORE))
        (tmp_path / which / "datamake.cfg").write_text(f"[storage]\ns3.endpoint_url = {on.endpoint}\n")
    yield stores
    stores["a"].fs.rm(name, recursive=True)
    server.stop()


def test_two_workflows_loaded_in_one_process_each_reach_the_store_their_config_names(two_stores, tmp_path):
    a = datamake.load(tmp_path / "a", variables={"BUCKET": two_stores["a"].name})
    b = datamake.load(tmp_path / "b", variables={"BUCKET": two_stores["b"].name})  # loaded last, run in between
    assert datamake.run(a, check="hash", quiet=True).ran == [0, 1]
    assert datamake.run(b, check="hash", quiet=True).ran == [0, 1]
    assert [(tmp_path / w / "copy.txt").read_text() for w in "ab"] == ["from a\n", "from b\n"]
    assert [two_stores[w].read("out.txt") for w in "ab"] == ["FROM A\n", "FROM B\n"]
    two_stores["a"].put("in.txt", "again a\n")
    assert [datamake.run(a, check="hash", quiet=True).ran, datamake.run(b, check="hash", quiet=True).ran] == [
        [0, 1], []]
    assert [two_stores[w].read("out.txt") for w in "ab"] == ["AGAIN A\n", "FROM B\n"]
    assert [two_stores[w].keys() for w in "ab"] == [["in.txt", "out.txt"]] * 2
