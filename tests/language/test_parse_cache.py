"""The on-disk syntax cache: a big workflow's second run reads its parse from the user cache dir."""
import json
import marshal
import os

from datamake.language import parser, parse_cache as syntax_cache


def big_workflow(steps: int = 1500) -> str:
    """Every kind of item, then enough steps to pass the cache's size threshold."""
    head = [
        "; a comment",
        "NAME=world",
        "EMPTY=",
        "KEEP:=$[NAME]",
        "%schedule daily start:2026-01-01",
        "greet() [python]",
        "  print('hi')",
        "",
        "  print('after a blank line')",
        "%include more.drake",
        "tagged, %t <- ?opt.txt [-timecheck retries:2 timeout:5m]",
        "  echo $[OUTPUT0] > $OUTPUT",
        "    indented more",
    ]
    body = [f"out/{i}.txt <- in/{i}.txt, 'quoted {i}.txt'\n  cp $INPUT $OUTPUT  # step {i}" for i in range(steps)]
    return "\n".join(head) + "\n" + "\n".join(body) + "\n"


def entries(cache_home) -> list:
    folder = os.path.join(cache_home, "datamake", "syntax")
    return sorted(os.listdir(folder)) if os.path.isdir(folder) else []


def fresh_load(path):
    parser._CACHE.clear()  # the in-process cache would hide the disk
    return parser.parse_file(str(path))


def test_second_load_comes_from_the_cache_and_equals_a_parse(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "more.drake").write_text("X=1\n")
    path = tmp_path / "Drakefile"
    path.write_text(big_workflow())
    first = fresh_load(path)
    assert len(entries(tmp_path / "cache")) == 1
    second = fresh_load(path)
    assert second == first == parser.parse_text(path.read_text(), str(path))
    assert second is not first
    assert second.items[-1].body[0].loc.line == first.items[-1].body[0].loc.line


def test_the_entry_is_what_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "more.drake").write_text("X=1\n")
    path = tmp_path / "Drakefile"
    path.write_text(big_workflow())
    fresh_load(path)
    [name] = entries(tmp_path / "cache")
    entry = tmp_path / "cache" / "datamake" / "syntax" / name
    key, items = marshal.loads(entry.read_bytes())
    kind, outs, ins, opts, body, line, col = items[-1]
    items[-1] = (kind, outs, ins, opts, (("echo from the cache", body[0][1], body[0][2]),), line, col)
    entry.write_bytes(marshal.dumps((key, items)))
    assert fresh_load(path).items[-1].body[0].text == "echo from the cache"


def test_a_changed_file_is_parsed_again_even_with_its_old_size_and_mtime(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "more.drake").write_text("X=1\n")
    path = tmp_path / "Drakefile"
    text = big_workflow()
    path.write_text(text)
    fresh_load(path)
    before = os.stat(path)
    path.write_text(text.replace("cp $INPUT", "mv $INPUT"))  # same length
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    steps = [item for item in fresh_load(path).items if isinstance(item, parser.StepDecl)]
    assert steps[-1].body[0].text.startswith("mv $INPUT")


def test_an_unreadable_entry_is_ignored_and_replaced(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "more.drake").write_text("X=1\n")
    path = tmp_path / "Drakefile"
    path.write_text(big_workflow())
    expected = fresh_load(path)
    [name] = entries(tmp_path / "cache")
    entry = tmp_path / "cache" / "datamake" / "syntax" / name
    entry.write_bytes(b"\x00garbage")
    assert fresh_load(path) == expected
    assert entry.stat().st_size > 1000


def test_a_small_file_is_cached_too_and_a_rewrite_at_once_is_seen(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = tmp_path / "Drakefile"
    path.write_text("a <- b\n  true\n")
    assert fresh_load(path).items[0].body[0].text == "true"
    assert len(entries(tmp_path / "cache")) == 1
    path.write_text("a <- b\n  echo\n")  # same size, most likely the same timestamp tick
    assert fresh_load(path).items[0].body[0].text == "echo"
    assert len(entries(tmp_path / "cache")) == 1


def test_the_folder_keeps_only_the_newest_entries(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(syntax_cache, "MAX_ENTRIES", 3)
    for i in range(5):
        path = tmp_path / f"w{i}.drake"
        path.write_text(f"out{i} <-\n  true\n")
        fresh_load(path)
        folder = tmp_path / "cache" / "datamake" / "syntax"
        for n, entry in enumerate(sorted(folder.iterdir(), key=os.path.getmtime)):
            os.utime(entry, (1_000_000 + n, 1_000_000 + n))  # written in this order, seconds apart
    assert len(entries(tmp_path / "cache")) == 3
    assert fresh_load(tmp_path / "w4.drake").items[0].outputs[0].value == "out4"
    kept = {marshal.loads(p.read_bytes())[0][1] for p in (tmp_path / "cache" / "datamake" / "syntax").iterdir()}
    assert kept == {str(tmp_path / f"w{i}.drake") for i in (2, 3, 4)}


def test_cached_runs_print_and_fail_like_parsed_ones(project, tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    project.write("more.drake", "X=1\n")
    project.workflow(big_workflow() + "bad <- in/0.txt\n  echo $[INPUT3]\n")
    runs = [project.run("-P", env=env) for _ in range(2)]
    assert runs[0].returncode == runs[1].returncode == 2
    assert runs[0].stderr == runs[1].stderr == (
        "Drakefile:3015:8: error: $[INPUT3] is out of range: the step has 1 input\n  echo $[INPUT3]\n       ^\n")
    assert len(entries(tmp_path / "cache")) == 2  # the Drakefile and more.drake
    project.workflow(big_workflow(1500))
    printed = [json.loads(project.run("-p", "--json", env=env).stdout) for _ in range(2)]
    assert printed[0] == printed[1] and len(printed[0]["steps"]) == 1501
