"""Common workflow mistakes, as the user meets them on the command line: one line, source, caret."""


def test_an_unindented_command_says_so(project):
    project.workflow("""\
        out.txt <- in.txt
        cp $INPUT $OUTPUT
        """)
    done = project.run("-P")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        "Drakefile:2:1: error: command not indented: indent the body of the step above "
        "(or write `outputs <- inputs` to start a new step)\n"
        "cp $INPUT $OUTPUT\n"
        "^\n")
    assert not project.exists(".datamake")
