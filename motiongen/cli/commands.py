"""The ``motiongen`` command: a thin typer app; each sub-command lives in its own module of
``motiongen.cli`` and adds itself with ``register(app)``."""

from __future__ import annotations

import sys

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
    """Run a command app the project's way: one ``error:`` line and exit 1 for user errors."""
    try:
        typer_app()
    except MotionGenError as e:
        # Messages quote user text and shapes like [x, y, c]: not rich markup.
        err.print(f"[bold red]error:[/] {escape(str(e))}", soft_wrap=True, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
