"""Hash mode and a rewrite that keeps size, inode and mtime (one timestamp tick): git's racy-clean case."""
from __future__ import annotations

import json
import os
import time


def test_a_same_size_rewrite_within_the_hashed_tick_is_seen(project):
    project.workflow("out.txt <- in.txt\n  cp $INPUT $OUTPUT\n")
    tick = (int(time.time()) + 10) * 10**9  # a whole-second stamp, not safely older than any hash taken now
    inp = project.write("in.txt", "aaaa\n")
    os.utime(inp, ns=(tick, tick))
    assert project.run("--check", "hash").returncode == 0
    with open(inp, "r+") as handle:  # rewritten in place: same inode, same size, then the same stamp
        handle.write("bbbb\n")
    os.utime(inp, ns=(tick, tick))
    done = project.run("--check", "hash", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["ran"] == [0]
    assert project.read("out.txt") == "bbbb\n"
