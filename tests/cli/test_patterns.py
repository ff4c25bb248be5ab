"""Pattern steps through the real command: `clean/{city}.csv <- raw/{city}.csv` and merges over them."""
from __future__ import annotations


import pytest
from s3.server import bucket, s3_server  # noqa: F401  (fixtures)
from jsonkit import checked

CLEAN_AND_MERGE = """\
    clean/{city}.csv <- raw/{city}.csv
      tail -n +2 $INPUT > $OUTPUT

    all.csv <- clean/{city}.csv
      cat $INPUTS > $OUTPUT
    """


def _raw(project, *cities: str) -> None:
    for city in cities:
        project.write(f"raw/{city}.csv", f"city\n{city}\n")


def _ran(result) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line.split(": ", 1)[1].split(" -> ")[0] for line in result.stdout.splitlines()
            if " -> done" in line]


@pytest.fixture
def cities(project):
    project.workflow(CLEAN_AND_MERGE)
    _raw(project, "paris", "tokyo", "lima")
    return project


def test_five_hundred_files_build_then_nothing_to_do(project):
    project.workflow(CLEAN_AND_MERGE)
    for i in range(500):
        project.write(f"raw/c{i:03d}.csv", f"h\n{i}\n")
    first = project.run("-j2", "--json")
    assert first.returncode == 0, first.stderr
    assert len(checked(first.stdout, "build")["ran"]) == 501
    assert project.read("all.csv").splitlines() == [str(i) for i in range(500)]
    again = project.run()
    assert again.returncode == 0 and again.stdout == "Nothing to do.\n"


def test_a_new_file_adds_one_step_and_the_merge_reruns(cities):
    _ran(cities.run())
    _raw(cities, "oslo")
    assert sorted(_ran(cities.run())) == ["all.csv", "clean/oslo.csv"]
    assert cities.read("all.csv") == "lima\noslo\nparis\ntokyo\n"


def test_a_deleted_file_removes_its_step_and_the_merge_reruns(cities):
    _ran(cities.run())
    (cities.path / "raw/lima.csv").unlink()
    preview = cities.run("-P", "--why")
    assert "clean/lima.csv" not in preview.stdout
    assert "all.csv <- clean/paris.csv, clean/tokyo.csv [command changed]" in preview.stdout
    assert _ran(cities.run()) == ["all.csv"]
    assert cities.read("all.csv") == "paris\ntokyo\n"


def test_selection_reaches_single_expansions(cities):
    assert _ran(cities.run("=clean/paris.csv")) == ["clean/paris.csv"]
    assert _ran(cities.run("@clean/l.*")) == ["clean/lima.csv"]
    assert sorted(_ran(cities.run())) == ["all.csv", "clean/tokyo.csv"]
    cities.write("raw/tokyo.csv", "city\nTokyo\n")
    assert sorted(_ran(cities.run("^raw/tokyo.csv"))) == ["all.csv", "clean/tokyo.csv"]


def test_a_target_on_the_command_line_makes_its_own_expansion(cities):
    cities.workflow("""\
        clean/{city}.csv <- raw/{city}.csv
          tail -n +2 $INPUT > $OUTPUT
        """)
    missing = cities.run("clean/lyon.csv")
    assert missing.returncode == 2
    assert "missing input: raw/lyon.csv (needed by step clean/lyon.csv at Drakefile:1:1)" in missing.stderr
    _raw(cities, "lyon")
    assert _ran(cities.run("clean/lyon.csv")) == ["clean/lyon.csv"]


def test_preview_print_and_graph_list_each_expansion(cities):
    preview = cities.run("-P", "--why")
    assert "clean/lima.csv <- raw/lima.csv [missing output]" in preview.stdout
    assert "all.csv <- clean/lima.csv, clean/paris.csv, clean/tokyo.csv [missing output]" in preview.stdout
    printed = checked(cities.run("--print", "--json").stdout, "print")
    assert [s["outputs"] for s in printed["steps"]] == [
        ["clean/lima.csv"], ["clean/paris.csv"], ["clean/tokyo.csv"], ["all.csv"]]
    assert printed["steps"][1]["vars"]["city"] == "paris"
    graph = cities.run("--graph", "dot")
    assert graph.returncode == 0 and graph.stdout.count("clean/") >= 3


def test_placeholders_in_the_body_chains_and_constraints(project):
    project.workflow("""\
        clean/{city}_{year}.csv <- raw/{city}_{year}.csv [match:"year=[0-9]{4}"]
          echo "$[city] in $year" > $OUTPUT

        upper/{city}_{year}.txt <- clean/{city}_{year}.csv [python]
          open("$[OUTPUT]", "w").write(open("$[INPUT]").read().upper())

        all.txt <- upper/{c}_{y}.txt
          cat $INPUTS > $OUTPUT
        """)
    for name in ("paris_2025", "paris_2026", "oslo_2026", "oslo_draft"):
        project.write(f"raw/{name}.csv", "x\n")
    _ran(project.run())
    assert project.read("all.txt") == "OSLO IN 2026\nPARIS IN 2025\nPARIS IN 2026\n"
    assert not project.exists("clean/oslo_draft.csv")


