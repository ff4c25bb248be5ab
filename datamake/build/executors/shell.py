"""How shell bodies run: `bash -e -o pipefail`, except that a reader leaving a pipeline early is no failure.

Under `pipefail`, `sort big | head -n 5` fails at random with status 141: `head` exits after five
lines and the writer still writing is killed by SIGPIPE. Plain bash (without `pipefail`) sees
nothing wrong, and neither does Drake. The prelude below keeps `-e -o pipefail` for every other
failure and forgives exactly this one: a failing pipeline whose last command succeeded and whose
other commands all succeeded or died of SIGPIPE.

How, in bash terms (an ERR trap runs where `-e` would exit, with `PIPESTATUS` still intact):
- the trap decides; when it forgives, it turns `-e` off (bash would exit right after the trap
  otherwise) and from then on stands in for `-e` itself in that shell: its next failure exits;
- `-E` passes the trap to functions, subshells and command substitutions, so a function or
  `$(...)` whose last command was a forgiven pipeline returns success too;
- an EXIT trap (unless the body set its own) turns the script's final 141 into 0 when its last
  command was forgiven.
The prelude is one line put before the body's first line, so bash's line numbers stay the body's.
"""
from __future__ import annotations

import re

SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what the shell reports for a command killed by SIGPIPE

_PRELUDE = (
    "set -E; "
    "__datamake_err() { local p; if [[ $1 != 141 || -z $__datamake_sigpipe ]]; then "
    "for p in \"${@:2}\"; do if [[ $p != 0 && $p != 141 ]]; then __datamake_failed \"$1\"; return 0; fi; done; "
    "if (( $# < 3 )) || [[ ${!#} != 0 ]]; then __datamake_failed \"$1\"; return 0; fi; fi; "
    "__datamake_sigpipe=1; if [[ -z $(trap -p EXIT) ]]; then trap '__datamake_exit \"$?\" \"$BASH_COMMAND\"' EXIT; fi; "
    "if [[ $- == *e* ]]; then set +e; __datamake_errexit=$BASHPID; fi; }; "
    "__datamake_failed() { __datamake_sigpipe=; if [[ $__datamake_errexit == \"$BASHPID\" ]]; then exit \"$1\"; fi; }; "
    "__datamake_exit() { if [[ $1 == 141 && -n $__datamake_sigpipe && $2 != exit* ]]; then exit 0; fi; }; "
    "trap '__datamake_err \"$?\" \"${PIPESTATUS[@]}\"' ERR; "
)


def strict_argv(bash: str) -> list[str]:
    """The interpreter part of a strict shell step's command (the script follows it)."""
    return [bash, "-e", "-o", "pipefail"]


def strict_script(body: str) -> str:
    """The body with the SIGPIPE-forgiving prelude on its first line."""
    return _PRELUDE + body


def sigpipe_hint(returncode: int | None) -> str | None:
    """What to say when a step still ends in SIGPIPE (its last command, or a lone command, died of it)."""
    if returncode == SIGPIPE_STATUS:
        return (f"exit {SIGPIPE_STATUS}: killed by SIGPIPE (a command wrote to a pipe whose reader had "
                "exited); a writer cut short in a pipeline whose last command succeeds is no failure, "
                "so if this is expected, add `|| [ $? -eq 141 ]` after the command")
    if returncode == -13:
        return "killed by SIGPIPE (it wrote to a pipe whose reader had exited)"
    return None


# One line of words made of plain characters and `$NAME` / `${NAME}` references: no quoting, other
# expansion, globbing, redirection, operator or comment.
_WORD = re.compile(r"(?:[A-Za-z0-9_./,:=+@%-]|\$[A-Za-z_][A-Za-z0-9_]*|\$\{[A-Za-z_][A-Za-z0-9_]*\})+")
_REFERENCE = re.compile(r"\$(?:([A-Za-z_][A-Za-z0-9_]*)|\{([A-Za-z_][A-Za-z0-9_]*)\})")
_GLOB = re.compile(r"[*?\[\\]")  # what pathname expansion would act on in a value
_BLANKS = re.compile(r"[ \t]+")  # what separates words on a command line
_FIELD_SEPARATORS = re.compile(r"[ \t\n]+")  # bash's default IFS (bash never takes IFS from the environment)
_BASH_OWN = frozenset(
    ". : [ alias bg bind break builtin caller cd command compgen complete compopt continue declare dirs disown "
    "echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile "
    "popd printf pushd pwd read readarray readonly return set shift shopt source suspend test times trap true "
    "type typeset ulimit umask unalias unset wait if then else elif fi case esac for select while until do done "
    "in function time coproc".split())
# Variables bash sets itself whatever the environment says, and those that make it do something first.
_BASH_SETS = frozenset(
    "PWD OLDPWD SHLVL UID EUID PPID RANDOM SRANDOM SECONDS LINENO HOSTNAME HOSTTYPE OSTYPE MACHTYPE GROUPS IFS "
    "OPTIND OPTARG OPTERR PS1 PS2 PS4 EPOCHSECONDS EPOCHREALTIME HISTCMD FUNCNAME DIRSTACK PIPESTATUS COLUMNS "
    "LINES _".split())
_BASH_STARTUP = ("BASH_ENV", "SHELLOPTS", "BASHOPTS")


class _NotPlain(Exception):
    pass


def plain_command(body: str, env: dict[str, str]) -> list[str] | None:
    """The argv bash would run for a body that is one simple command of plain words; else None.

    Such a body (`cp $INPUT $OUTPUT`) is run directly, as make does, without a bash to start
    first: `-e` and `pipefail` change nothing for one command, and its exit status is the
    command's own. References to exported variables are expanded and split as bash does
    (on spaces, tabs and newlines; an empty one vanishes). Anything else bash would interpret
    (quotes, other expansions, a value with glob characters, redirections, operators, a second
    line, a comment, an assignment, a builtin or keyword, an exported function, a variable bash
    sets itself, BASH_ENV and the like) keeps the shell.
    """
    raw = _BLANKS.split(body.strip(" \t\n"))
    if "=" in raw[0] or any(env.get(v) for v in _BASH_STARTUP):
        return None
    try:
        argv = [field for word in raw for field in _FIELD_SEPARATORS.split(_expand(word, env)) if field]
    except _NotPlain:
        return None
    if not argv or argv[0] in _BASH_OWN or f"BASH_FUNC_{argv[0]}%%" in env:
        return None
    return argv


def _expand(word: str, env: dict[str, str]) -> str:
    if not _WORD.fullmatch(word):
        raise _NotPlain
    return _REFERENCE.sub(lambda m: _value(m.group(1) or m.group(2), env), word) if "$" in word else word


def _value(name: str, env: dict[str, str]) -> str:
    value = env.get(name)
    if value is None or name in _BASH_SETS or name.startswith("BASH") or _GLOB.search(value):
        raise _NotPlain
    return value
