"""Workflow text -> typed syntax items (lark LALR, imported only to parse), cached per file and on disk."""
from __future__ import annotations

import functools
import hashlib
import os
import stat
import threading
from pathlib import Path

from datamake.errors import SourceLocation, WorkflowError, remember_source
from datamake.language import parse_cache
from datamake.language.parse_errors import check_first_line, translate
from datamake.language.syntax import BodyLine, Include, Item, MethodDecl, ScheduleDecl, StepDecl, Syntax, Text, VarDef
from datamake.language.transform import Build

__all__ = ["BodyLine", "Include", "Item", "MethodDecl", "ScheduleDecl", "StepDecl", "Syntax", "Text", "VarDef",
           "grammar_text", "parse_file", "parse_text"]

_LOCK = threading.Lock()
_PARSER = None  # the lark.Lark parser, built at the first parse
_BUILD = None  # its transformer, told the path of each file it parses
_CACHE: dict[str, tuple[tuple[int, int], Syntax]] = {}
# Workflows that are not regular files (`-w <(...)`, a FIFO, /dev/stdin) can be read only once:
# their bytes are kept for the whole process, which may evaluate the workflow many times.
_STREAMS: dict[str, bytes] = {}
_BOM = "\ufeff"


@functools.lru_cache(maxsize=1)
def grammar_text() -> str:
    """The grammar: package data of `datamake.language`."""
    return (Path(__file__).resolve().parent / "grammar" / "workflow.lark").read_text(encoding="utf-8")


def _cache_file(grammar: str, lark_version: str) -> str | bool:
    """Where lark keeps the analysed grammar between runs: saves ~0.1 s per command."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(root, "datamake")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False  # no cache: lark analyses the grammar each time
    digest = hashlib.sha256(f"{grammar}{lark_version}".encode()).hexdigest()[:16]
    return os.path.join(folder, f"grammar-{digest}.lark")


def _parser():
    global _PARSER, _BUILD
    if _PARSER is None:
        import lark

        grammar = grammar_text()
        # lark checks the grammar's hash stored in the cache file, and rebuilds if it is unreadable.
        _BUILD = Build(lark.Token)
        _PARSER = lark.Lark(grammar, parser="lalr", lexer="contextual", transformer=_BUILD,
                            maybe_placeholders=False, cache=_cache_file(grammar, lark.__version__))
    return _PARSER


def parse_text(text: str, path: str) -> Syntax:
    """Parse workflow text into syntax items; errors are WorkflowErrors at their position."""
    import lark

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith(_BOM):  # an editor's byte-order mark, not part of the first name
        text = text[1:]
    remember_source(path, text)
    _check_nul(text, path)
    check_first_line(text, path)
    if not text.endswith("\n"):
        text += "\n"
    with _LOCK:
        parser = _parser()
        _BUILD.path = path
        try:
            items = parser.parse(text)
        except lark.exceptions.VisitError as exc:
            if isinstance(exc.orig_exc, WorkflowError):
                raise exc.orig_exc from None
            raise
        except lark.exceptions.UnexpectedInput as exc:
            raise translate(exc, text, path) from None
    return Syntax(path, tuple(items))


def _check_nul(text: str, path: str) -> None:
    """A NUL byte can be no part of a name, a command or a body (the system would cut it there)."""
    at = text.find("\0")
    if at >= 0:
        line = text.count("\n", 0, at) + 1
        col = at - text.rfind("\n", 0, at)
        raise WorkflowError("NUL byte in the workflow: remove it", SourceLocation(path, line, col))


def read_source(path: str) -> bytes:
    """The bytes of a workflow file; a pipe or FIFO is read once and remembered (see _STREAMS)."""
    if path in _STREAMS:
        return _STREAMS[path]
    with open(path, "rb") as handle:
        data = handle.read()
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            _STREAMS[path] = data
    return data


def decode_source(data: bytes, path: str) -> str:
    """Workflow bytes as text: UTF-8 only, so a stray byte is a located error, never a silent U+FFFD."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        remember_source(path, data.decode("utf-8", errors="replace"))
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        col = len(data[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        raise WorkflowError(f"invalid UTF-8 byte 0x{data[exc.start]:02x}: workflows are read as UTF-8 "
                            "(convert the file, e.g. with iconv)", SourceLocation(path, line, col)) from None


def parse_file(path: str, loc: SourceLocation | None = None) -> Syntax:
    """Parse a file, reusing the result while its mtime and size are unchanged.

    Parses are also cached on disk between runs, by content (see syntax_cache).
    """
    try:
        st = os.stat(path)
        key = (st.st_mtime_ns, st.st_size)
        cached = _CACHE.get(path)
        if cached and (cached[0] == key or path in _STREAMS):
            return cached[1]
        syntax = _parse_cached(path)
    except OSError as exc:
        raise WorkflowError(f"cannot read workflow {path}: {exc.strerror}", loc) from None
    _CACHE[path] = (key, syntax)
    return syntax


def _parse_cached(path: str) -> Syntax:
    """Parse through the on-disk cache: its entry when the key matches, else parse and store one."""
    data = read_source(path)
    entry = parse_cache.key(os.path.abspath(path), data, grammar_text())
    syntax = parse_cache.load(path, entry)
    if syntax is None:
        syntax = parse_text(decode_source(data, path), path)
        parse_cache.store(path, entry, syntax)
    return syntax