def test_hash_mode_no_op_after_a_touch(cities):
    _ran(cities.run("--check", "hash"))
    (cities.path / "raw/paris.csv").touch()
    assert cities.run("--check", "hash").stdout == "Nothing to do.\n"


def test_a_pattern_over_s3(project, bucket):
    for city in ("paris", "tokyo"):
        bucket.put(f"raw/{city}.csv", f"h\n{city}\n")
    project.workflow(f"""\
        clean/{{city}}.csv <- s3://{bucket.name}/raw/{{city}}.csv [+local]
          tail -n +2 $INPUT > $OUTPUT

        s3://{bucket.name}/all.csv <- clean/{{c}}.csv [+local]
          cat $INPUTS > $OUTPUT
        """)
    _ran(project.run("--check", "hash", env=bucket.env))
    assert bucket.read("all.csv") == "paris\ntokyo\n"
    listings = [r for r in bucket.server.requests(bucket.name) if r.method == "GET" and "list-type" in r.query]
    before = len(listings)
    assert project.run("--check", "hash", env=bucket.env).stdout == "Nothing to do.\n"
    assert bucket.get_objects().count("raw/paris.csv") == 1  # staged once, never again to decide
    after = [r for r in bucket.server.requests(bucket.name) if r.method == "GET" and "list-type" in r.query]
    assert len(after) - before <= 3  # the pattern's prefix and the stamps: listings, not per-object calls


def test_a_pattern_step_in_a_daily_schedule(project):
    project.workflow("""\
        %schedule daily start:2026-11-01

        clean/$[DATE]/{city}.csv <- raw/$[DATE]/{city}.csv
          cat $INPUT > $OUTPUT

        report/$[DATE].csv <- clean/$[DATE]/{city}.csv
          cat $INPUTS > $OUTPUT
        """)
    for day, cities in (("2026-11-01", ("paris",)), ("2026-11-02", ("paris", "lima"))):
        for city in cities:
            project.write(f"raw/{day}/{city}.csv", f"{city} {day}\n")
    result = project.run("--once", "--now", "2026-11-03T01:00")
    assert result.returncode == 0, result.stderr
    assert project.read("report/2026-11-01.csv") == "paris 2026-11-01\n"
    assert project.read("report/2026-11-02.csv") == "lima 2026-11-02\nparis 2026-11-02\n"


@pytest.mark.parametrize("text, where, message", [
    ("clean/{city}.csv <- raw/{city}.csv, ref/{x}.csv\n  x\n", "Drakefile:1:37",
     "placeholder {x} is in an input but in no output"),
    ("a/{c}.csv, b.csv <- raw/{c}.csv\n  x\n", "Drakefile:1:12",
     "every output of a pattern step must name the same placeholders ({c})"),
    ("all.csv <- nothing/{x}.csv\n  x\n", "Drakefile:1:12",
     "pattern nothing/{x}.csv matches no file and no step makes one"),
    ("d/{c}.csv <- raw/{c}.csv\n  x\nd/{e}.csv <- raw/{e}.csv\n  x\n", "Drakefile:3:1",
     "duplicated outputs: d/paris.csv (step at Drakefile:1:1 writes it too)"),
    ("c/{x}.csv <- raw/{x}.csv [match:x]\n  x\n", "Drakefile:1:1", "match: expected NAME=REGEX, got 'x'"),
])
def test_pattern_mistakes_are_located(project, text, where, message):
    project.write("Drakefile", text, dedent=False)
    _raw(project, "paris")
    result = project.run("-P")
    assert result.returncode == 2
    assert result.stderr.startswith(f"{where}: error: {message}"), result.stderr
    assert "Traceback" not in result.stderr


def test_a_merge_over_more_names_than_the_environment_holds_reads_a_list_file(project):
    long = "x" * 60
    for i in range(2500):  # 2,500 names of ~70 bytes: INPUTS would be ~175 KiB, over the kernel's 128 KiB
        project.write(f"parts/{long}{i:04d}.txt", f"{i}\n")
    project.workflow("""\
        count.txt <- parts/{name}.txt
          xargs cat < $INPUTS_FILE | wc -l > $OUTPUT

        broken.txt <- parts/{name}.txt
          cat $INPUTS > $OUTPUT
        """)
    result = project.run("count.txt")
    assert result.returncode == 0, result.stderr
    assert project.read("count.txt").strip() == "2500"
    broken = project.run("broken.txt")
    assert broken.returncode == 1
    assert "$INPUTS lists more names than one environment variable may hold" in broken.stderr
    assert "read them from $INPUTS_FILE" in broken.stderr


def test_pattern_expansions_run_on_a_dask_cluster(cities):
    built = cities.run("-j2", "--executor", "dask", "--json")
    assert built.returncode == 0, built.stderr
    assert len(checked(built.stdout, "build")["ran"]) == 4  # three expansions and the merge
    assert sorted(cities.read("all.csv").splitlines()) == ["lima", "paris", "tokyo"]
    _raw(cities, "oslo")  # a new file: its own expansion and the merge, on the cluster again
    again = cities.run("-j2", "--executor", "dask", "--json")
    assert again.returncode == 0, again.stderr
    assert len(checked(again.stdout, "build")["ran"]) == 2
    assert sorted(cities.read("all.csv").splitlines()) == ["lima", "oslo", "paris", "tokyo"]
