"""`datamake --print` and `--print --json` through the real command."""

import pytest

from datamake.cli.main import main
from datamake.errors import UsageError
from datamake.cli.variables import parse_var_args
from jsonkit import checked

WORKFLOW = """\
; two steps and a method
OUT:=out
stamp() [timeout:5m]
  date > $OUTPUT
$[OUT]/a.csv, %made <- src/a.csv, ?src/extra.csv, s3://bucket/key.csv [+confirm retries:2]
  cp $[INPUT] $[OUTPUT]
$[OUT]/stamp <- %made [method:stamp]
"""


def test_print_text(project):
    project.workflow(WORKFLOW)
    done = project.run("--print")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "0: out/a.csv, %made <- src/a.csv, ?src/extra.csv, s3://bucket/key.csv [shell +confirm retries:2]\n"
        "    cp src/a.csv out/a.csv\n"
        "1: out/stamp <- %made [shell timeout:5m method:stamp]\n"
        "    date > $OUTPUT\n"
    )


def test_print_text_keeps_blank_body_lines_and_shows_the_schedule(project):
    project.workflow("""\
        %schedule daily tz:UTC
        raw/$[DATE].json <- [python]
          import json

          json.dump({"day": "$[DATE]"}, open("$[OUTPUT]", "w"))
    """)
    done = project.run("-p", "--var", "DATE=2026-11-23")
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "0: raw/2026-11-23.json <- [python]\n"
        "    import json\n"
        "\n"
        '    json.dump({"day": "2026-11-23"}, open("raw/2026-11-23.json", "w"))\n'
        "%schedule daily tz:UTC\n"
    )


def test_print_json_shape(project):
    project.workflow(WORKFLOW)
    done = project.run("-p", "--json", "--var", "OUT=elsewhere", env={"DM_TEST_ONLY_ENV": "x"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("}\n") and done.stdout.count("\n") == 1
    steps = checked(done.stdout, "print")["steps"]
    assert steps[0] == {
        "index": 0,
        "outputs": ["elsewhere/a.csv"],
        "inputs": ["src/a.csv", "src/extra.csv", "s3://bucket/key.csv"],
        "output_tags": ["made"],
        "input_tags": [],
        "protocol": "shell",
        "options": {"confirm": True, "retries": 2},
        "body": "cp src/a.csv elsewhere/a.csv",
        "vars": {"OUT": "elsewhere", "BASE": str(project.path)},
    }
    assert steps[1]["input_tags"] == ["made"] and steps[1]["options"] == {"timeout": "5m", "method": "stamp"}


def test_print_with_vars_and_base(project):
    project.workflow("""\
        out/$[A]-$[B].txt <- $[C]
          echo "$[A]"
    """)
    (project.path / "data").mkdir()
    done = project.run("-p", "--json", "-v", 'A=1,B="x,y"', "--var", "C=in", "--var", "A=2", "--base", "data")
    assert done.returncode == 0, done.stderr
    step = checked(done.stdout, "print")["steps"][0]
    assert step["outputs"] == ["data/out/2-x,y.txt"] and step["inputs"] == ["data/in"]
    assert step["body"] == 'echo "2"'


def test_print_in_another_directory_with_w(project, tmp_path_factory):
    project.workflow("a <- b\n  cp $INPUT $OUTPUT\n", name="sub/Flow")
    done = project.run("--print", "-w", "sub/Flow")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0: a <- b [shell]\n    cp $INPUT $OUTPUT\n"


def test_workflow_error_is_three_lines_and_exit_2(project):
    project.workflow("A=1\nout <- in [timout:5m]\n  cp a b\n")
    done = project.run("-p")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (f"Drakefile:2:12: error: unknown option: timout (did you mean timeout?)\n"
                           "out <- in [timout:5m]\n"
                           "           ^\n")


def test_bad_var_argument_is_a_usage_error(project, capsys, monkeypatch):
    project.workflow("a <-\n  true\n")
    monkeypatch.chdir(project.path)
    assert main(["-p", "--var", "NOEQUALS"]) == 2
    assert capsys.readouterr().err == "datamake: error: bad --var variable 'NOEQUALS': expected NAME=VALUE\n"


def test_parse_var_args():
    assert parse_var_args(['A=1,B="2,3", C=x'], ["D=4", "A=5"]) == {"A": "5", "B": "2,3", "C": "x", "D": "4"}
    assert parse_var_args(["E="], []) == {"E": ""}
    for bad in (["A=1=2"], ["=1"], ["A"]):
        with pytest.raises(UsageError):
            parse_var_args(bad, [])


def test_shipped_example_prints_and_runs(project):
    import shutil
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "basics"
    shutil.copytree(example, project.path / "basics", ignore=shutil.ignore_patterns("out", ".datamake"))
    printed = project.run("-p", "--json", "-w", "basics")
    assert printed.returncode == 0, printed.stderr
    steps = checked(printed.stdout, "print")["steps"]
    assert [s["outputs"] for s in steps][:2] == [["out/header.csv"], ["out/rows.csv"]]
    assert steps[5]["output_tags"] == ["report"]
    done = project.run("-w", "basics", "--var", "WARM=13")
    assert done.returncode == 0, done.stderr
    assert (project.path / "basics/out/count.txt").read_text() == "6\n"
    warm = (project.path / "basics/out/warm.csv").read_text().splitlines()
    assert warm == ["city,day,temp_c", "Paris,2026-11-03,14", "Tokyo,2026-11-01,17", "Tokyo,2026-11-02,19",
                    "Tokyo,2026-11-03,16"]
