"""Syntax items + starting variables -> model.Workflow: scope, includes, methods, names, bodies."""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

from datamake.errors import ScheduleDeclError, SourceLocation, WorkflowError
from datamake.language.expand import NOT_RUN, SPECIAL, Scope, at, did_you_mean, expand
from datamake.model import PLACEHOLDER, Method, Step, StepVar, Target, Workflow, is_url, workflow_directory
from datamake.language.parser import parse_file
from datamake.language.operations import Operations
from datamake.language.syntax import BodyLine, Directive, Include, MethodDecl, ScheduleDecl, StepDecl, Syntax, VarDef
from datamake.language.options import Given, build_options, parse_options

# `%schedule SPEC key:value...`: the keys it knows (every:PERIOD is a SPEC).
SCHEDULE_KEYS = ("start", "end", "tz", "catchup", "wait", "poke", "keep", "sla")

_STEP_VAR = re.compile(r"(INPUT|OUTPUT)(S|N|\d+)?\Z")
_DEFAULT_OPTIONS = build_options({})
_NO_ROOTS: frozenset[str] = frozenset()
_BODY_VAR = re.compile(r"\$\[([A-Za-z0-9_-]+)\]")
MAX_INCLUDE_DEPTH = 100  # far beyond any real project; deeper is a runaway chain of includes
NAME_MAX, PATH_MAX = 255, 4096  # bytes, as on Linux: longer names fail at the first stat


@dataclass(frozen=True)
class _Place:
    """Where the items being evaluated come from and where their steps run."""

    path: str
    workdir: str
    chain: tuple[str, ...]  # include chain, for cycle detection


@dataclass(frozen=True)
class _MethodDef:
    """A method as written: options and body are expanded at each call site."""

    decl: MethodDecl
    public: Method


def evaluate(path: str, syntax: Syntax, variables: Mapping[str, str], base: str | None,
             run_commands: bool = True) -> Workflow:
    """Evaluate a parsed main workflow with the starting scope env < variables < BASE.

    With `run_commands` False no `$(command)` runs: each becomes a stand-in (see expand.run_command)
    and an `%include` whose path needs one is not followed.
    """
    directory = workflow_directory(path)
    values = dict(os.environ)
    from_env = set(values)
    values.update(variables)
    from_env.difference_update(variables)
    values["BASE"] = (base if is_url(base) else os.path.abspath(base)) if base else directory
    from_env.discard("BASE")
    scope = Scope(values, {name: frozenset((name,)) for name in values}, from_env, {}, run_commands)
    ev = _Evaluator()
    ev.run(syntax, scope, _Place(path, directory, (path,)))
    methods = {name: m.public for name, m in scope.methods.items()}
    return Workflow(path=path, directory=directory, steps=tuple(ev.steps), methods=MappingProxyType(methods),
                    schedule=ev.schedule, schedule_loc=ev.schedule_loc,
                    schedule_locs=ev.schedule_locs, python_modules=tuple(ev.modules), **ev.ops.fields(),
                    sources=(path, *ev.sources), commands=tuple(scope.commands))


# `$[NAME-A..B]`: a window over numbered variables, NAME-A (oldest) to NAME-B; NAME-0 is NAME itself.
_WINDOW = re.compile(r"\$\[([A-Za-z_][A-Za-z0-9_]*)-(\d+)\.\.(\d+)\]")


def _windows(texts):
    """Each written name, a name holding a window `$[DATE-6..0]` as one name per value, oldest first."""
    for text in texts:
        found = _WINDOW.search(text.value) if ".." in text.value else None
        if found is None:
            yield text
            continue
        name, first, last = found.group(1), int(found.group(2)), int(found.group(3))
        if first < last or _WINDOW.search(text.value, found.end()):
            raise WorkflowError(f"bad window {found.group()}: write $[{name}-A..B] with A >= B, one per name "
                                f"(e.g. $[{name}-6..0] for the last 7)", _loc_in(text, found.start()))
        for k in range(first, last - 1, -1):
            ref = f"$[{name}-{k}]" if k else f"$[{name}]"
            yield text._replace(value=text.value[:found.start()] + ref + text.value[found.end():])


def _loc_in(text, offset: int) -> SourceLocation:
    return SourceLocation(text.path, text.line, text.col + offset)


