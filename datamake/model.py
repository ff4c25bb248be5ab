"""The parsed workflow as frozen dataclasses; every object carries its source location."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Union

from datamake.errors import SourceLocation, WorkflowError

PROTOCOLS = ("shell", "python", "ruby", "node", "R", "eval")
METHOD_MODES = ("use", "append", "replace")
CHECK_MODES = ("timestamp", "hash")

# Option name -> kind. "flag" options take +name/-name; the others take key:value.
KNOWN_OPTIONS: Mapping[str, str] = MappingProxyType(
    {
        "protocol": "str",
        "method": "str",
        "method-mode": "str",
        "timecheck": "flag",
        "check": "str",
        "confirm": "flag",
        "retries": "int",
        "retry-delay": "duration",
        "retry-max-delay": "duration",
        "timeout": "duration",
        "atomic": "flag",
        "local": "flag",
        "resources": "str",
        "pool": "str",
        "wait": "duration",
        "depends-on-past": "flag",
        "poke": "duration",
        "drake": "flag",
        "match": "str",
        "priority": "int",
        "sla": "duration",
    }
)

OptionValue = Union[str, bool, int, float]

# A pattern step's placeholder in a file name: `clean/{city}.csv` (graph/patterns.py expands it).
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def is_url(name: str) -> bool:
    """True for `scheme://...` names (s3://, hdfs://, memory://, ...), which are never BASE-prefixed."""
    if "://" not in name:  # most names: decided without splitting
        return False
    head, sep, _ = name.partition("://")
    return bool(sep) and head.isascii() and head.replace("+", "").replace("-", "").isalnum()


@dataclass(frozen=True)
class Target:
    """One input or output file of a step.

    `name` is the matching key: an absolute, normalised local path, or a URL as written
    (minus `file:`). `written` is the text as it appeared in the workflow.
    """

    name: str
    written: str
    optional: bool = False
    loc: SourceLocation | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Options:
    """A step's options after method merging. `given` keeps what was written, for printing."""

    protocol: str = "shell"
    method: str | None = None
    method_mode: str = "use"
    timecheck: bool = True
    check: str | None = None
    confirm: bool = False
    retries: int = 0
    retry_delay: float = 1.0
    retry_max_delay: float = 3600.0  # the backoff doubles up to this
    timeout: float | None = None
    atomic: bool = True
    local: bool = False
    resources: str | None = None
    pool: str | None = None
    wait: float | None = None  # how long a scheduled interval waits for a late input (None: the schedule's)
    poke: float | None = None  # how often the long-running runner looks for it
    depends_on_past: bool = False  # in a schedule: runs only once the previous interval's run of it succeeded
    drake: bool = False  # Drake's semantics: $OUTPUT is the real name, shell without -e, outputs unchecked
    match: str | None = None  # a pattern step's constraints: "city=[a-z]+ year=[0-9]{4}"
    priority: int = 0  # higher first, among ready steps
    sla: float | None = None  # seconds after its interval's end by which the step should be done
    given: Mapping[str, OptionValue] = field(default_factory=lambda: MappingProxyType({}))


def backoff(delay: float, retries_before: int, cap: float) -> float:
    """The wait before a retry: `delay`, then twice as long each time, never more than `cap`."""
    return min(delay * 2 ** min(retries_before, 60), cap)


@dataclass(frozen=True)
class StepVar:
    """A reference to a step variable (INPUT0, OUTPUTS, ...) kept unresolved inside a body.

    Bodies keep these as placeholders so the runner can point `$[OUTPUT]` at the temporary
    name of an atomic output while `--print` shows the real one.
    """

    name: str


BodyPart = Union[str, StepVar]


@dataclass(frozen=True)
class Method:
    name: str
    options: Mapping[str, OptionValue]
    body: str
    loc: SourceLocation


@dataclass(frozen=True)
class Step:
    """One `outputs <- inputs [options]` step with its body, ready to decide and run."""

    index: int
    outputs: tuple[Target, ...]
    inputs: tuple[Target, ...]
    output_tags: tuple[str, ...]
    input_tags: tuple[str, ...]
    options: Options
    body_parts: tuple[BodyPart, ...]
    vars: Mapping[str, str]
    workdir: str
    loc: SourceLocation
    # Starting-scope variable names (e.g. DATE) that the header's names depend on.
    header_roots: frozenset[str] = frozenset()
    # A pattern step's expansion: placeholder -> value (`{city}` -> paris), also `$[city]` in its body.
    wildcards: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # A merge's inputs are every expansion of a pattern: the list itself is part of its command.
    merged_inputs: bool = False
    # What is wrong with its options or body: raised when the step is selected, not before.
    error: WorkflowError | None = None

    @property
    def protocol(self) -> str:
        return self.options.protocol

    @property
    def body(self) -> str:
        """The text that would run, with step variables naming the real targets."""
        parts = self.body_parts
        if len(parts) == 1 and type(parts[0]) is str:  # most bodies: one text, no $[INPUT] & co
            return parts[0]
        if all(type(p) is str for p in parts):
            return "".join(parts)
        return render_body(self.body_parts, self.step_vars())

    def step_vars(self, outputs: tuple[str, ...] | None = None,
                  inputs: tuple[str, ...] | None = None) -> dict[str, str]:
        """INPUT/INPUTn/INPUTS/INPUTN and OUTPUT... values; `outputs`/`inputs` override the paths."""
        ins = inputs if inputs is not None else tuple(relative_to(t.name, self.workdir) for t in self.inputs)
        outs = outputs if outputs is not None else tuple(relative_to(t.name, self.workdir) for t in self.outputs)
        values: dict[str, str] = {}
        for prefix, items in (("INPUT", ins), ("OUTPUT", outs)):
            values[prefix] = items[0] if items else ""
            for i, item in enumerate(items):
                values[f"{prefix}{i}"] = item
            values[f"{prefix}S"] = " ".join(item for item in items if item)  # a missing ?optional is left out
            values[f"{prefix}N"] = str(len(items))
        if self.wildcards:
            values.update(self.wildcards)
        return values

    def label(self) -> str:
        """A short human name: its outputs, else its tags, else its index."""
        try:  # asked about ten times per run of a step; made once (the step never changes)
            return self.__dict__["_label"]
        except KeyError:
            names = [relative_to(t.name, self.workdir) for t in self.outputs] + [f"%{tag}" for tag in self.output_tags]
            text = ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "") if names else \
                f"step {self.index}"
            self.__dict__["_label"] = text
            return text


