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
