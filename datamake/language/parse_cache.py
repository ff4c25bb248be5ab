"""An on-disk cache of parsed workflow files: a run after the first never imports lark.

The syntax of a file is a pure function of its bytes, the grammar and the parser's code, so
an entry is keyed by the file's absolute path and the hash of its bytes, datamake's version,
the grammar's hash, the Python version and the stat of the code that parses (lark's package
and datamake's syntax modules, so an upgrade or an edit invalidates it). Keying by content,
not by stat, means a rewrite within one timestamp tick can never look fresh. Evaluation still
runs each time (variables, `$(command)`), so caching never changes what a workflow means.
Entries are `marshal`ed tuples of plain values (fast to read); anything unreadable or stale
is ignored and the file is parsed again. The folder keeps the MAX_ENTRIES newest entries.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile

import xxhash

from datamake import __version__
from datamake.errors import SourceLocation
from datamake.language.syntax import (BodyLine, Directive, Include, MethodDecl, ScheduleDecl, StepDecl, Syntax, Text,
                                      VarDef)

MAX_ENTRIES = 500  # one per workflow file; the least recently written go first
_FORMAT = 3  # bump when the encoding or the key below changes

_STEP, _VAR, _METHOD, _INCLUDE, _SCHEDULE, _DIRECTIVE = range(6)


def cache_dir() -> str:
    """`$XDG_CACHE_HOME/datamake/syntax`, else `~/.cache/datamake/syntax`."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "datamake", "syntax")


def key(path: str, data: bytes, grammar: str) -> tuple:
    """Everything the syntax of the file at `path` holding `data` depends on."""
    return (_FORMAT, path, xxhash.xxh3_128_hexdigest(data), __version__, _grammar_digest(grammar),
            sys.hexversion, _code_stamp())


@functools.lru_cache(maxsize=1)
def _grammar_digest(grammar: str) -> str:
    return hashlib.sha256(grammar.encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=1)
def _code_stamp() -> tuple:
    """Size and mtime of the files whose code turns text into syntax (lark found without importing it)."""
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.find_spec("lark")
    files = [os.path.join(here, name) for name in ("syntax.py", "transform.py", "parse_cache.py")]
    files.append(spec.origin if spec and spec.origin else "")
    stamp = []
    for name in files:
        try:
            st = os.stat(name)
            stamp.append((st.st_size, st.st_mtime_ns))
        except OSError:
            stamp.append(None)
    return tuple(stamp)


def load(path: str, entry_key: tuple) -> Syntax | None:
    """The cached syntax of the file (its locations naming it `path`) if an entry has exactly this key."""
    try:
        with open(_entry_path(entry_key), "rb") as handle:
            stored_key, items = marshal.loads(handle.read())  # load(handle) reads in small pieces: slow
        if stored_key != entry_key:
            return None
        return Syntax(path, tuple(_decode(items, path)))
    except Exception:  # a missing, truncated or foreign entry: parse instead
        return None


def store(path: str, entry_key: tuple, syntax: Syntax) -> None:
    """Write the entry atomically (a concurrent reader sees the old one or the new one); never fails."""
    target = _entry_path(entry_key)
    try:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                marshal.dump((entry_key, [_encode(item) for item in syntax.items]), handle)
            os.replace(tmp, target)
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(os.path.dirname(target))
    except OSError:
        pass  # a read-only or full cache only costs the next run a parse


def _prune(folder: str) -> None:
    """Keep the MAX_ENTRIES newest entries; another process may be pruning too."""
    with os.scandir(folder) as found:
        entries = [(e.stat().st_mtime_ns, e.path) for e in found if e.name.endswith(".bin")]
    if len(entries) <= MAX_ENTRIES:
        return
    entries.sort()
    for _mtime, old in entries[:len(entries) - MAX_ENTRIES]:
        try:
            os.unlink(old)
        except FileNotFoundError:
            pass


def _entry_path(entry_key: tuple) -> str:
    """One entry per workflow file, named after its absolute path."""
    name = hashlib.sha256(entry_key[1].encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return os.path.join(cache_dir(), name + ".bin")


def _texts(texts) -> tuple:
    return tuple((t.value, t.line, t.col) for t in texts)


def _encode(item) -> tuple:
    """A syntax item as a tuple of plain values; every location in it is in the file itself."""
    kind = type(item)
    if kind is StepDecl:
        body = tuple((b.text, b.line, b.col) for b in item.body)
        return (_STEP, _texts(item.outputs), _texts(item.inputs), _texts(item.options), body,
                item.loc.line, item.loc.col)
    if kind is VarDef:
        value = None if item.value is None else (item.value.value, item.value.line, item.value.col)
        return (_VAR, item.name, value, item.conditional, item.loc.line, item.loc.col)
    if kind is MethodDecl:
        body = tuple((b.text, b.line, b.col) for b in item.body)
        return (_METHOD, item.name, _texts(item.options), body, item.loc.line, item.loc.col)
    if kind is Include:
        path = (item.path.value, item.path.line, item.path.col)
        return (_INCLUDE, item.kind, path, item.loc.line, item.loc.col)
    if kind is Directive:
        body = tuple((b.text, b.line, b.col) for b in item.body)
        return (_DIRECTIVE, item.name, _texts(item.args), body, item.loc.line, item.loc.col)
    return (_SCHEDULE, _texts(item.args), item.loc.line, item.loc.col)


def _decode(items: list, path: str):
    """Rebuild the syntax items; steps, by far the most common, take the shortest path."""
    new = tuple.__new__
    for raw in items:
        if raw[0] == _STEP:
            _, outs, ins, opts, body, line, col = raw
            yield new(StepDecl, (
                tuple([new(Text, (v, path, ln, c)) for v, ln, c in outs]),
                tuple([new(Text, (v, path, ln, c)) for v, ln, c in ins]),
                tuple([new(Text, (v, path, ln, c)) for v, ln, c in opts]),
                tuple([new(BodyLine, (t, path, ln, c)) for t, ln, c in body]),
                SourceLocation(path, line, col)))
        else:
            yield _decode_other(raw, path)


def _decode_other(raw: tuple, path: str):
    kind, *fields = raw
    loc = SourceLocation(path, fields[-2], fields[-1])

    def texts(values):
        return tuple(Text(v, path, ln, c) for v, ln, c in values)

    if kind == _VAR:
        name, value, conditional = fields[:3]
        return VarDef(name, None if value is None else Text(value[0], path, value[1], value[2]), conditional, loc)
    if kind == _METHOD:
        name, options, body = fields[:3]
        return MethodDecl(name, texts(options), tuple(BodyLine(t, path, ln, c) for t, ln, c in body), loc)
    if kind == _INCLUDE:
        include_kind, (value, ln, c) = fields[:2]
        return Include(include_kind, Text(value, path, ln, c), loc)
    if kind == _SCHEDULE:
        return ScheduleDecl(texts(fields[0]), loc)
    if kind == _DIRECTIVE:
        name, args, body = fields[:3]
        return Directive(name, texts(args), tuple(BodyLine(t, path, ln, c) for t, ln, c in body), loc)
    raise ValueError(f"unknown syntax item kind {kind}")