class _Evaluator:
    """Walks syntax items in order, collecting steps (numbered in file order) and the schedule."""

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.schedule: dict[str, str] | None = None
        self.schedule_loc: SourceLocation | None = None
        self.schedule_locs: dict[str, SourceLocation] | None = None
        self.modules: list[tuple[str, SourceLocation]] = []
        self.sources: list[str] = []  # included files, in the order read
        self.ops = Operations()

    def run(self, syntax: Syntax, scope: Scope, place: _Place) -> None:
        for item in syntax.items:
            if type(item) is StepDecl:
                self.steps.append(self.step(item, scope, place))
            elif type(item) is VarDef:
                self.vardef(item, scope, place)
            elif type(item) is MethodDecl:
                self.method(item, scope)
            elif type(item) is Include:
                self.include(item, scope, place)
            elif type(item) is Directive:
                self.ops.add(item, lambda text: expand(text.value, text.loc, scope, place.workdir)[0])
            else:
                self.schedule_decl(item, scope, place)

    def vardef(self, item: VarDef, scope: Scope, place: _Place) -> None:
        if item.conditional and scope.values.get(item.name):
            return  # `:=` keeps a non-empty value and never evaluates its own
        if item.value is None:
            scope.set(item.name, "", frozenset())
            return
        value, roots = expand(item.value.value, item.value.loc, scope, place.workdir)
        scope.set(item.name, value, roots)

    def method(self, item: MethodDecl, scope: Scope) -> None:
        # An empty method is allowed (as in Drake); a step using it is an error once selected.
        written = parse_options(item.options, lambda raw, loc: raw)  # checked here, expanded per call
        body = "\n".join(line.text for line in item.body)
        public = Method(item.name, MappingProxyType({k: v for k, (v, _) in written.items()}), body, item.loc)
        scope.methods[item.name] = _MethodDef(item, public)

    def include(self, item: Include, scope: Scope, place: _Place) -> None:
        written, roots = expand(item.path.value, item.path.loc, scope, place.workdir)
        if NOT_RUN in roots:
            return  # its name comes from a $(command) that was not run: nothing to follow
        path = os.path.normpath(os.path.join(workflow_directory(place.path), written))
        if path in place.chain:
            cycle = " -> ".join(os.path.basename(p) for p in place.chain + (path,))
            raise WorkflowError(f"include cycle: {cycle}", item.loc)
        if len(place.chain) > MAX_INCLUDE_DEPTH:
            raise WorkflowError(f"%{item.kind} nested more than {MAX_INCLUDE_DEPTH} files deep", item.loc)
        if not os.path.isfile(path):
            raise WorkflowError(f"%{item.kind} file not found: {written}", item.path.loc)
        if item.kind == "python":  # imported by the loader, after evaluation (language runs no Python)
            self.modules.append((path, item.path.loc))
            return
        syntax = parse_file(path, item.path.loc)
        self.sources.append(path)
        workdir = os.path.dirname(path) if item.kind == "context" else place.workdir
        inner = _Place(path, workdir, place.chain + (path,))
        if item.kind == "call":
            self.run(syntax, scope.copy(), inner)
        elif item.kind == "context":
            self._in_context(syntax, scope, inner)
        else:
            self.run(syntax, scope, inner)

    def _in_context(self, syntax: Syntax, scope: Scope, place: _Place) -> None:
        """%context: names resolve and steps run in the file's directory; BASE comes back after."""
        saved = (scope.values["BASE"], scope.roots["BASE"])
        scope.set("BASE", place.workdir, saved[1])
        self.run(syntax, scope, place)
        scope.set("BASE", *saved)

    def schedule_decl(self, item: ScheduleDecl, scope: Scope, place: _Place) -> None:
        spec: list[str] = []
        fields: dict[str, str] = {}
        locs: dict[str, SourceLocation] = {}
        for arg in item.args:
            value, _ = expand(arg.value, arg.loc, scope, place.workdir)
            key, sep, rest = value.partition(":")
            if sep and key == "every":  # every:30m is the schedule itself
                spec.append(value)
                locs.setdefault("spec", arg.loc)
            elif sep and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
                if key not in SCHEDULE_KEYS:
                    close = did_you_mean(key, SCHEDULE_KEYS) or f" (known keys: {', '.join(SCHEDULE_KEYS)})"
                    raise ScheduleDeclError(f"unknown %schedule key: {key}{close}", arg.loc)
                fields[key] = rest
                locs[key] = arg.loc
            else:
                spec.append(value)
                locs.setdefault("spec", arg.loc)
        if not spec:
            raise ScheduleDeclError("%schedule needs a schedule: hourly, daily, weekly, monthly, "
                                "@daily, every:30m, @once or a cron expression", item.loc)
        if self.schedule_loc is not None:
            raise ScheduleDeclError(f"a second %schedule (the first is at {self.schedule_loc}): keep one", item.loc)
        self.schedule = {"spec": " ".join(spec), **fields}
        self.schedule_loc = item.loc
        self.schedule_locs = locs

    def step(self, decl: StepDecl, scope: Scope, place: _Place) -> Step:
        roots: set[str] = set()
        outputs, out_tags = self.targets(decl.outputs, scope, place, roots, inputs=False)
        inputs, in_tags = self.targets(decl.inputs, scope, place, roots, inputs=True)
        error = None
        try:
            options, parts = self.options_and_parts(decl, scope, place, inputs, outputs)
        except WorkflowError as err:
            # Its names are sound, so the graph is too: the step is an error only once selected (as in Drake).
            options, parts, error = _DEFAULT_OPTIONS, (), err
        return Step(len(self.steps), outputs, inputs, out_tags, in_tags, options, parts, scope.visible(),
                    place.workdir, decl.loc, frozenset(roots) if roots else _NO_ROOTS, error=error)

    def options_and_parts(self, decl: StepDecl, scope: Scope, place: _Place, inputs, outputs):
        """The step's options and body parts; a WorkflowError in them makes the step a broken one."""
        if decl.options:
            given, body = self.options_and_body(decl, scope, place)
            options = build_options(given)
        elif decl.body:  # most steps: no options, their own body
            body, options = decl.body, _DEFAULT_OPTIONS
        else:
            raise WorkflowError("step has an empty body: indent its commands below the header", decl.loc)
        counts = {"INPUT": len(inputs), "OUTPUT": len(outputs)}
        return options, _body_parts(body, scope, counts, _placeholders(outputs + inputs))

    def targets(self, texts, scope: Scope, place: _Place, roots: set[str], inputs: bool):
        files: list[Target] = []
        tags: list[str] = []
        for text in _windows(texts):
            value = text.value
            if not SPECIAL.isdisjoint(value):  # $[VAR], $(cmd), quotes or escapes to expand
                value, used = expand(value, text.loc, scope, place.workdir)
                roots |= used
            first = value[:1]
            if first == "%":
                tags.append(value[1:])
                continue
            optional = first == "?"
            if optional and not inputs:
                raise WorkflowError("only inputs can be optional: remove the '?' from this output", text.loc)
            if optional:
                value = value[1:]
            if not value:
                raise WorkflowError("empty file name", text.loc)
            name = resolve_name(value, scope.values["BASE"], place.workdir)
            if len(name) > NAME_MAX // 4:  # shorter names cannot be too long even in 4-byte characters
                _check_length(name, text.loc)
            files.append(Target(name, text.value, optional, SourceLocation(text.path, text.line, text.col)))
        return tuple(files), tuple(tags)

    def options_and_body(self, decl: StepDecl, scope: Scope, place: _Place):
        """Merge the step's options over its method's and pick the body by method-mode."""
        def expander(raw: str, loc: SourceLocation) -> str:
            return expand(raw, loc, scope, place.workdir)[0]

        given = parse_options(decl.options, expander)
        mode = given.get("method-mode", ("use", None))[0]
        if "method" not in given:
            if "method-mode" in given:
                raise WorkflowError("method-mode needs a method: add method:NAME", given["method-mode"][1])
            if not decl.body:
                raise WorkflowError("step has an empty body: indent its commands below the header", decl.loc)
            return given, decl.body
        name, loc = given["method"]
        found = scope.methods.get(name)
        if found is None:
            raise WorkflowError(f"undefined method: {name}{did_you_mean(name, scope.methods)} "
                                "(a method must be defined above the steps that use it)", loc)
        merged: Given = parse_options(found.decl.options, expander)
        merged.update(given)
        return merged, _mode_body(mode, found.decl, decl, loc)