def render_body(parts: tuple[BodyPart, ...], values: Mapping[str, str]) -> str:
    """Join body parts, resolving step-variable placeholders from `values`."""
    return "".join(p if isinstance(p, str) else values.get(p.name, "") for p in parts)


def workflow_directory(path: str) -> str:
    """Where a workflow's relative names, includes, BASE and `.datamake` live: its file's directory, or
    the current one for a workflow read from a pipe (`-w <(...)`, /dev/stdin), whose folder is the system's."""
    directory = os.path.dirname(path)
    if directory == "/dev" or directory.startswith(("/dev/", "/proc/")):
        return os.getcwd()
    return directory


def relative_to(name: str, directory: str) -> str:
    """A local path relative to `directory` when inside it; URLs and outside paths unchanged."""
    if not name.startswith(os.sep):  # relative, or a URL (a scheme never starts with a slash)
        return name
    if name == directory:
        return "."
    prefix = directory.rstrip(os.sep) + os.sep
    return name[len(prefix):] if name.startswith(prefix) else name


@dataclass(frozen=True)
class HookDecl:
    """`%on EVENT...` with its shell body: run on each matching event."""

    events: tuple[str, ...]
    command: str
    loc: SourceLocation


@dataclass(frozen=True)
class NotifyDecl:
    """`%notify URL on:EVENTS`: an apprise notifier. The URL may hold a secret: never printed."""

    url: str = field(repr=False)
    events: tuple[str, ...] = ()
    loc: SourceLocation | None = None


@dataclass(frozen=True)
class PoolDecl:
    """`%pool NAME SLOTS`: at most SLOTS steps of `[pool:NAME]` run at once, across a run's intervals."""

    name: str
    slots: int
    loc: SourceLocation


@dataclass(frozen=True)
class Workflow:
    """A whole evaluated workflow: its steps in file order and its schedule declaration."""

    path: str
    directory: str
    steps: tuple[Step, ...]
    methods: Mapping[str, Method] = field(default_factory=lambda: MappingProxyType({}))
    schedule: Mapping[str, str] | None = None  # from `%schedule SPEC key:value...`, e.g. {"spec": "daily", "start": ...}
    schedule_loc: SourceLocation | None = None
    # `%python steps.py` lines: modules whose `steps(flow)` adds steps (datamake.flow loads them).
    python_modules: tuple[tuple[str, SourceLocation], ...] = ()
    # Where each part of `%schedule` was written ("spec", "start", ...), for errors found later.
    schedule_locs: Mapping[str, SourceLocation] | None = None
    hooks: tuple[HookDecl, ...] = ()
    notifiers: tuple[NotifyDecl, ...] = ()
    pools: Mapping[str, PoolDecl] = field(default_factory=lambda: MappingProxyType({}))
    # What the evaluation read: the files of its text (this one, then each %include) and the text of each
    # $(command) it used. Not part of what the workflow means, so equal workflows may differ here.
    sources: tuple[str, ...] = field(default=(), compare=False)
    commands: tuple[str, ...] = field(default=(), compare=False)
    # The store.storage.Storage this load reads and writes through (its fsspec options), set by whoever
    # loaded it (the command line, datamake.load); None: the environment's options only.
    storage: Any = field(default=None, compare=False, repr=False)
