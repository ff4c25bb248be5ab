"""Project defaults: datamake.cfg [defaults] and DATAMAKE_* variables, under the command line."""
import os

from jsonkit import checked

WORKFLOW = """\
    out.txt <- in.txt
      cp $INPUT $OUTPUT
    """


def built(project):
    project.workflow(WORKFLOW)
    project.write("in.txt", "1\n")
    assert project.run("--check", "hash").returncode == 0
    os.utime(project.path / "in.txt", (4e9, 4e9))  # touched, same bytes: stale by time, not by content
    return project


def settings(project, env=None) -> dict[str, dict]:
    """`--print-config --json`'s rows by setting name."""
    data = checked(project.run("--print-config", "--json", env=env).stdout, "config")
    return {row["name"]: row for row in data["settings"]}


def test_precedence_command_line_then_environment_then_file(project):
    built(project)
    assert project.run("--question").returncode == 1  # built-in default: timestamps
    project.write("datamake.cfg", "[defaults]\ncheck = hash\njobs = 3\n")
    assert project.run("--question").returncode == 0  # the file says hash
    env = {"DATAMAKE_CHECK": "timestamp"}
    assert project.run("--question", env=env).returncode == 1  # the environment beats the file
    assert project.run("--question", "--check", "hash", env=env).returncode == 0  # the command line beats both
    shown = project.run("--print-config", "-j", "2", env=env).stdout.splitlines()
    assert "check          = timestamp    ($DATAMAKE_CHECK)" in shown
    assert "jobs           = 2            (command line)" in shown
    assert "executor       = local        (default)" in shown


def test_print_config_json_names_the_file(project):
    project.workflow(WORKFLOW)
    project.write("in.txt", "1\n")
    project.write("datamake.cfg", "[defaults]\nstate-dir = elsewhere\nfail-fast = yes\n")
    data = checked(project.run("--print-config", "--json").stdout, "config")
    rows = {row["name"]: row for row in data["settings"]}
    where = f"{project.path / 'datamake.cfg'} [defaults]"
    assert rows["state-dir"] == {"name": "state-dir", "value": "elsewhere", "source": where, "env": "DATAMAKE_STATE_DIR"}
    assert rows["fail-fast"]["value"] is True
    assert project.run("--json", "-q").returncode == 0
    assert (project.path / "elsewhere" / "state.db").exists()


def test_bad_settings_are_one_line_errors(project):
    project.workflow(WORKFLOW)
    project.write("datamake.cfg", "[defaults]\njbos = 2\n")
    done = project.run("-P")
    assert done.returncode == 2
    assert done.stderr.startswith(f"datamake: error: {project.path / 'datamake.cfg'} [defaults]: unknown setting: "
                                  "jbos (did you mean jobs?)")
    project.write("datamake.cfg", "[defaults]\njobs = 0\n")
    assert "[defaults] jobs: must be at least 1: 0" in project.run("-P").stderr
    project.write("datamake.cfg", "")
    done = project.run("-P", env={"DATAMAKE_EXECUTOR": "spark"})
    assert done.returncode == 2 and "$DATAMAKE_EXECUTOR: 'spark' is not one of local, dask" in done.stderr


def test_hooks_and_notifiers_are_settings_and_a_notifier_url_is_never_shown(project):
    built(project)
    project.write("datamake.cfg", "[defaults]\non-success = echo ok >> hooked\n"
                                  "notify = json://user:s3cret@127.0.0.1:9/x\n")
    rows = settings(project)
    assert rows["on-success"]["value"] == ["echo ok >> hooked"]
    assert rows["notify"]["value"] == ["notifier 1 (json)"]
    assert "s3cret" not in project.run("--print-config").stdout


def test_a_repeatable_setting_takes_a_list_and_a_notifier_url_keeps_its_commas(project):
    built(project)
    project.write("datamake.cfg", "[defaults]\non-success =\n  cut -d, -f1 in.txt >> hooked\n  echo two >> hooked\n"
                                  "notify = mailto://u:p@127.0.0.1:9?to=a@x.org,b@y.org, json://127.0.0.1:9/x\n")
    rows = settings(project)
    assert rows["on-success"]["value"] == ["cut -d, -f1 in.txt >> hooked", "echo two >> hooked"]
    assert rows["notify"]["value"] == ["notifier 1 (mailto)", "notifier 2 (json)"]
    env = dict(os.environ, DATAMAKE_NOTIFY="json://127.0.0.1:9/a,json://127.0.0.1:9/b?x=1,2")
    assert settings(project, env)["notify"]["value"] == ["notifier 1 (json)", "notifier 2 (json)"]