def _mode_body(mode: str, method: MethodDecl, decl: StepDecl, loc: SourceLocation):
    if not method.body and mode == "use":
        raise WorkflowError(f"method {method.name}() has an empty body: give it commands, "
                            "or use method-mode:append or replace with the step's own", loc)
    if mode == "use":
        if decl.body:
            raise WorkflowError(f"step uses method {method.name}() in use mode but has its own body "
                                "(add method-mode:append or method-mode:replace)", decl.body[0].loc)
        return method.body
    if mode == "append":
        return method.body + decl.body
    if not decl.body:
        raise WorkflowError("step has an empty body: method-mode:replace needs the step's own commands",
                            decl.loc)
    return decl.body


def _check_length(name: str, loc: SourceLocation) -> None:
    """A local name the system would refuse (ENAMETOOLONG) is a located error, before anything runs."""
    if is_url(name):
        return
    raw = os.fsencode(name)
    if len(raw) > PATH_MAX:
        raise WorkflowError(f"file name too long: {len(raw)} bytes (at most {PATH_MAX})", loc)
    longest = max(raw.split(b"/"), key=len)
    if len(longest) > NAME_MAX:
        raise WorkflowError(f"file name too long: a part of it has {len(longest)} bytes (at most {NAME_MAX}): "
                            f"{os.fsdecode(longest[:24])}...", loc)


