"""The no-op proof: what a build with nothing left to do depended on, so that the same command, run
again with nothing changed, answers "Nothing to do." from one stat per file, without loading anything.

A build that ends with nothing left to do writes the proof (cli/cmd_build); the entry point checks it
before importing the rest of datamake. It holds:
- the command: its arguments, directory and environment, the Python and datamake's own code files;
- a digest of each file the workflow's text came from (the workflow, its includes, datamake.cfg);
- what each pattern step's glob found: the stat of the one folder it lists (an entry added, removed or
  renamed there changes the folder's mtime) or, for a folder changed within the last two seconds or a
  wildcard above the last segment, the names it matched;
- the stat (mtime in ns, size, inode) of every local file a step reads or makes, and of the state
  database, taken before and after the build's last decision and equal in both.
If any of it differs, the command runs in full, as it would have. This is ninja's no-op (one stat per
file against a log read in one go); the proof only ever skips work the full decision would also skip.
Like make, it trusts a stat: a file rewritten in place with the same size within one timestamp tick
looks unchanged, as it does to the timestamp check itself (hash mode refuses such racy files).

This module imports only the standard library and xxhash: it runs before everything else.
"""
from __future__ import annotations

import fcntl
import marshal
import os
import sys
import time
from stat import S_ISDIR

import xxhash

from datamake import __version__

PROOF_FOLDER = "noop"  # in the state directory, `.datamake/` of the current directory: a proof per command
KEEP = 8  # proofs kept, the most recently written: one per command a person or a cron job repeats
_FORMAT = 2
_MISSING = (-1, -1, -1)
_VOLATILE_ENV = ("_", "OLDPWD")  # set by the shell per command; nothing a workflow reads
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATE_FILES = ("state.db", "state.db-wal")
_RACY_FOLDER_NS = 2_000_000_000  # a folder changed this recently may change again within its mtime's tick


def answer(argv: list[str]) -> int | None:
    """The exit code of `datamake ARGV` if a proof here shows it has nothing to do, else None."""
    try:
        with open(os.path.join(".datamake", PROOF_FOLDER, proof_name(argv)), "rb") as handle:
            proof = marshal.loads(handle.read())
        if not _holds(proof, argv):
            return None
    except Exception:  # no proof, a foreign or truncated one, a file gone mid-check: run in full
        return None
    try:
        sys.stdout.write(proof[2])  # what the full command prints for a no-op: "Nothing to do." or, quiet, nothing
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    return 0


def _holds(proof: tuple, argv: list[str]) -> bool:
    form, key, _said, code, sources, globs, names, stamps = proof
    return (form == _FORMAT and key == command_key(argv) and not _locked()
            and all(_stamp(path) == stamp for path, stamp in code)
            and all(digest(path) == known for path, known in sources)
            and all(_same_matches(*listed) for listed in globs)
            and [_stamp(name) for name in names] == stamps)


def _same_matches(pattern: str, folder: str | None, known) -> bool:
    if folder is not None:
        return _stamp(folder) == known
    import glob  # only for a listing the folder's stat cannot vouch for: glob's imports cost milliseconds

    return sorted(glob.glob(pattern)) == known


def _listing(pattern: str, found: list[str], now_ns: int) -> tuple[str, str | None, object]:
    """How a pattern's matches are checked again: (pattern, its folder, the folder's stamp) when one
    folder's entries decide them, else (pattern, None, the matches)."""
    folder = os.path.dirname(pattern)
    if not any(magic in folder for magic in "*?["):
        stamp = _stamp(folder or os.curdir)
        if stamp != _MISSING and stamp[0] < now_ns - _RACY_FOLDER_NS:
            return (pattern, folder or os.curdir, stamp)
    return (pattern, None, found)


def proof_name(argv: list[str]) -> str:
    return xxhash.xxh3_64_hexdigest("\0".join(without_jobs(argv)).encode("utf-8", "surrogateescape"))


