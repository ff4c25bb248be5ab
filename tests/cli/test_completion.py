"""Shell completion: scripts for bash, zsh and fish; flags and target names completed without running anything."""
import pytest

WORKFLOW = """\
    STAMP := $(touch marker && echo stamp)
    fetch()
      echo fetched > $OUTPUT
    out/report.csv, %daily <- [method:fetch]
    out/raw.json <-
      echo > $OUTPUT
    out/$[STAMP].txt <-
      echo > $OUTPUT
    """


def complete(project, line: str) -> list[str]:
    """What the shell gets for TAB at the end of `line` (argcomplete's protocol, bash flavour)."""
    answer = project.path / ".completions"
    done = project.run(env={"_ARGCOMPLETE": "1", "COMP_LINE": line, "COMP_POINT": str(len(line)),
                            "_ARGCOMPLETE_STDOUT_FILENAME": str(answer)})
    assert done.returncode == 0, done.stderr
    return answer.read_text().split("\013")


@pytest.mark.parametrize("shell, marker", [("bash", "complete -o"), ("zsh", "compdef"), ("fish", "complete --command")])
def test_each_shell_gets_a_script(project, shell, marker):
    done = project.run("--completion", shell)
    assert done.returncode == 0 and marker in done.stdout and "datamake" in done.stdout


def test_targets_tags_and_methods_complete_and_no_command_runs(project):
    project.workflow(WORKFLOW)
    assert complete(project, "datamake out/") == ["out/report.csv", "out/raw.json"]
    assert complete(project, "datamake -j2 ^out/ra") == ["^out/raw.json "]
    assert complete(project, "datamake %") == ["%daily "]
    assert complete(project, "datamake fe") == ["fetch\\(\\) "]
    assert complete(project, "datamake --chec") == ["--check "]
    assert not project.exists("marker")


def test_a_broken_workflow_completes_nothing(project):
    project.workflow("a <- <-\n  echo\n")
    assert project.run("--lint").returncode == 2
    assert complete(project, "datamake a") == [""]