def resolve_name(value: str, base: str, workdir: str) -> str:
    """The matching key of a file name: URLs as written, local paths absolute and normalised."""
    if base.startswith("/") and value[0] not in "!/" and "://" not in value and not value.startswith("file:"):
        joined = base + ("" if base.endswith("/") else "/") + value
        if "//" not in joined and "/." not in joined and not joined.endswith("/"):
            return joined  # already what normpath would make of it
    if value.startswith("file:"):
        value = value[5:]
        if value.startswith("//"):
            value = value[2:]
    if value.startswith("!"):
        value = value[1:]
    elif not (value.startswith("/") or is_url(value)) and base:
        value = base + ("" if base.endswith(("/", ":")) else "/") + value
    if value.startswith("/"):
        return os.path.normpath(value)
    return value if is_url(value) else os.path.normpath(os.path.join(workdir, value))


def _placeholders(targets: tuple[Target, ...]) -> frozenset[str]:
    """A pattern step's placeholder names (`{city}`), which its body reads as `$[city]`."""
    if not any("{" in t.name for t in targets):
        return _NO_ROOTS
    return frozenset(name for t in targets for name in PLACEHOLDER.findall(t.name))


def _body_parts(lines: tuple[BodyLine, ...], scope: Scope, counts: dict[str, int], wildcards: frozenset[str]):
    """Body text with $[VAR] substituted and step variables kept as StepVar placeholders."""
    if len(lines) == 1 and "$[" not in lines[0].text:  # the common one-line body
        return (lines[0].text,) if lines[0].text else ()
    parts: list = []
    for i, line in enumerate(lines):
        text = line.text + ("\n" if i < len(lines) - 1 else "")
        if "$[" not in text:
            parts.append(text)
            continue
        pos = 0
        for m in _BODY_VAR.finditer(text):
            _no_stray_open(text, pos, m.start(), line)
            parts.append(text[pos:m.start()])
            pos = m.end()
            parts.append(_body_var(m.group(1), at(line.loc, m.start()), scope, counts, wildcards))
        _no_stray_open(text, pos, len(text), line)
        parts.append(text[pos:])
    return _merge_strings(parts)


def _no_stray_open(text: str, start: int, end: int, line: BodyLine) -> None:
    """A `$[` that is not `$[NAME]` is a typo (as in Drake), not bash's old `$[...]` arithmetic."""
    found = text.find("$[", start, end)
    if found >= 0:
        close = text.find("]", found, end)
        what = "unterminated $[" if close < 0 else f"bad variable reference {text[found:close + 1]}"
        raise WorkflowError(f"{what}: a variable is written $[NAME] (letters, digits, _ and -)",
                            at(line.loc, found))


def _body_var(name: str, loc: SourceLocation, scope: Scope, counts: dict[str, int], wildcards: frozenset[str]):
    if name in wildcards:
        return StepVar(name)  # filled in per expansion
    m = _STEP_VAR.match(name)
    if not m:
        return scope.lookup(name, loc)
    kind, suffix = m.groups()
    if suffix in ("S", "N"):
        return StepVar(name)
    index = int(suffix) if suffix else 0
    if index >= counts[kind]:
        have = counts[kind]
        noun = kind.lower() + ("" if have == 1 else "s")
        raise WorkflowError(f"$[{name}] is out of range: the step has {have} {noun}", loc)
    return StepVar(name)


def _merge_strings(parts: list) -> tuple:
    out: list = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return tuple(out)