def without_jobs(argv: list[str]) -> list[str]:
    """The arguments minus `-j N` (`-jN`, `--jobs N`, `--jobs=N`): how many run at once decides nothing."""
    kept, skip = [], False
    for n, arg in enumerate(argv):
        if skip:
            skip = False
        elif arg == "--":  # the rest are targets, whatever they look like
            return kept + argv[n:]
        elif arg in ("-j", "--jobs"):
            skip = True
        elif not (arg.startswith("--jobs=") or (arg.startswith("-j") and arg[2:].isdigit())):
            kept.append(arg)
    return kept


def command_key(argv: list[str]) -> tuple:
    """Everything about the command that can change what the workflow means."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k not in _VOLATILE_ENV))
    return (tuple(without_jobs(argv)), os.getcwd(), env, sys.prefix, sys.hexversion, __version__)


def _locked() -> bool:
    """True while another datamake holds the state directory (its full run would say so)."""
    try:
        fd = os.open(os.path.join(".datamake", "lock"), os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except OSError:
        return True
    finally:
        os.close(fd)  # drops the shared lock at once


def _stamp(path: str, folders: list[str] | None = None) -> tuple[int, int, int]:
    """(mtime ns, size, inode), or _MISSING; a directory is added to `folders` when given."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return _MISSING
    if folders is not None and S_ISDIR(st.st_mode):
        folders.append(path)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def digest(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return xxhash.xxh3_128_hexdigest(handle.read())
    except FileNotFoundError:
        return None


class Observation:
    """The stamps of the files a decision depends on, taken before it; `prove` takes them again after."""

    def __init__(self, names: list[str], state_dir: str):
        self.steps_names = list(dict.fromkeys(names))
        self.names = [*self.steps_names, *(os.path.join(state_dir, f) for f in STATE_FILES)]
        self.state_dir = state_dir
        self.folders: list[str] = []  # step names that are directories, found by the same stat
        self.stamps = [_stamp(name, self.folders) for name in self.names]

    def directories(self) -> bool:
        """True when a step's name is a directory: its stamp is its newest file's, more than one stat."""
        return bool(self.folders)

    def racy(self, window_ns: int) -> bool:
        """True when a step's file changed within `window_ns` of now: it may change again unseen by its stat."""
        newest = max((stamp[0] for stamp in self.stamps[:len(self.steps_names)]), default=0)
        return newest > time.time_ns() - window_ns

    def prove(self, argv: list[str], said: str, sources: list[str], globs: dict[str, list[str]]) -> bool:
        """Write the proof if nothing changed since the observation; True when written."""
        if [_stamp(name) for name in self.names] != self.stamps:
            return False
        code = [(path, _stamp(path)) for path in _code_files()]
        listings = [_listing(pattern, found, time.time_ns()) for pattern, found in sorted(globs.items())]
        # Stamped first, matched again after: a name added since the build's own matching shows here,
        # one added later changes the folder's stamp.
        if not all(_same_matches(pattern, None, found) for pattern, found in sorted(globs.items())):
            return False
        proof = (_FORMAT, command_key(argv), said, code, [(path, digest(path)) for path in sources], listings,
                 self.names, self.stamps)
        folder = os.path.join(self.state_dir, PROOF_FOLDER)
        os.makedirs(folder, exist_ok=True)
        path = os.path.join(folder, proof_name(argv))
        temporary = f"{path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            marshal.dump(proof, handle)
        os.replace(temporary, path)
        _prune(folder)
        return True


def _prune(folder: str) -> None:
    """Keep the KEEP newest proofs: an old command's proof is only disk space."""
    entries = sorted(os.scandir(folder), key=lambda e: e.stat().st_mtime_ns, reverse=True)
    for entry in entries[KEEP:]:
        try:
            os.unlink(entry.path)
        except FileNotFoundError:
            pass  # another datamake pruned it first


def _code_files() -> list[str]:
    return sorted(os.path.join(root, name) for root, _dirs, files in os.walk(_PACKAGE)
                  for name in files if name.endswith(".py"))
