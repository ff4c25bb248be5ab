"""A bad command line is one `datamake: error:` line and exit 2, never a usage block or traceback."""


def test_unknown_flag_is_one_line(project):
    project.workflow("out.txt <-\n  echo x > $OUTPUT\n")
    done = project.run("--bogus")
    assert (done.returncode, done.stderr) == (2, "datamake: error: unrecognized arguments: --bogus\n")


def test_bad_jobs_value_is_one_line(project):
    project.workflow("out.txt <-\n  echo x > $OUTPUT\n")
    done = project.run("-j", "0")
    assert (done.returncode, done.stderr) == (2, "datamake: error: argument -j/--jobs: must be at least 1: 0\n")


def test_missing_workflow_names_the_file(project):
    done = project.run("-w", "nowhere/Drakefile")
    assert done.returncode == 2
    assert done.stderr == ("datamake: error: workflow not found: nowhere/Drakefile "
                           "(use -w FILE or run where a Drakefile is)\n")


def test_tag_steps_are_named_with_their_percent_sign(project):
    project.workflow("%push <-\n  echo pushed\n")
    done = project.run("%push")
    assert done.returncode == 0, done.stderr
    assert "--- 0. Running (via tag): %push" in done.stdout
