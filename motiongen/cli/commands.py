"""The ``motiongen`` command: a thin typer app; each sub-command lives in its own module of
``motiongen.cli`` and adds itself with ``register(app)``."""

from __future__ import annotations

import errno
import sys
from pathlib import Path
from typing import NoReturn

import click
import typer
from rich.markup import escape

from motiongen.cli import (
    capture,
    checkpoint,
    control,
    data,
    evaluate,
    evaluators,
    export,
    generate,
    index,
    render,
    score,
    serve,
    stick,
    story,
    style,
    train,
)
from motiongen.cli.console import err
from motiongen.errors import MotionGenError

# Usage errors: click's, and typer's own where it carries its own copy of click (0.2x).
_CLICK_ERRORS = tuple(
    c for c in (click.ClickException, getattr(typer, "TyperException", None)) if c is not None
)

app = typer.Typer(
    help="Generate, edit, score and render 3-D human motion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
for module in (
    generate,
    control,
    data,
    render,
    train,
    score,
    evaluate,
    serve,
    evaluators,
    style,
    export,
    checkpoint,
    capture,
    story,
    index,
    stick,
):
    module.register(app)


def main() -> None:
    """Entry point: user errors print one line and exit 1, never a traceback."""
    run(app)


def run(typer_app: typer.Typer) -> None:
    """Run a command app the project's way: one ``error:`` line and exit 1 for user errors,
    options of the wrong type or unknown ones included (click's own answer was a framed usage
    block and exit 2)."""
    try:
        prog = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else ""
        prog = "motiongen" if not prog or prog.endswith(".py") else prog  # python -m motiongen.cli
        command = typer.main.get_command(typer_app)
        _tidy_help(command)
        if twice := repeated_option(command, sys.argv[1:]):
            _error(twice)
        code = command(standalone_mode=False, prog_name=prog)
    except _CLICK_ERRORS as e:
        if type(e).__name__ == "NoArgsIsHelpError":  # the bare command: its help, as before
            print(e.format_message())
            sys.exit(0)
        ctx = getattr(e, "ctx", None)
        where = f" (see {ctx.command_path} --help)" if ctx is not None else ""
        _error(f"{e.format_message()}{where}")
    except MotionGenError as e:
        _error(str(e))
    except (KeyboardInterrupt, click.Abort, typer.Abort):
        _interrupted()
    except OSError as e:  # a path the command cannot read or write (not a folder, no rights)
        _error(_os_problem(e))
    if code == 130:  # Ctrl-C: typer turns KeyboardInterrupt into a quiet exit code 130
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


def _tidy_help(command: click.Command) -> None:
    """Two things typer's rich ``--help`` gets wrong, mended on the built commands: on/off
    flags get a blank type column (typer 0.29 prints ``<bool>`` beside them, which reads as a
    value to give: ``--literal <bool>``, a teacher's trial), and a command list's one-line
    descriptions run as one line (it kept the docstrings' line breaks, ragged mid-sentence)."""
    if command.help and not command.short_help:
        first = command.help.strip().split("\n\n")[0]
        command.short_help = " ".join(first.split())
    for param in getattr(command, "params", ()):
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
    made = getattr(command, "get_help_option", None)
    if made is not None:  # --help is made per call, outside params

        def help_option(ctx: click.Context, made=made) -> click.Option | None:
            option = made(ctx)
            if option is not None and option.metavar is None:
                option.metavar = ""
            return option

        command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _tidy_help(sub)


# Options whose repeats read as asking for more (a blend of three styles), where click keeps
# the last silently: ``restyle --blend happy:0.3 --blend angry:0.3`` blended towards angry
# alone and said nothing (an animator's trial). Any other option repeated takes its last value,
# as shell scripts that append an override expect.
ONE_ONLY = {"--blend": "a restyle blends towards one other style", "--style": "one style"}


def repeated_option(command: click.Command, args: list[str]) -> str | None:
    """What is wrong when ``args`` give one of ``ONE_ONLY`` more than once, or None."""
    # duck-typed: typer may carry its own copy of click, whose classes are not these
    cmd, rest = command, list(args)
    while hasattr(cmd, "list_commands"):  # a group: down to the sub-command the words name
        names = [a for a in rest if not a.startswith("-")]
        sub = cmd.get_command(cmd.context_class(cmd), names[0]) if names else None
        if sub is None:
            return None
        rest = rest[rest.index(names[0]) + 1 :]
        cmd = sub
    if "--" in rest:
        rest = rest[: rest.index("--")]
    for param in cmd.params:
        if param.param_type_name != "option" or param.multiple or param.is_flag:
            continue
        for name in (o for o in param.opts if o in ONE_ONLY):
            given = [
                rest[i + 1] if a == name and i + 1 < len(rest) else a.partition("=")[2]
                for i, a in enumerate(rest)
                if a == name or a.startswith(f"{name}=")
            ]
            if len(given) > 1:
                times = "twice" if len(given) == 2 else f"{len(given)} times"
                values = ", ".join(repr(v) for v in given)
                return f"{name} was given {times} ({values}): {ONE_ONLY[name]}; give it once"
    return None


def _interrupted() -> NoReturn:
    err.print(
        "interrupted (a training run continues from its last save with --resume)",
        highlight=False,
    )
    sys.exit(130)


def _os_problem(e: OSError) -> str:
    """'cannot write afile/x.bvh: not a directory (...)' from an OSError, for one error line."""
    reason = (e.strerror or str(e)).lower()
    where = e.filename if e.filename is not None else "a file"
    hint = {
        errno.ENOTDIR: "a part of the path is a file, not a folder",
        errno.EISDIR: "give a file name, not a folder",
        errno.EEXIST: "a file stands where a folder is needed",
        errno.ENOENT: "check that its folder exists",
        errno.EACCES: "choose a folder you may write to",
        errno.EPERM: "choose a folder you may write to",
        errno.EROFS: "choose a folder on a writable disk",
        errno.ENOSPC: "free some disk space",
    }.get(e.errno or 0, "check the path")
    return f"cannot use {where}: {reason}; {hint}"


def _error(message: str) -> NoReturn:
    # Messages quote user text and shapes like [x, y, c]: not rich markup.
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True, highlight=False)
    sys.exit(1)


if __name__ == "__main__":
    main()
