"""Previews (-P, --graph) only read the state directory; only a real run sets a bad database aside."""
import os

import pytest

WORKFLOW = """\
    out.txt <- in.txt
      cp $INPUT $OUTPUT
    """


def listing(project):
    root = project.path / ".datamake"
    return sorted((str(p.relative_to(root)), p.stat().st_mtime_ns) for p in root.rglob("*"))


@pytest.fixture
def built(project):
    project.workflow(WORKFLOW)
    project.write("in.txt", "1\n")
    assert project.run().returncode == 0
    return project


@pytest.mark.parametrize("preview", [["-P"], ["-P", "--why", "--json"], ["--graph", "text"]])
def test_a_preview_of_a_corrupt_database_warns_and_leaves_it_in_place(built, preview):
    db = built.path / ".datamake" / "state.db"
    db.write_bytes(b"not a database" * 100)
    before = listing(built)
    done = built.run(*preview)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("datamake: warning: state database") == 1
    assert "unreadable" in done.stderr and "treated as empty" in done.stderr
    assert listing(built) == before
    assert db.read_bytes() == b"not a database" * 100
    ran = built.run()  # the run sets it aside and rebuilds
    assert ran.returncode == 0
    assert "moved aside" in ran.stderr
    assert db.read_bytes() != b"not a database" * 100


def test_a_preview_reads_the_records_without_writing(built):
    before = listing(built)
    os.utime(built.path / "in.txt", (1, 1))
    assert built.run("-P").stdout == "Nothing to do.\n"
    built.write("Drakefile", WORKFLOW.replace("cp", "cat $INPUT >"))
    assert "[command changed]" in built.run("-P").stdout
    assert "command changed" in built.run("--graph", "text").stdout
    assert listing(built) == before


def test_a_preview_creates_no_state_directory(project):
    project.workflow(WORKFLOW)
    project.write("in.txt", "1\n")
    assert "[missing output]" in project.run("-P").stdout
    assert project.run("--graph", "dot").returncode == 0
    assert not project.exists(".datamake")
