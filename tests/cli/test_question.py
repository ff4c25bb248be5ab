"""--question (make -q): exit 1 when a selected step is out of date, 0 when none is; nothing runs."""
NOW = "--now=2026-11-24T10:00:00Z"


def test_exit_codes_follow_freshness_and_nothing_runs(project):
    project.write("src", "1\n")
    project.workflow("""\
        a <- src
          cp $INPUT $OUTPUT
        b <- a
          cp $INPUT $OUTPUT
        """)
    first = project.run("--question")
    assert (first.returncode, first.stdout, first.stderr) == (1, "", "")
    assert not project.exists("a") and not project.exists(".datamake")
    assert project.run().returncode == 0
    assert project.run("--question").returncode == 0
    project.write("a", "changed\n")
    assert project.run("--question", "=a").returncode == 0  # `a` alone: newer than its input
    assert project.run("--question", "b").returncode == 1
    assert project.read("b") == "1\n"


def test_errors_still_exit_2(project):
    project.workflow("a <-\n  echo $[NOPE]\n")
    assert project.run("--question").returncode == 2


def test_a_schedule_is_out_of_date_while_an_interval_is_due(project):
    project.workflow("""\
        %schedule daily
        raw/$[DATE].json <-
          echo "raw $DATE" > $OUTPUT
        """)
    assert project.run("--question", NOW).returncode == 1
    assert not project.exists("raw")
    assert project.run("--once", NOW).returncode == 0
    assert project.run("--question", NOW).returncode == 0
    assert project.run("--question", "--now=2026-11-25T10:00:00Z").returncode == 1


def test_help_documents_every_exit_code(project):
    text = project.run("--help").stdout
    codes = text.split("exit codes:\n", 1)[1]
    for code in ("0", "1", "2", "3", "130, 143"):
        assert f"\n  {code}  " in "\n" + codes
    assert "--question" in codes and "internal error" in codes


def test_help_groups_every_flag_and_explains_each():
    from datamake.cli.parser import build_parser

    parser = build_parser()
    titles = [g.title for g in parser._action_groups]
    assert titles[2:] == ["selection", "build", "output", "graph", "executors and storage", "schedule", "alerts",
                          "operations"]
    for action in parser._actions:
        assert action.help, action.option_strings or action.dest
    assert "which recorded intervals to build again" in parser.format_help()
